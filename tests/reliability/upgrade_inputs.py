"""`lstm-atlas upgrade` given inputs that are not there or not what it reads: one line, exit status 2."""

from __future__ import annotations

import shutil

from ..conftest import ROOT
from .table import Row, assert_one_line_error, cli


def _missing_file(tmp):
    assert_one_line_error(cli(["upgrade", "2.15", "2.16", str(tmp / "absent.json")], cwd=tmp), "absent.json")


def _not_json(tmp):
    (tmp / "bad.json").write_text("{oops")
    assert_one_line_error(cli(["upgrade", "2.15", "2.16", "bad.json"], cwd=tmp), "bad.json: not JSON")


def _no_inputs(tmp):
    # without --merged the shipped matrix would be read: name one that is not there
    assert_one_line_error(cli(["upgrade", "2.15", "2.16", "--merged", "gone/merged.json"], cwd=tmp),
                          "no results files in results/ and no gone/merged.json")


def _unknown_environment(tmp):
    (tmp / "reports").mkdir()
    shutil.copy(ROOT / "reports" / "merged.json", tmp / "reports" / "merged.json")
    result = cli(["upgrade", "2.15", "9.9", "reports/merged.json"], cwd=tmp)
    assert_one_line_error(result, "no results for '9.9'", "tf215 (TF 2.15.1)")
    assert result.stdout == ""


ROWS = [
    Row("traceback", "upgrade names a missing results file", _missing_file, seconds=20),
    Row("traceback", "upgrade given a file that is not JSON", _not_json, seconds=20),
    Row("traceback", "upgrade with no results files and no merged matrix", _no_inputs, seconds=20),
    Row("traceback", "upgrade names an environment the matrix lacks", _unknown_environment, seconds=20),
]
