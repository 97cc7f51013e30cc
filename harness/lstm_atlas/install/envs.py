"""The environments of ``lstm-atlas matrix``, made with uv: created once per lock, reused after.

Each holds tensorflow-cpu and keras under the TF version's constraints file and lstm_atlas from
where this one came from (:func:`install_source`): the checkout (editable), the wheel file it was
installed from, or the index (same version). uv's own cache (``~/.cache/uv``) makes a new
environment cheap: each TF wheel is downloaded and unpacked once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from lstm_atlas.errors import InputError
from lstm_atlas.files import hold_lock, write_bytes_atomic
from lstm_atlas.install import locate
from lstm_atlas.install.plan import EnvPlan

DIST = "lstm-error-atlas"
LOCK_FILE = ".atlas-env-lock"


@dataclass(frozen=True)
class Source:
    """How to install this lstm_atlas into another environment, and what identifies it for the lock."""

    args: tuple[str, ...]
    identity: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_source() -> Source:
    """The checkout (editable: it follows edits, so the lock does not hash it), else the wheel file this
    install came from (hashed), else the same version from the index."""
    checkout = locate.source_checkout()
    if checkout is not None:
        return Source(("-e", str(checkout)), f"checkout {checkout}")
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        raise InputError(f"lstm_atlas is neither a checkout nor an installed {DIST}; cannot install it elsewhere") \
            from None
    direct = json.loads(dist.read_text("direct_url.json") or "null")
    if direct and direct.get("url", "").startswith("file:"):
        path = Path(unquote(urlparse(direct["url"]).path))
        if path.is_file():
            return Source((str(path),), f"wheel {_sha256(path)}")
        if path.is_dir():  # a non-editable install from a folder
            return Source((str(path),), f"folder {path} {dist.version}")
        raise InputError(f"{DIST} was installed from {path}, which is gone; reinstall it from a wheel or checkout")
    return Source((f"{DIST}=={dist.version}",), f"index {dist.version}")


#: Environments are made from several threads; uv's finder reads sysconfig, whose first read is not
#: thread-safe (a concurrent caller sees EXE as None), so the first lookup is made under a lock and kept.
_UV_LOCK = threading.Lock()
_UV: list[str] = []


def uv_command() -> list[str]:
    """uv: the ``uv`` package's binary (a dependency), else ``uv`` on PATH."""
    with _UV_LOCK:
        if not _UV:
            _UV.extend(_find_uv())
        return list(_UV)


def _find_uv() -> list[str]:
    try:
        import uv

        return [uv.find_uv_bin()]
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return [found]
    raise InputError("uv is not installed: pip install uv (lstm-atlas matrix creates its environments with it)")


def env_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(command: list[str], log, env: dict | None = None) -> None:
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"`{' '.join(command[:4])} ...` exited {done.returncode} (see the log)")


def ensure_env(plan: EnvPlan, source: Source, log) -> bool:
    """The environment of ``plan``, created unless one with the same lock is there. True when reused."""
    with hold_lock(plan.env_dir.with_name(plan.env_dir.name + ".lock"), f"environment {plan.env_dir}"):
        lock_path = plan.env_dir / LOCK_FILE
        if env_python(plan.env_dir).exists() and lock_path.is_file() and lock_path.read_text("utf-8") == plan.lock:
            log.write(f"reusing {plan.env_dir} (lock unchanged)\n")
            return True
        if plan.env_dir.exists():
            shutil.rmtree(plan.env_dir)
        uv = uv_command()
        env = dict(os.environ)
        env.pop("VIRTUAL_ENV", None)
        env["UV_CONSTRAINT"] = str(plan.constraints)  # also for lstm_atlas's own dependencies
        _run([*uv, "venv", "--quiet", "--python", plan.python, str(plan.env_dir)], log, env)
        _run([*uv, "pip", "install", "--python", str(env_python(plan.env_dir)), "-c", str(plan.constraints),
              "tensorflow-cpu", "keras", *source.args], log, env)
        write_bytes_atomic(lock_path, plan.lock.encode("utf-8"))  # last: a half-made env is never reused
        return False


def current_python() -> tuple[int, int]:
    return sys.version_info[0], sys.version_info[1]
