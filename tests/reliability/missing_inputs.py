"""Inputs that are not there: one line, exit status 2."""

from __future__ import annotations

from .table import Row, assert_one_line_error, cli


def _explain_file_missing(tmp):
    assert_one_line_error(cli(["explain", "--file", str(tmp / "absent.txt")], cwd=tmp), "absent.txt")


ROWS = [
    Row("traceback", "explain --file names a missing file", _explain_file_missing, seconds=20),
]
