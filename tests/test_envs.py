"""Matrix environments: what lstm_atlas is installed from, and reuse while the lock is unchanged (no uv run)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from lstm_atlas.errors import InputError
from lstm_atlas.install import envs, locate
from lstm_atlas.install.plan import plan

from .conftest import ROOT


def test_a_checkout_is_installed_editable():
    source = envs.install_source()
    assert source.args == ("-e", str(ROOT)) and source.identity == f"checkout {ROOT}"


class _Dist:
    version = "0.1.0"

    def __init__(self, direct):
        self.direct = direct

    def read_text(self, name):
        return json.dumps(self.direct) if self.direct is not None and name == "direct_url.json" else None


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(locate, "source_checkout", lambda: None)

    def use(direct):
        monkeypatch.setattr(envs.metadata, "distribution", lambda name: _Dist(direct))
    return use


def test_a_wheel_install_is_installed_from_its_wheel_hashed(installed, tmp_path):
    wheel = tmp_path / "lstm_error_atlas-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    installed({"url": wheel.as_uri(), "archive_info": {}})
    source = envs.install_source()
    assert source.args == (str(wheel),)
    assert source.identity == f"wheel {hashlib.sha256(b'wheel bytes').hexdigest()}"
    wheel.write_bytes(b"another build")
    assert envs.install_source().identity != source.identity  # a rebuilt wheel makes new environments
    wheel.unlink()
    with pytest.raises(InputError, match="which is gone"):
        envs.install_source()


def test_an_index_install_installs_the_same_version(installed):
    installed(None)
    assert envs.install_source().args == ("lstm-error-atlas==0.1.0",)


def _plan(tmp_path):
    return plan(["2.15"], ROOT / "constraints", tmp_path / "envs", "wheel abc", (3, 11))[0]


def test_an_environment_with_an_unchanged_lock_is_reused_without_uv(tmp_path, monkeypatch):
    p = _plan(tmp_path)
    envs.env_python(p.env_dir).parent.mkdir(parents=True)
    envs.env_python(p.env_dir).write_text("")
    (p.env_dir / envs.LOCK_FILE).write_text(p.lock)
    monkeypatch.setattr(envs, "_run", lambda *a, **k: pytest.fail("uv ran for an unchanged environment"))
    log = io.StringIO()
    assert envs.ensure_env(p, envs.Source(("x.whl",), "wheel abc"), log) is True
    assert "reusing" in log.getvalue()


def test_a_changed_lock_makes_the_environment_again_pinned_by_the_constraints(tmp_path, monkeypatch):
    p = _plan(tmp_path)
    (p.env_dir / "bin").mkdir(parents=True)
    (p.env_dir / "bin" / "python").write_text("")
    (p.env_dir / envs.LOCK_FILE).write_text("an older lock")
    (p.env_dir / "stale-file").write_text("")
    commands = []
    monkeypatch.setattr(envs, "_run", lambda command, log, env=None: commands.append((command, env)))
    assert envs.ensure_env(p, envs.Source(("x.whl",), "wheel abc"), io.StringIO()) is False
    assert not (p.env_dir / "stale-file").exists()
    (venv, _), (install, env) = commands
    assert venv[1:] == ["venv", "--quiet", "--python", "3.11", str(p.env_dir)]
    assert install[1:] == ["pip", "install", "--python", str(envs.env_python(p.env_dir)), "-c", str(p.constraints),
                           "tensorflow-cpu", "keras", "x.whl"]
    assert env["UV_CONSTRAINT"] == str(p.constraints)  # lstm_atlas's own dependencies are pinned too
    assert (p.env_dir / envs.LOCK_FILE).read_text() == p.lock


def test_uv_is_found():
    command = envs.uv_command()
    assert len(command) == 1 and command[0].endswith(("uv", "uv.exe"))
