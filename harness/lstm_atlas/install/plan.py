"""The plan of ``lstm-atlas matrix``: which environments, on which Python, pinned by which constraints,
cached in which folder under which lock. Pure: no uv, no TensorFlow, so it is unit-tested as is.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from lstm_atlas.errors import InputError

#: The newest CPython minor each TF minor has tensorflow-cpu wheels for (PyPI wheel files, as in the
#: README's requirements). The oldest any environment gets is 3.11: keras 3.13.2 and lstm_atlas need it.
NEWEST_PYTHON = {(2, 12): (3, 11), (2, 13): (3, 11), (2, 14): (3, 11), (2, 15): (3, 11), (2, 16): (3, 12),
                 (2, 17): (3, 12), (2, 18): (3, 12), (2, 19): (3, 12), (2, 20): (3, 13), (2, 21): (3, 13)}
OLDEST_PYTHON = (3, 11)
#: The TF of the newest-Keras environment (``--keras-latest``), as in tox.ini.
KERAS_LATEST_TF = "2.21"
_VERSION_RE = re.compile(r"(\d+)\.(\d+)")


@dataclass(frozen=True)
class EnvPlan:
    """One environment: its key (``tf215``, as tox names it), TF minor, constraints file and Python."""

    key: str
    tf: str
    constraints: Path
    python: str
    lock: str
    env_dir: Path


def parse_versions(text: str) -> list[str]:
    """``2.15,2.21`` -> ``["2.15", "2.21"]`` (minor versions, deduplicated, in the order given)."""
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _VERSION_RE.fullmatch(part.removesuffix(".x").removesuffix(".*"))
        if match is None:
            raise InputError(f"--tf: {part[:40]!r} is not a TensorFlow minor version such as 2.15")
        version = f"{match.group(1)}.{match.group(2)}"
        if version not in out:
            out.append(version)
    if not out:
        raise InputError("--tf: name at least one TensorFlow version, e.g. --tf 2.15,2.21")
    return out


def _minor(text: str) -> tuple[int, int]:
    match = _VERSION_RE.match(text)
    if match is None:
        raise InputError(f"--python: {text[:40]!r} is not a Python version such as 3.11")
    return int(match.group(1)), int(match.group(2))


def choose_python(tf: str, current: tuple[int, int], given: str | None = None) -> str:
    """The interpreter for one TF: ``given``; else this one when that TF has wheels for it; else the
    newest that TF has wheels for (uv finds it, or downloads a managed build)."""
    newest = NEWEST_PYTHON.get(_minor(tf))
    if given:
        wanted = _minor(given)
        if newest is not None and not OLDEST_PYTHON <= wanted <= newest:
            raise InputError(f"--python {given}: TF {tf} has wheels for Python {OLDEST_PYTHON[0]}.{OLDEST_PYTHON[1]} "
                             f"to {newest[0]}.{newest[1]} here")
        return f"{wanted[0]}.{wanted[1]}"
    if newest is None or OLDEST_PYTHON <= current <= newest:
        return f"{current[0]}.{current[1]}"
    return f"{newest[0]}.{newest[1]}"


def constraints_file(constraints_dir: Path, tf: str, keras_latest: bool = False) -> Path:
    """``constraints/tf-2.15.txt`` (``tf-2.21-keras-latest.txt``), or a one-line error naming those there are."""
    path = constraints_dir / (f"tf-{tf}-keras-latest.txt" if keras_latest else f"tf-{tf}.txt")
    if not path.is_file():
        have = sorted((m.group(1) for p in constraints_dir.glob("tf-*.txt")
                       if (m := re.fullmatch(r"tf-(\d+\.\d+)\.txt", p.name))), key=_minor)
        raise InputError(f"no constraints for TF {tf} in {constraints_dir} (have {', '.join(have) or 'none'})")
    return path


def env_lock(python: str, constraints_text: str, source_id: str) -> str:
    """What an environment is made of: a changed constraint, Python or lstm_atlas source makes a new one."""
    text = "\n".join(["lstm-atlas-env 1", f"python {python}", f"source {source_id}", constraints_text])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def env_key(tf: str, keras_latest: bool = False) -> str:
    major, minor = _minor(tf)
    return f"tf{major}{minor}" + ("-keras-latest" if keras_latest else "")


def plan(tfs: list[str], constraints_dir: Path, envs_root: Path, source_id: str, current: tuple[int, int],
         keras_latest: bool = False, python: str | None = None) -> list[EnvPlan]:
    """One :class:`EnvPlan` per TF version (plus TF 2.21 with the newest Keras when asked)."""
    wanted = [(tf, False) for tf in tfs] + ([(KERAS_LATEST_TF, True)] if keras_latest else [])
    plans = []
    for tf, latest in wanted:
        constraints = constraints_file(constraints_dir, tf, latest)
        chosen = choose_python(tf, current, python)
        lock = env_lock(chosen, constraints.read_text("utf-8"), source_id)
        key = env_key(tf, latest)
        plans.append(EnvPlan(key, tf, constraints, chosen, lock, envs_root / f"{key}-{lock[:12]}"))
    return plans
