"""The isolated child: immune to a user's folder shadowing the package; a signal is a crash,
a Python traceback is not. Real TensorFlow runs in the child."""

from __future__ import annotations

import pytest

from lstm_atlas.engine.isolate import run_isolated

from .conftest import good_case

pytestmark = pytest.mark.tf


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A user's project folder as the current directory, holding one case."""
    case = tmp_path / "cases" / "good-case.yaml"
    case.parent.mkdir()
    case.write_text(good_case())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_users_own_lstm_atlas_folder_does_not_shadow_the_package(project):
    decoy = project / "lstm_atlas"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy package was imported')\n")
    (decoy / "isolate.py").write_text("raise SystemExit(42)\n")
    obs = run_isolated("cases/good-case.yaml", "fix", "cpu", timeout=240)
    assert obs.status == "ok", (obs.status, obs.detail, obs.outcome.get("stderr_tail"))
    assert obs.outcome["loss_finite"] is True


def test_signal_death_is_a_crash_and_a_traceback_is_an_error(project, monkeypatch):
    monkeypatch.setenv("ATLAS_TEST_CRASH_CASE", "good-case")
    crash = run_isolated("cases/good-case.yaml", "repro", "cpu", timeout=240)
    assert (crash.status, crash.outcome["signal"], crash.outcome["returncode"]) == ("crash", "SIGABRT", -6)
    monkeypatch.delenv("ATLAS_TEST_CRASH_CASE")
    monkeypatch.setenv("ATLAS_TEST_RAISE_CASE", "good-case")
    error = run_isolated("cases/good-case.yaml", "repro", "cpu", timeout=240)
    assert error.status == "error" and "signal" not in error.outcome and error.outcome["returncode"] == 1
    assert "InjectedFault: injected failure for good-case" in error.outcome["stderr_tail"]
    assert error.detail == "interpreter exited with code 1 and no result"
