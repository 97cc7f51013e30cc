"""``lstm-atlas run``: its pytest command line, and (tf) the library on this interpreter's TensorFlow compared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest

from lstm_atlas import cli
from lstm_atlas.install import locate
from lstm_atlas.install.run import pytest_args

from .conftest import ROOT


def test_a_shipped_library_runs_under_its_own_rootdir_and_an_empty_ini(tmp_path):
    library = locate.Located(tmp_path / "site-packages" / "lstm_atlas" / "cases", "shipped")
    args = pytest_args(library, tmp_path / "r.json", ["-k", "input-rank"], tmp_path)
    assert args[0] == str(library.path) and args[-2:] == ["-k", "input-rank"]
    assert args[args.index("--atlas-results") + 1] == str(tmp_path / "r.json")
    assert args[args.index("-c") + 1] == str(tmp_path / "pytest.ini")
    assert (tmp_path / "pytest.ini").read_text() == "[pytest]\n"  # a pyproject.toml around the venv has no say
    assert args[args.index("--rootdir") + 1] == str(library.path.parent)


def test_a_project_library_keeps_the_project_configuration(tmp_path):
    args = pytest_args(locate.Located(ROOT / "cases", "project"), tmp_path / "r.json", [], tmp_path)
    assert "-c" not in args and "--rootdir" not in args and not (tmp_path / "pytest.ini").exists()


def test_run_never_writes_over_the_published_matrix(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "--results", "reports/merged.json", "-k", "nothing"]) == 2
    assert "that is the published matrix" in capsys.readouterr().err


@pytest.mark.tf
def test_run_on_this_install_says_which_environment_it_behaves_like(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "harness"), TF_CPP_MIN_LOG_LEVEL="2",
               LSTM_ATLAS_CACHE=str(tmp_path / "cache"))
    env.pop("ATLAS_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-m", "lstm_atlas.cli", "run", "--results", str(tmp_path / "r.json"),
                           "-k", "lstm-call-on-2d-tensor", "-q"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "r.json").is_file() and (tmp_path / "cache" / "results-cache").is_dir()
    environment = json.loads((tmp_path / "r.json").read_text())["environment"]
    assert environment["keras"] == metadata.version("keras")
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(f"This install (TF {environment['tensorflow']} / Keras {environment['keras']}")
    assert " behaves like TF " in last or " differs from every environment " in last
