"""Which files are atlas cases: the one collection rule, so the plugin is safe in any project.

The plugin is installed for every pytest session of an environment, so it must leave other
projects' YAML alone. A file is an atlas case when both hold:

1. it is a ``.yaml``/``.yml`` file inside a folder whose name matches one of the
   ``atlas_case_dirs`` patterns (ini option; default ``cases``, matched exactly, so
   ``testcases/`` or ``my_cases/`` do not count), looking only at folders below pytest's
   rootdir when the file is under it;
2. it declares itself: within its first lines a comment
   ``# yaml-language-server: $schema=.../case.schema.json`` (every case in ``cases/`` has
   one), or top-level ``id:`` and ``family:`` keys (a UTF-8 byte-order mark is ignored);
   or it lies in an atlas library: its case folder holds a file that declares itself. There
   every YAML file is a case, so one that is broken, unreadable or declares nothing fails as
   an invalid item (as ``lstm-atlas validate`` reports it) instead of being skipped silently.

Only the first :data:`SNIFF_BYTES` of a file are read, so a large foreign file costs little.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.files import read_bounded

SUFFIXES = (".yaml", ".yml")
DEFAULT_CASE_DIRS = ("cases",)
SNIFF_BYTES = 64 * 1024
HEADER_LINES = 5
SCHEMA_COMMENT_RE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*case\.schema\.json\s*$")
TOP_LEVEL_KEY_RE = re.compile(r"^(id|family)\s*:", re.MULTILINE)


def case_dir_of(path: Path, patterns=DEFAULT_CASE_DIRS, root: Path | None = None) -> Path | None:
    """The outermost folder above ``path`` named like one of ``patterns`` (below ``root`` if under it)."""
    if path.suffix not in SUFFIXES:
        return None
    base, folders = Path(path.anchor), path.parts[1:-1] if path.anchor else path.parts[:-1]
    if root is not None:
        try:
            folders = path.relative_to(root).parts[:-1]
            base = Path(root)
        except ValueError:
            pass
    for index, folder in enumerate(folders):
        if any(fnmatch.fnmatchcase(folder, pattern) for pattern in patterns):
            return base.joinpath(*folders[:index + 1])
    return None


def in_case_dir(path: Path, patterns=DEFAULT_CASE_DIRS, root: Path | None = None) -> bool:
    """Rule 1: a YAML file under a folder named like one of ``patterns`` (below ``root`` if under it)."""
    return case_dir_of(path, tuple(patterns), root) is not None


def declares_case(head: str) -> bool:
    """Rule 2: the schema comment in the first lines, or top-level ``id`` and ``family`` keys."""
    head = head.removeprefix("\ufeff")
    if any(SCHEMA_COMMENT_RE.match(line.strip()) for line in head.splitlines()[:HEADER_LINES]):
        return True
    return {m.group(1) for m in TOP_LEVEL_KEY_RE.finditer(head)} == {"id", "family"}


def _declares(path: Path) -> bool:
    try:  # non-blocking and regular files only: a FIFO named x.yaml must not hang collection
        head = read_bounded(path, SNIFF_BYTES, truncate=True).decode("utf-8", "replace")
    except InputError:
        return False
    return declares_case(head)


@lru_cache(maxsize=64)
def is_library(folder: Path) -> bool:
    """Whether a case folder is an atlas library: some YAML file in it declares itself a case."""
    return any(_declares(p) for suffix in SUFFIXES for p in sorted(folder.rglob(f"*{suffix}")))


def is_case_file(path: Path, patterns=DEFAULT_CASE_DIRS, root: Path | None = None) -> bool:
    """Both rules. Outside an atlas library a file that does not declare itself (or cannot be
    read) is somebody else's business; inside one it is a case, and fails if it is not one."""
    folder = case_dir_of(path, tuple(patterns), root)
    if folder is None:
        return False
    return _declares(path) or is_library(folder)
