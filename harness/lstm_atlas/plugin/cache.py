"""Content-addressed result cache: an item whose inputs did not change is not run again.

A matrix of 12 environments x 196 items costs about 20 minutes; after a one-case edit only
that case's items need TensorFlow. Each item's key is a sha256 over everything that can
change its outcome:

- the case file's bytes (cases are self-contained data; nothing else is read),
- the harness version: a hash of every file in the folders that run and judge an item
  (:data:`OUTCOME_FOLDERS`: ``case/``, ``engine/``, ``plugin/``) and of every other
  ``lstm_atlas`` module those files import, found by reading their imports; a module added
  there is covered without being named, while ``explain/``, ``fuzz/`` and the report are not,
- the environment lock, read from installed-package metadata so that it needs no TensorFlow
  import: TensorFlow/Keras/numpy/... versions, Python, platform, ``TF_USE_LEGACY_KERAS`` and
  other variables TensorFlow reads, and a cheap GPU hint (the NVIDIA driver's GPU list and
  ``CUDA_VISIBLE_DEVICES``; whether TensorFlow would really see a GPU needs TF itself),
- the item (variant, device id) and the pytest options that change outcomes.

An entry holds the item's record (what the results file gets), the environment it was
observed in, the failure block for a cached failure, and the date it was observed. Only
deterministic verdicts (pass, fail, skip) are stored; a crash, timeout or error is run again.
Entries are written atomically, one file per key, so xdist workers and tox envs can share
one cache folder. A damaged or oversized entry is a miss, never an error. Each entry carries
a digest (:func:`entry_digest`: sha256 over the key and the canonical JSON of the record, the
environment, the failure block and the date); an entry whose digest does not match (edited
from fail to pass, say) is a miss that is counted in :attr:`ResultCache.rejected`, and the
run says how many it re-ran: a tampered entry is never believed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from lstm_atlas.files import now_iso, write_bytes_atomic

#: Bumped when the entry layout or the key recipe changes.
CACHE_FORMAT = 2
CACHE_DIR_ENV = "ATLAS_CACHE_DIR"
DEFAULT_DIR_NAME = ".atlas-cache"
CACHEABLE_VERDICTS = frozenset({"pass", "fail", "skip"})
#: Entries are a few kB; anything far larger is not ours.
MAX_ENTRY_BYTES = 2_000_000
#: The subpackages that load, run and judge an item: every file in them is part of the key.
OUTCOME_FOLDERS = ("case", "engine", "plugin")
#: Distributions whose versions decide what TensorFlow does.
LOCKED_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly",
                        "tf-nightly-cpu", "keras", "keras-nightly", "tf-keras", "numpy", "h5py", "ml-dtypes",
                        "protobuf", "nvidia-cudnn-cu12", "nvidia-cublas-cu12")
#: Environment variables that change TensorFlow's behaviour or the harness's (fault injection).
LOCKED_VARIABLES = ("TF_USE_LEGACY_KERAS", "KERAS_BACKEND", "TF_ENABLE_ONEDNN_OPTS", "TF_DETERMINISTIC_OPS",
                    "CUDA_VISIBLE_DEVICES", "ATLAS_TEST_CRASH_CASE", "ATLAS_TEST_HANG_CASE")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=None)
def harness_version() -> str:
    """Hash of the source that runs and judges items (see :func:`source_hash`)."""
    return source_hash(Path(__file__).resolve().parent.parent)


def _imported_modules(path: Path, package: Path) -> set[Path]:
    """Files of ``package`` (the ``lstm_atlas`` folder) that the module at ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != package.name:
                continue
            target = package.joinpath(*parts[1:])
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.is_file():
                    found.add(candidate)
    return found


