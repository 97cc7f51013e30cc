"""Versions and environment names, parsed in one place with ``packaging``.

The matrix orders environments by TensorFlow version, ``explain`` filters by the version a
user names (``2.15``, ``3.x``), the catalogue labels environments, and results, reports and
fuzz maps name each environment by one key: all of them ask here.
"""

from __future__ import annotations

import hashlib
import json
import re

from packaging.version import InvalidVersion, Version

#: What ``env_name`` holds when nobody named the environment: the folder of a plain venv.
_UNNAMED = frozenset({".venv", "venv", "env", ".env"})
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")


def parse(text: str | None) -> Version | None:
    """``Version`` of ``text``, or None when it is missing or not a version."""
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def release(text: str | None) -> tuple[int, ...]:
    """The release numbers of a version (``2.16.0rc1`` -> (2, 16, 0)); () when it is not one."""
    version = parse(text)
    return version.release if version is not None else ()


def matches(version: str | None, wanted: str | None) -> bool:
    """Whether ``version`` is what a user means by ``wanted``: ``2.15``, ``2.15.1``, ``3.x``, ``3.*``.

    Nothing wanted matches everything; a wanted version matches itself and every release under it.
    """
    if not wanted:
        return True
    wanted = wanted.strip().lower()
    wanted = wanted.removesuffix(".x").removesuffix(".*")
    have, want = release(version), release(wanted)
    if not have or not want:
        return bool(version) and version == wanted
    return have[:len(want)] == want


def env_sort_key(environment: dict) -> tuple:
    """Matrix column order: by TensorFlow release, then legacy Keras after the plain env, then Keras."""
    return (release(environment.get("tensorflow")), bool(environment.get("legacy_keras")),
            environment.get("keras", ""))


def env_label(environment: dict) -> str:
    """How a person reads an environment: ``TF 2.21.0 / Keras 3.15.1``, plus ``tf_keras`` for legacy Keras.

    Unique across the matrix (two environments on one TF differ in Keras or in tf_keras).
    """
    flavour = " tf_keras" if environment.get("legacy_keras") else ""
    return f"TF {environment.get('tensorflow', '?')} / Keras {environment.get('keras', '?')}{flavour}"


def env_key(environment: dict) -> str:
    """The one name of an environment, for results, merged reports and fuzz maps.

    The name tox or CI gave it (``ATLAS_ENV``: ``tf221``, ``tf221-keras-latest``); for an
    unnamed venv, ``tf<major><minor>`` plus ``-legacy`` for tf_keras.
    """
    name = environment.get("env_name") or ""
    if _NAME_RE.fullmatch(name) and name not in _UNNAMED:
        return name
    numbers = release(environment.get("tensorflow")) + (0, 0)
    return f"tf{numbers[0]}{numbers[1]}" + ("-legacy" if environment.get("legacy_keras") else "")


#: What makes two environments the same one: two results files of one identity and one key
#: are two runs of one environment; of two identities, two environments that share a name.
IDENTITY_FIELDS = ("tensorflow", "keras", "numpy", "python", "legacy_keras")


def env_identity(environment: dict) -> dict:
    """The versions and device kinds that decide outcomes (not the name, not the machine's hostname)."""
    identity = {name: environment.get(name) for name in IDENTITY_FIELDS}
    identity["device_kinds"] = sorted({str(d).rstrip("0123456789") for d in environment.get("devices") or []})
    return identity


def identity_tag(environment: dict) -> str:
    """A short, stable tag of :func:`env_identity`, to tell apart two environments of one name."""
    text = json.dumps(env_identity(environment), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
