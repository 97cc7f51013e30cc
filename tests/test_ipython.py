"""``%load_ext lstm_atlas`` (lstm_atlas/explain/ipython.py): in an IPython shell, and in a notebook
executed by nbclient on an ipykernel kernel that raises the real Keras error."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from lstm_atlas.explain import hooks

from .conftest import ROOT
from .test_hooks import CASE, KERAS_2D, MESSAGE

if os.environ.get("CI"):  # .ci/run installs the notebook extra: there, a skip would hide a broken extension
    for name in ("IPython", "ipykernel", "nbclient", "nbformat"):
        importlib.import_module(name)
pytest.importorskip("IPython")


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real IPython shell in this process, its profile and history kept out of ~/.ipython."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=config)
    ip.user_ns["MESSAGE"] = MESSAGE
    yield ip
    ip.run_cell("%unload_ext lstm_atlas")
    InteractiveShell.clear_instance()


def _run(shell, capsys, code: str) -> str:
    capsys.readouterr()
    shell.run_cell(code)
    return capsys.readouterr().out


def test_loaded_it_explains_after_the_traceback_and_unloaded_it_is_gone(shell, capsys):
    assert _run(shell, capsys, "%load_ext lstm_atlas") == ""
    out = _run(shell, capsys, "raise ValueError(MESSAGE)")
    assert out.index("ValueError") < out.index(hooks.HEADER) < out.index(CASE)
    assert shell.events.callbacks["post_run_cell"].count(sys.modules["lstm_atlas.explain.ipython"]._callback) == 1
    _run(shell, capsys, "%unload_ext lstm_atlas")
    out = _run(shell, capsys, "raise ValueError(MESSAGE)")
    assert "found ndim=2" in out and hooks.HEADER not in out


def test_reloading_registers_it_once_and_good_cells_print_nothing_more(shell, capsys):
    _run(shell, capsys, "%load_ext lstm_atlas")
    _run(shell, capsys, "%reload_ext lstm_atlas")
    out = _run(shell, capsys, "raise ValueError(MESSAGE)")
    assert out.count(hooks.HEADER) == 1
    assert _run(shell, capsys, "print(1 + 1)") == "2\n"
    assert hooks.HEADER not in _run(shell, capsys, "def broken(:\n  pass"), "a SyntaxError is not an error to explain"


def test_a_failing_explainer_is_one_line_after_the_users_traceback(shell, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("index gone")

    monkeypatch.setattr(hooks, "_answer_text", broken)
    _run(shell, capsys, "%load_ext lstm_atlas")
    out = _run(shell, capsys, "raise ValueError(MESSAGE)")
    tail = out[out.index("ValueError"):]
    assert "found ndim=2" in tail
    assert tail.endswith(f"{hooks.HEADER} failed (RuntimeError: index gone); the original error is unchanged\n")


def _kernel_dir(tmp_path) -> str:
    """A kernelspec for this interpreter under tmp_path (ipykernel install --prefix): no network, no ~/.local."""
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(tmp_path / "jupyter"),
                    "--name", "atlas-explain-test"], check=True, capture_output=True, timeout=120)
    return str(tmp_path / "jupyter" / "share" / "jupyter")


@pytest.mark.tf
def test_a_notebook_cell_with_the_real_keras_error_is_followed_by_its_explanation(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", _kernel_dir(tmp_path))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))  # connection files
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # the kernel's profile and history
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "harness"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    cells = ["%load_ext lstm_atlas", KERAS_2D, "%unload_ext lstm_atlas", KERAS_2D]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="atlas-explain-test", timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    loaded, _, unloaded = nb.cells[1].outputs, nb.cells[2].outputs, nb.cells[3].outputs
    kinds = [o.output_type for o in loaded]
    error_at = kinds.index("error")
    assert loaded[error_at].ename == "ValueError" and "found ndim=2" in loaded[error_at].evalue
    after = "".join(o.text for o in loaded[error_at + 1:] if o.output_type == "stream" and o.name == "stdout")
    assert after.startswith(f"{hooks.HEADER} (TF ") and f"] {CASE}  (input-rank)" in after
    assert not any(hooks.HEADER in o.get("text", "") for o in loaded[:error_at])
    assert [o.output_type for o in unloaded if o.output_type == "error"] == ["error"]
    assert not any(hooks.HEADER in o.get("text", "") for o in unloaded), "%unload_ext removed it"