def outcome_files(package: Path) -> list[Path]:
    """Every file of :data:`OUTCOME_FOLDERS`, plus each module they import, transitively."""
    files = {p for folder in OUTCOME_FOLDERS for p in (package / folder).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    files.add(package / "__init__.py")
    todo = [p for p in files if p.suffix == ".py"]
    while todo:
        for found in _imported_modules(todo.pop(), package) - files:
            files.add(found)
            todo.append(found)
    return sorted(files)


def source_hash(package: Path) -> str:
    digest = hashlib.sha256(f"format {CACHE_FORMAT}\n".encode())
    for path in outcome_files(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(_sha256(path.read_bytes()).encode() + b"\n")
    return digest.hexdigest()


def _distribution_versions() -> dict:
    out = {}
    for name in LOCKED_DISTRIBUTIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _gpu_hint() -> list[str]:
    """GPUs the NVIDIA driver lists; empty on a machine without one. Reads no TensorFlow."""
    try:
        return sorted(os.listdir("/proc/driver/nvidia/gpus"))
    except OSError:
        return []


@lru_cache(maxsize=None)
def environment_lock() -> dict:
    """What decides TensorFlow's behaviour here, read without importing TensorFlow."""
    return {
        "distributions": _distribution_versions(),
        "python": sys.version,
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "variables": {name: os.environ.get(name) for name in LOCKED_VARIABLES},
        "gpus": _gpu_hint(),
    }


def outcome_options(config) -> dict:
    """The pytest options that change what an item observes."""
    isolate = bool(config.getoption("atlas_isolate"))
    return {"isolate": isolate, "logical_cpus": int(config.getoption("atlas_logical_cpus") or 0),
            "timeout": float(config.getoption("atlas_timeout")) if isolate else None}


def item_key(case_bytes: bytes, variant: str, device: str, options: dict,
             lock: dict | None = None, harness: str | None = None) -> str:
    """The sha256 naming one item's entry; any change in its inputs gives another key."""
    parts = {"format": CACHE_FORMAT, "case": _sha256(case_bytes), "harness": harness or harness_version(),
             "environment": lock if lock is not None else environment_lock(), "options": options,
             "variant": variant, "device": device}
    return _sha256(json.dumps(parts, sort_keys=True, default=str).encode())


def entry_digest(key: str, entry: dict) -> str:
    """sha256 over the key and the canonical JSON of what an entry asserts."""
    content = {name: entry.get(name) for name in ("format", "observed_at", "record", "environment",
                                                  "failure_block")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return _sha256(key.encode("utf-8") + b"\0" + canonical.encode("utf-8"))


class ResultCache:
    """One folder of entries, ``<root>/<key[:2]>/<key>.json``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        #: Keys whose entry failed its digest in this process (tampered or damaged): run again.
        self.rejected: set[str] = set()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        try:
            if path.stat().st_size > MAX_ENTRY_BYTES:
                self.rejected.add(key)
                return None
            entry = json.loads(path.read_bytes())
        except OSError:
            return None  # no entry (or none we may read): a plain miss
        except ValueError:
            self.rejected.add(key)
            return None
        if isinstance(entry, dict) and entry.get("format") != CACHE_FORMAT:
            return None  # another layout (an older harness): a plain miss
        if not isinstance(entry, dict) or entry.get("key") != key or entry.get("digest") != entry_digest(key, entry) \
                or not isinstance(entry.get("record"), dict) \
                or entry["record"].get("verdict") not in CACHEABLE_VERDICTS:
            self.rejected.add(key)
            return None
        return entry

    def put(self, key: str, record: dict, environment: dict | None, failure_block: str | None = None) -> bool:
        """Store one item's outcome; False (and nothing written) for verdicts that are not stored.

        A write that fails raises :class:`~lstm_atlas.files.WriteError` and leaves no file.
        """
        if record.get("verdict") not in CACHEABLE_VERDICTS:
            return False
        stored = {k: v for k, v in record.items() if k not in ("cached", "observed_at")}
        entry = {"format": CACHE_FORMAT, "key": key, "observed_at": now_iso(), "record": stored,
                 "environment": environment, "failure_block": failure_block}
        entry = json.loads(json.dumps(entry, default=str))  # the digest covers what a reader will see
        entry["digest"] = entry_digest(key, entry)
        content = json.dumps(entry, default=str).encode("utf-8")
        if len(content) > MAX_ENTRY_BYTES:
            return False
        write_bytes_atomic(self._path(key), content)
        return True


def cache_root(rootpath: str | os.PathLike) -> Path:
    """``$ATLAS_CACHE_DIR`` if set, else ``.atlas-cache`` in the pytest rootdir."""
    return Path(os.environ.get(CACHE_DIR_ENV) or Path(rootpath) / DEFAULT_DIR_NAME)


def replayed_environment(environment: dict | None) -> dict | None:
    """A cached environment as this interpreter would describe it (tox envs with one lock share entries)."""
    if environment is None:
        return None
    return dict(environment, env_name=os.environ.get("ATLAS_ENV") or os.path.basename(sys.prefix))


def replayed_record(entry: dict, nodeid: str) -> dict:
    """The results-file record of a reused item: marked ``cached`` with the date it was observed."""
    return dict(entry["record"], nodeid=nodeid, cached=True, observed_at=entry["observed_at"])
