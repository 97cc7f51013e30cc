"""``lstm-atlas matrix``: the rootdir it gives pytest, its closing table, and (tf) a failing environment
reported while another runs to its report."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest

from lstm_atlas import cli
from lstm_atlas.install import envs
from lstm_atlas.install.matrix_run import NOT_ALL_RAN, EnvOutcome, rootdir_for, summary_lines
from lstm_atlas.install.plan import plan

from .conftest import CASES_DIR, ROOT


def test_the_rootdir_is_above_every_cases_folder(tmp_path):
    (tmp_path / "a" / "cases" / "fam").mkdir(parents=True)
    (tmp_path / "b" / "cases").mkdir(parents=True)
    file = tmp_path / "a" / "cases" / "fam" / "x.yaml"
    file.write_text("")
    assert rootdir_for([tmp_path / "a" / "cases"]) == tmp_path / "a"
    assert rootdir_for([file]) == tmp_path / "a"
    assert rootdir_for([file, tmp_path / "b" / "cases"]) == tmp_path


def test_the_closing_table_gives_each_step_its_time_and_each_failure_its_log(tmp_path):
    ok, bad = (EnvOutcome(p) for p in plan(["2.15", "2.21"], ROOT / "constraints", tmp_path, "x", (3, 11)))
    ok.state, ok.reused, ok.env_s, ok.run_s, ok.counts = "ran", True, 0.2, 31.0, {"pass": 6, "skip": 6}
    bad.state, bad.env_s, bad.reason, bad.log = "failed", 3.0, "RuntimeError: uv exited 2", tmp_path / "tf221.log"
    lines = summary_lines([ok, bad], 0.7, tmp_path / "report")
    assert lines[1].split() == ["tf215", "3.11", "reused", "0", "s", "31", "s", "6", "pass,", "6", "skip"]
    assert lines[2].startswith("tf221") and f"FAILED: RuntimeError: uv exited 2 (log {tmp_path / 'tf221.log'})" \
        in lines[2]
    assert lines[3] == f"report: {tmp_path / 'report'} (merged in 0.7 s)"


def test_bad_arguments_are_one_line_before_anything_is_made(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["matrix", "--tf", "2.99"]) == 2
    assert "no constraints for TF 2.99" in capsys.readouterr().err
    assert cli.main(["matrix", "--tf", "2.15", "--jobs", "0"]) == 2
    assert cli.main(["matrix", "missing-folder", "--tf", "2.15"]) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.tf
def test_a_failing_environment_is_reported_while_the_other_finishes(tmp_path, monkeypatch, capsys):
    """tf215 cannot be made; tf221 'is made' as this interpreter (a script that runs it on this checkout)."""
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(CASES_DIR / "input-rank" / "lstm-call-on-2d-tensor.yaml", cases)

    def fake_env(p, source, log):
        if p.key == "tf215":
            raise RuntimeError("`uv pip install` exited 1 (see the log)")
        python = envs.env_python(p.env_dir)
        python.parent.mkdir(parents=True, exist_ok=True)
        python.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT / 'harness'} exec {sys.executable} \"$@\"\n")
        python.chmod(python.stat().st_mode | stat.S_IEXEC)
        return True

    monkeypatch.setattr(envs, "ensure_env", fake_env)
    monkeypatch.setenv("LSTM_ATLAS_CACHE", str(tmp_path / "user-cache"))
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path / "results-cache"))
    monkeypatch.chdir(tmp_path)
    status = cli.main(["matrix", str(cases), "--tf", "2.15,2.21", "--jobs", "2", "--out", "out", "--no-progress"])
    out, err = capsys.readouterr()
    assert status == NOT_ALL_RAN, out + err
    assert "1 of 2 environments did not run" in err
    assert "tf215: FAILED (RuntimeError: `uv pip install` exited 1 (see the log))" in out
    assert "tf221: ran" in out
    assert sorted(p.name for p in (tmp_path / "out" / "results").glob("*.json")) == ["tf221.json"]
    assert "exited 1" in (tmp_path / "out" / "logs" / "tf215.log").read_text()
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "1 cases, 1 environments" in report
    assert Path(tmp_path / "results-cache").is_dir()  # the shared result cache, as asked
