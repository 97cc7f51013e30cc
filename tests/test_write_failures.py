"""Fault injection: every path the project writes through fails with ENOSPC and with EACCES.

Each write path must give one clear line naming the file, leave nothing partial behind (the
old file or none, no temporary file), and, where it is a run, go on.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from lstm_atlas import cli, files
from lstm_atlas.fuzz.candidates import write_candidate
from lstm_atlas.fuzz.errormap import write_index, write_map
from lstm_atlas.plugin import cache

from .conftest import CASES_DIR, ROOT

DATA = Path(__file__).parent / "data"
FAULTS = {errno.ENOSPC: "No space left on device", errno.EACCES: "Permission denied"}


@pytest.fixture(params=[(code, where) for code in FAULTS for where in ("fdopen", "replace")],
                ids=lambda p: f"{errno.errorcode[p[0]]}-at-{p[1]}")
def fault(request, monkeypatch):
    """Make the atomic writer fail: while writing the temporary file (fdopen) or renaming it (replace)."""
    code, where = request.param

    def failing(*args, **kwargs):
        raise OSError(code, FAULTS[code])

    monkeypatch.setattr(files.os, where, failing)
    return code


def _assert_nothing_partial(folder: Path, before: dict[str, bytes]) -> None:
    now = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert now == before, sorted(set(now) ^ set(before))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_atomic_writer_raises_one_line_and_keeps_the_old_file(tmp_path, fault):
    target = tmp_path / "results.json"
    target.write_text('{"old": true}')
    with pytest.raises(files.WriteError) as info:
        files.write_json_atomic(target, {"new": True})
    assert str(info.value) == f"cannot write {target}: {FAULTS[fault]}" and "\n" not in str(info.value)
    assert info.value.errno == fault
    _assert_nothing_partial(tmp_path, {"results.json": b'{"old": true}'})


def test_a_cache_entry_that_cannot_be_written_leaves_no_entry(tmp_path, fault):
    store = cache.ResultCache(tmp_path)
    key = "ab" * 32
    with pytest.raises(files.WriteError, match=f"cannot write .*{key}.json: {FAULTS[fault]}"):
        store.put(key, {"verdict": "pass", "nodeid": "x"}, {"tensorflow": "2.21.0"})
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert store.get(key) is None


@pytest.mark.parametrize("command", ["report", "catalog", "explain-index"])
def test_commands_that_write_say_one_line_and_exit_2(tmp_path, fault, command, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("the published report\n")
    before = _snapshot(out)
    argv = {"report": ["report", str(DATA / "results-tf221.json"), "--out", str(out)],
            "catalog": ["catalog", "--cases", str(CASES_DIR), "--merged", str(ROOT / "reports" / "merged.json"),
                        "--out", str(out / "catalog.md")],
            "explain-index": ["explain", "--build-index", "--index", str(out / "explain-index.json"),
                              "--cases", str(CASES_DIR), "--merged", str(ROOT / "reports" / "merged.json")]}[command]
    assert cli.main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("lstm-atlas: error: cannot write ") and FAULTS[fault] in err[0], err
    _assert_nothing_partial(out, before)


def test_fuzz_map_index_and_candidate_writes_fail_cleanly(tmp_path, fault):
    data = json.loads(next((ROOT / "reports" / "fuzz").glob("*/map.json")).read_text())
    for write in (lambda: write_map(data, tmp_path / "map", heatmap=False), lambda: write_index(tmp_path),
                  lambda: write_candidate(tmp_path / "candidates", {"id": "fuzz-x", "family": "input-rank"})):
        with pytest.raises(files.WriteError, match=FAULTS[fault]):
            write()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_an_unwritable_out_folder_is_one_line(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "ro"))

    monkeypatch.setattr(Path, "mkdir", refuse)  # the report's folder cannot be created
    assert cli.main(["report", str(DATA / "results-tf221.json"), "--out", str(tmp_path / "ro")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"lstm-atlas: error: cannot write {tmp_path / 'ro'}: Permission denied"], err


RESULTS_FAULT = """\
import errno, os
_real = os.{where}

def _failing(*args, **kwargs):
    if {check}:
        raise OSError(errno.{code}, os.strerror(errno.{code}))
    return _real(*args, **kwargs)

os.{where} = _failing
"""


@pytest.mark.parametrize("code", ["ENOSPC", "EACCES"])
@pytest.mark.parametrize("where, check", [("replace", "str(args[1]).endswith('r.json')"),
                                          ("fdopen", "True")])
def test_a_run_whose_results_cannot_be_written_goes_on(pytester, code, where, check):
    base = pytester.path / "cases" / "a"
    base.mkdir(parents=True)
    for name in ("one", "two"):
        (base / f"{name}.yaml").write_text(f"id: {name}\nfamily: input-rank\n")  # invalid items: no TensorFlow
    pytester.makeconftest(RESULTS_FAULT.format(where=where, check=check, code=code))
    result = pytester.runpytest_subprocess("cases", "-p", "no:cacheprovider", "--atlas-results", "out/r.json")
    text = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in text and "Traceback" not in text, text[-2000:]
    assert result.ret == 1  # the run's own status: two invalid items failed, both ran
    result.assert_outcomes(failed=2)
    warnings = [line for line in result.stdout.lines if "lstm-atlas: warning" in line]
    assert len(warnings) == 1 and os.strerror(getattr(errno, code)) in warnings[0], warnings
    assert not [p.name for p in (pytester.path / "out").iterdir() if p.name != ".r.json.lock"]

