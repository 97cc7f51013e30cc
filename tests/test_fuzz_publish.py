"""Nothing published is overwritten by accident (issue 17): ``lstm-atlas fuzz`` in a fresh project, as the
README's first command, and runs killed by SIGINT, SIGTERM or SIGKILL at any moment, on real TensorFlow.

Each test builds a project folder whose ``reports/`` holds published files (a map, a corpus, candidates),
runs the real command in it as a subprocess and checks those files byte for byte afterwards.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstm_atlas.fuzz.corpus import make_corpus, read_corpus, write_corpus

from .conftest import CASES_DIR, ROOT

pytestmark = pytest.mark.tf

SENTINEL_MAP = {"schema": "lstm-atlas-fuzz-map", "schema_version": 2, "env": "tf215", "sentinel": True,
                "environment": {"tensorflow": "2.15.1", "keras": "2.15.0"},
                "summary": {"corpus": None, "examples": 1}, "signatures": [], "cells": {}, "outcomes": {}}


def _examples(n: int) -> list[dict]:
    out = []
    for i in range(n):
        rank = 2 + i % 3
        out.append({"layer": ("LSTM", "GRU", "SimpleRNN")[i % 3], "config": {"units": 1 + i % 4}, "masking": False,
                    "declared": None, "input": {"shape": [2, 3, 2][:rank] + [1] * max(0, rank - 3),
                                                "dtype": "float32", "container": "ndarray"},
                    "step": ("call", "predict")[i % 2]})
    return out


@pytest.fixture
def project(tmp_path):
    """A project with published results: tf215's map, the corpus, a candidate file."""
    reports = tmp_path / "reports"
    (reports / "fuzz" / "tf215").mkdir(parents=True)
    (reports / "fuzz" / "tf215" / "map.json").write_text(json.dumps(SENTINEL_MAP))
    write_corpus(reports / "fuzz" / "corpus.json", make_corpus(_examples(40), [{"env": "test"}]))
    (reports / "candidates" / "tf221").mkdir(parents=True)
    (reports / "candidates" / "tf221" / "fuzz-valueerror-0000.yaml").write_text("id: kept\n")
    return tmp_path


def _published(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted((project / "reports").rglob("*"))
            if p.is_file() and p.name != ".publish.lock"}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lstm_atlas.cli", "fuzz", *args, "--cases", str(CASES_DIR),
            "--merged", str(ROOT / "reports" / "merged.json"), "--no-progress"]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT / "harness"), ATLAS_ENV="tf221", TF_CPP_MIN_LOG_LEVEL="2")


def _scratch_maps_parse(project: Path) -> None:
    for path in (project / "results").rglob("*.json"):
        json.loads(path.read_text())  # never a half-written file


def test_the_first_fuzz_of_a_new_user_writes_to_scratch_and_leaves_reports_alone(project):
    before = _published(project)
    done = subprocess.run(_command("--examples", "5"), cwd=project, env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert _published(project) == before
    scratch = json.loads((project / "results" / "fuzz" / "tf221" / "map.json").read_text())
    assert scratch["summary"]["examples"] >= 5
    assert (project / "results" / "fuzz" / "tf221" / "corpus.json").exists()


def test_a_complete_replay_publishes_its_map_and_keeps_everything_else(project):
    before = _published(project)
    done = subprocess.run(_command("replay", "--publish"), cwd=project, env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    after = _published(project)
    new = json.loads(after.pop("reports/fuzz/tf221/map.json"))
    corpus = read_corpus(project / "reports" / "fuzz" / "corpus.json")
    assert new["summary"]["corpus"] == corpus["corpus"] and set(new["outcomes"]) == {e["id"] for e in
                                                                                      corpus["examples"]}
    for name in ("reports/fuzz/tf215/map.json", "reports/fuzz/corpus.json",
                 "reports/candidates/tf221/fuzz-valueerror-0000.yaml"):
        assert after[name] == before[name], f"{name} changed"
    assert "tf221" in after["reports/fuzz/index.md"].decode() and "tf215" in after["reports/fuzz/index.md"].decode()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_a_killed_replay_never_deletes_or_truncates_published_results(project, signum):
    before = _published(project)
    proc = subprocess.Popen(_command("replay", "--publish"), cwd=project, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    # at any moment: while TensorFlow imports, while examples run, or while files are written
    time.sleep(random.Random(int(signum)).uniform(1.0, 12.0))
    proc.send_signal(signum)
    try:
        proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the replay did not stop within 120 s of {signum.name}")
    after = _published(project)
    for name, content in before.items():
        assert after.get(name) == content, f"{name} was deleted or changed by a killed run"
    published_map = project / "reports" / "fuzz" / "tf221" / "map.json"
    if published_map.exists():  # only a replay that finished before the signal publishes
        corpus = read_corpus(project / "reports" / "fuzz" / "corpus.json")  # the 40 drawn, deduplicated
        assert json.loads(published_map.read_text())["summary"]["examples"] == len(corpus["examples"])
    _scratch_maps_parse(project)


def test_a_killed_explore_run_keeps_the_published_candidates_and_corpus(project):
    before = _published(project)
    proc = subprocess.Popen(_command("--profile", "explore", "--time", "60", "--publish", "--seed", "3"),
                            cwd=project, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(14)  # past the TensorFlow import: examples are running (the old driver had deleted them by now)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert _published(project) == before
    _scratch_maps_parse(project)
