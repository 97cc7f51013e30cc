"""Hostile inputs: every one bounded before it is read, matched in linear time, and refused on one line.

Each row provokes one input that used to hang, read without bound or end in a traceback
(a catastrophic case pattern, a 200,000-character line, /dev/zero, a FIFO named like a case,
binary stdin, malformed and 100,000-deep JSON, a 300 KB value in an error message) and
asserts what the project promises instead.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from .table import Result, Row, assert_one_line_error, cli, pytest_run

CATASTROPHIC = r"^(?:.|\S)*QQQ$"
MERGED = Path(__file__).resolve().parents[2] / "reports" / "merged.json"


def _case(folder: Path, case_id: str, match: str) -> Path:
    """A small real case (an LSTM's three return values unpacked into two names) with ``match`` as its pattern."""
    path = folder / "cases" / "return-sequences" / f"{case_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(f"""\
        id: {case_id}
        title: "out, h = LSTM(return_state=True)(x)"
        family: return-sequences
        symptom: "ValueError: too many values to unpack (expected 2)"
        source: {{url: "https://keras.io/api/layers/recurrent_layers/lstm/"}}
        cause: An LSTM with return_state=True returns three tensors, unpacked here into two names.
        model:
          layer: {{LSTM: {{units: 4, return_state: true}}}}
        data:
          x: {{shape: [2, 3, 2]}}
        run: call
        call: {{inputs: x, unpack: 2}}
        expect:
          raises: ValueError
          stage: call
          match: {json.dumps(match)}
        fix:
          explanation: Unpack three values.
          call: {{inputs: x, unpack: 3}}
          expect: {{ok: true}}
        """), "utf-8")
    return path


def _finished_without_traceback(result: Result, *statuses: int) -> None:
    assert not result.timed_out, f"hung for {result.seconds:.1f} s"
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert result.rc in statuses, (result.rc, result.stderr[-2000:])


# --- hang ---------------------------------------------------------------------------------------

def _validate_refuses_catastrophic_pattern(tmp):
    path = _case(tmp, "catastrophic", CATASTROPHIC)
    result = cli(["validate", str(path)], cwd=tmp)
    _finished_without_traceback(result, 1)
    line = result.stdout.splitlines()[0]
    assert f"{path}:" in line and "field 'expect.match'" in line and "backtrack catastrophically" in line, line


def _pytest_on_catastrophic_pattern_finishes(tmp):
    _case(tmp, "catastrophic", CATASTROPHIC)
    result = pytest_run(["cases", "-q"], cwd=tmp, timeout=120)
    assert not result.timed_out, f"pytest hung for {result.seconds:.1f} s"
    assert result.rc == 1, (result.rc, result.stdout[-2000:])
    assert "invalid case" in result.stdout and "backtrack catastrophically" in result.stdout, result.stdout[-2000:]


def _slow_match_is_a_timeout(tmp):
    """A matcher that backtracks (Python's re on the catastrophic pattern) runs inside the item's deadline."""
    _case(tmp, "slow-match", r"too many values to unpack")
    (tmp / "cases" / "conftest.py").write_text(textwrap.dedent(f"""\
        import re
        from lstm_atlas.plugin import items

        _real = items.verdict

        def _backtracking_verdict(expectation, obs):
            if obs.status != "timeout":  # the real verdict matches nothing on a timeout
                re.search({CATASTROPHIC!r}, "x" * 40)  # hours with a backtracking engine
            return _real(expectation, obs)

        items.verdict = _backtracking_verdict
        """), "utf-8")
    out = tmp / "results.json"
    result = pytest_run(["cases", "-q", "-k", "repro", "--atlas-timeout", "8", "--atlas-no-cache",
                         "--atlas-results", str(out)], cwd=tmp, timeout=240)
    assert not result.timed_out, f"pytest hung for {result.seconds:.1f} s"
    items = [i for i in json.loads(out.read_text("utf-8"))["items"]
             if i["variant"] == "repro" and i["device"] == "cpu"]
    assert [i["verdict"] for i in items] == ["timeout"], (items, result.stdout[-2000:])
    assert "while matching its expectation" in items[0]["reason"], items[0]["reason"]


def _explain_long_line(tmp):
    result = cli(["explain"], cwd=tmp, stdin=b"ValueError: " + b"a/" * 100_000, timeout=30)
    _finished_without_traceback(result, 0, 1)
    assert result.seconds < 10, result.seconds


def _explain_cardinality_repeat(tmp):
    text = "ValueError: " + "Data cardinality is ambiguous: 'x' sizes: 8 " * 3600
    result = cli(["explain", "--json"], cwd=tmp, stdin=text.encode(), timeout=30)
    _finished_without_traceback(result, 0, 1)
    assert result.seconds < 10, result.seconds
    assert json.loads(result.stdout)[0]["family"] == "cardinality", result.stdout[:500]


def _explain_random_bytes(tmp):
    path = tmp / "noise.bin"
    path.write_bytes(os.urandom(50 * 1024 * 1024))
    result = cli(["explain", "--file", str(path)], cwd=tmp, timeout=30)
    _finished_without_traceback(result, 0, 1)
    assert result.seconds < 10, result.seconds


def _validate_fifo(tmp):
    fifo = tmp / "cases" / "x.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    result = cli(["validate", str(fifo.parent)], cwd=tmp, timeout=20)
    _finished_without_traceback(result, 1)
    assert "x.yaml" in result.stdout and "not a regular file (a FIFO)" in result.stdout, result.stdout


def _pytest_fifo(tmp):
    _case(tmp, "fine", "too many values")
    os.mkfifo(tmp / "cases" / "x.yaml")
    result = pytest_run(["cases", "-q", "--collect-only"], cwd=tmp, timeout=120)
    assert not result.timed_out, f"pytest collection hung for {result.seconds:.1f} s"
    assert result.rc == 0 and "fine" in result.stdout, (result.rc, result.stdout[-2000:])


# --- unbounded-read -----------------------------------------------------------------------------

def _explain_file_dev_zero(tmp):
    assert_one_line_error(cli(["explain", "--file", "/dev/zero"], cwd=tmp), "/dev/zero", "not a regular file")


def _explain_stdin_dev_zero(tmp):
    with open("/dev/zero", "rb") as zero:  # stdin that never ends: read up to the cap, never 14 GB
        result = cli(["explain"], cwd=tmp, stdin=zero.read(64 * 1024 * 1024), timeout=30)
    _finished_without_traceback(result, 1, 2)


def _report_results_linked_to_dev_zero(tmp):
    os.symlink("/dev/zero", tmp / "zero.json")
    assert_one_line_error(cli(["report", str(tmp / "zero.json"), "--out", str(tmp / "out")], cwd=tmp),
                          "zero.json", "not a regular file (a device)")
    assert not (tmp / "out").exists()


def _report_sparse_huge_file(tmp):
    with open(tmp / "huge.json", "wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: refused by its size, nothing is read
    assert_one_line_error(cli(["report", str(tmp / "huge.json"), "--out", str(tmp / "out")], cwd=tmp),
                          "huge.json", "larger than 256 MiB")


def _validate_huge_case(tmp):
    path = tmp / "cases" / "huge.yaml"
    path.parent.mkdir()
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024 ** 3)
    result = cli(["validate", str(path)], cwd=tmp, timeout=20)
    _finished_without_traceback(result, 1)
    assert "huge.yaml" in result.stdout and "larger than" in result.stdout, result.stdout


def _explain_index_huge(tmp):
    with open(tmp / "index.json", "wb") as handle:
        handle.truncate(1024 ** 3)
    assert_one_line_error(cli(["explain", "--index", str(tmp / "index.json"), "some error"], cwd=tmp),
                          "explain index", "larger than 64 MiB")


# --- traceback ----------------------------------------------------------------------------------

def _explain_binary_stdin(tmp):
    payload = b"\xff\xfe\x00\x80 ValueError: Input 0 of layer lstm is incompatible with the layer: " \
              b"expected ndim=3, found ndim=2\n" + bytes(range(256)) * 64
    result = cli(["explain"], cwd=tmp, stdin=payload, env={"PYTHONIOENCODING": "utf-8:strict"})
    _finished_without_traceback(result, 0, 1)


def _explain_index_not_json(tmp):
    (tmp / "index.json").write_text("{not json", "utf-8")
    assert_one_line_error(cli(["explain", "--index", str(tmp / "index.json"), "x"], cwd=tmp),
                          "explain index", "not JSON")


def _explain_index_malformed(tmp):
    (tmp / "index.json").write_text(json.dumps({"schema": "lstm-atlas-explain-index", "cases": {},
                                                "environments": {}, "messages": [{"case": 3}]}), "utf-8")
    assert_one_line_error(cli(["explain", "--index", str(tmp / "index.json"), "x"], cwd=tmp),
                          "malformed explain index")


def _explain_index_deep(tmp):
    (tmp / "index.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    assert_one_line_error(cli(["explain", "--index", str(tmp / "index.json"), "x"], cwd=tmp),
                          "nested too deeply")


def _explain_file_is_a_folder(tmp):
    assert_one_line_error(cli(["explain", "--file", str(tmp)], cwd=tmp), "not a regular file (a folder)")


def _merged_malformed(tmp):
    doc = json.loads(MERGED.read_text("utf-8"))
    doc["results"][next(iter(doc["results"]))] = {"repro": {"cpu": {"tf221": "pass"}}}
    (tmp / "merged.json").write_text(json.dumps(doc), "utf-8")
    for args in (["report", str(tmp / "merged.json"), "--out", str(tmp / "out")],
                 ["diff", "2.15", "2.21", str(tmp / "merged.json")],
                 ["catalog", "--merged", str(tmp / "merged.json"), "--out", str(tmp / "catalog.md")]):
        assert_one_line_error(cli(args, cwd=MERGED.parents[1]), "merged.json", "malformed merged file")
    assert not (tmp / "out").exists() and not (tmp / "catalog.md").exists()


def _merged_deep(tmp):
    (tmp / "deep.json").write_text('{"schema": ' + "[" * 100_000 + "]" * 100_000 + "}", "utf-8")
    assert_one_line_error(cli(["report", str(tmp / "deep.json"), "--out", str(tmp / "out")], cwd=tmp),
                          "deep.json", "nested too deeply")


def _error_repeats_no_huge_value(tmp):
    (tmp / "big.json").write_text(json.dumps({"schema": "x" * 300_000}), "utf-8")
    result = cli(["report", str(tmp / "big.json"), "--out", str(tmp / "out")], cwd=tmp)
    assert_one_line_error(result, "big.json", "characters left out")
    assert len(result.stderr) < 1000, len(result.stderr)


def _fuzz_bad_arguments(tmp):
    assert_one_line_error(cli(["fuzz", "--examples", "0", "--out", str(tmp / "f")], cwd=tmp), "--examples")
    assert_one_line_error(cli(["fuzz", "--layers", "LSTM,Transformer", "--out", str(tmp / "f")], cwd=tmp),
                          "--layers", "Transformer")
    assert_one_line_error(cli(["fuzz", "--examples", "many"], cwd=tmp), "--examples", "invalid int value")
    assert not (tmp / "f").exists()


def _explain_undecodable_argv(tmp):
    """Bytes that are not UTF-8 in the argument arrive as surrogates; RE2 and stdout cannot take those."""
    arg = os.fsdecode(b"ValueError: \xff\xfe expected ndim=3, found ndim=2")
    result = cli(["explain", arg], cwd=tmp)
    _finished_without_traceback(result, 0, 1)
    assert "cannot read" not in result.stderr and "input-rank" in result.stdout, result.stderr + result.stdout[:500]


def _explain_bad_limit(tmp):
    assert_one_line_error(cli(["explain", "--limit", "0", "x"], cwd=tmp), "--limit", "at least 1")


def _report_unreadable_path(tmp):
    (tmp / "folder.json").mkdir()
    assert_one_line_error(cli(["report", str(tmp / "folder.json"), "--out", str(tmp / "out")], cwd=tmp),
                          "folder.json", "not a regular file (a folder)")


ROWS = [
    Row("hang", "validate refuses a case pattern that backtracks catastrophically",
        _validate_refuses_catastrophic_pattern, seconds=20),
    Row("hang", "pytest on a case folder with a catastrophic pattern finishes",
        _pytest_on_catastrophic_pattern_finishes, seconds=120),
    Row("hang", "a slow match inside an item is a timeout, not a hang", _slow_match_is_a_timeout, seconds=240,
        tf=True),
    Row("hang", "explain on one 200,000-character line", _explain_long_line, seconds=30),
    Row("hang", "explain on the cardinality message repeated 3,600 times", _explain_cardinality_repeat, seconds=30),
    Row("hang", "explain --file on 50 MB of random bytes", _explain_random_bytes, seconds=40),
    Row("hang", "validate on a FIFO named x.yaml", _validate_fifo, seconds=20),
    Row("hang", "pytest collects past a FIFO named x.yaml", _pytest_fifo, seconds=120),
    Row("unbounded-read", "explain --file /dev/zero", _explain_file_dev_zero, seconds=20),
    Row("unbounded-read", "explain with /dev/zero on stdin", _explain_stdin_dev_zero, seconds=40),
    Row("unbounded-read", "report on a results file linked to /dev/zero", _report_results_linked_to_dev_zero,
        seconds=20),
    Row("unbounded-read", "report on a 300 MB results file", _report_sparse_huge_file, seconds=20),
    Row("unbounded-read", "validate a 2 GB case file", _validate_huge_case, seconds=20),
    Row("unbounded-read", "explain --index on a 1 GB file", _explain_index_huge, seconds=20),
    Row("traceback", "explain with binary bytes on strict UTF-8 stdin", _explain_binary_stdin, seconds=20),
    Row("traceback", "explain --index that is not JSON", _explain_index_not_json, seconds=20),
    Row("traceback", "explain --index of the wrong shape", _explain_index_malformed, seconds=20),
    Row("traceback", "explain --index nested 100,000 deep", _explain_index_deep, seconds=20),
    Row("traceback", "explain --file names a folder", _explain_file_is_a_folder, seconds=20),
    Row("traceback", "report, diff and catalog on a malformed merged file", _merged_malformed, seconds=60),
    Row("traceback", "report on JSON nested 100,000 deep", _merged_deep, seconds=20),
    Row("traceback", "an error message never repeats a 300 KB value", _error_repeats_no_huge_value, seconds=20),
    Row("traceback", "fuzz with bad arguments", _fuzz_bad_arguments, seconds=40),
    Row("traceback", "report on a path that is a folder", _report_unreadable_path, seconds=20),
    Row("traceback", "explain with bytes that are not UTF-8 in its argument", _explain_undecodable_argv, seconds=20),
    Row("traceback", "explain --limit 0", _explain_bad_limit, seconds=20),
]
