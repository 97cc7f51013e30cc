"""action.yml (the reusable GitHub Action), the README's workflow that uses it, and .pre-commit-hooks.yaml."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from lstm_atlas import cli

from .conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
README = (ROOT / "README.md").read_text("utf-8")
DATA = Path(__file__).parent / "data"


def _step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def test_the_action_is_composite_and_uses_only_inputs_it_declares():
    assert ACTION["runs"]["using"] == "composite"
    text = (ROOT / "action.yml").read_text("utf-8")
    assert set(re.findall(r"inputs\.([\w-]+)", text)) <= set(ACTION["inputs"])
    assert all("shell" in s for s in ACTION["runs"]["steps"] if "run" in s)


def _readme_yaml(marker: str) -> dict:
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if marker in b)
    return yaml.safe_load(block)


def test_the_readme_workflow_runs_a_job_matrix_and_a_merge_job_with_this_action():
    workflow = _readme_yaml("uses: ")
    jobs = workflow["jobs"]
    runs = [j for j in jobs.values() if "strategy" in j]
    merges = [j for j in jobs.values() if "needs" in j]
    assert len(runs) == 1 and len(merges) == 1 and len(runs[0]["strategy"]["matrix"]["tf"]) >= 2
    assert merges[0].get("if") == "always()"  # a failing version still gets its report
    for job in (runs[0], merges[0]):
        used = [s for s in job["steps"] if str(s.get("uses", "")).split("@")[0].endswith("lstm-error-atlas")]
        assert len(used) == 1 and set(used[0].get("with", {})) <= set(ACTION["inputs"])
    assert [s for s in merges[0]["steps"] if s.get("with", {}).get("mode") == "merge"]


def test_the_merge_step_merges_what_the_run_jobs_uploaded(tmp_path):
    """The step's own script, run with lstm-atlas on PATH, over artifacts laid out as download-artifact does."""
    out = tmp_path / "lstm-atlas-matrix"
    for name in ("results-tf215.json", "results-tf221.json"):
        folder = out / "downloaded" / f"lstm-atlas-results-{name[8:13]}" / "results"
        folder.mkdir(parents=True)
        shutil.copy(DATA / name, folder / name.removeprefix("results-"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "lstm-atlas"
    shim.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT / 'harness'} exec {sys.executable} -m lstm_atlas.cli \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", OUT=str(out),
               GITHUB_OUTPUT=str(tmp_path / "output"), GITHUB_STEP_SUMMARY=str(tmp_path / "summary"))
    done = subprocess.run(["bash", "-e", "-c", _step("Merge them into one report")["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "output").read_text() == f"report={out}/report\n"
    assert (tmp_path / "summary").read_text() == (out / "report" / "report.md").read_text()
    assert "2 environments" in (out / "report" / "report.md").read_text()


def test_the_pre_commit_hook_validates_case_files_only():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert hook["entry"] == "lstm-atlas validate" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("cases/input-rank/a.yaml") and files.search("ml/cases/b.yml")
    assert not files.search("tests/data/explain_wild.yaml") and not files.search("mycases/a.yaml")
    config = _readme_yaml("id: lstm-atlas-validate")
    assert config["repos"][0]["hooks"][0]["id"] == hook["id"]
    # what pre-commit runs: the entry with the staged files, a bad one named on one line
    assert cli.main(["validate", str(ROOT / "cases" / "input-rank" / "lstm-call-on-2d-tensor.yaml")]) == 0
