"""Which files are atlas cases: the one collection rule, so the plugin is safe in any project.

The plugin is installed for every pytest session of an environment, so it must leave other
projects' YAML alone. A file is an atlas case when both hold:

1. it is a ``.yaml``/``.yml`` file inside a folder whose name matches one of the
   ``atlas_case_dirs`` patterns (ini option; default ``cases``, matched exactly, so
   ``testcases/`` or ``my_cases/`` do not count), looking only at folders below pytest's
   rootdir when the file is under it;
2. it declares itself: within its first lines a comment
   ``# yaml-language-server: $schema=.../case.schema.json`` (every case in ``cases/`` has
   one), or top-level ``id:`` and ``family:`` keys.

Only the first :data:`SNIFF_BYTES` of a file are read, so a large foreign file costs little.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.files import read_bounded

SUFFIXES = (".yaml", ".yml")
DEFAULT_CASE_DIRS = ("cases",)
SNIFF_BYTES = 64 * 1024
HEADER_LINES = 5
SCHEMA_COMMENT_RE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*case\.schema\.json\s*$")
TOP_LEVEL_KEY_RE = re.compile(r"^(id|family)\s*:", re.MULTILINE)


def in_case_dir(path: Path, patterns=DEFAULT_CASE_DIRS, root: Path | None = None) -> bool:
    """Rule 1: a YAML file under a folder named like one of ``patterns`` (below ``root`` if under it)."""
    if path.suffix not in SUFFIXES:
        return False
    folders = path.parts[:-1]
    if root is not None:
        try:
            folders = path.relative_to(root).parts[:-1]
        except ValueError:
            pass
    return any(fnmatch.fnmatchcase(folder, pattern) for folder in folders for pattern in patterns)


def declares_case(head: str) -> bool:
    """Rule 2: the schema comment in the first lines, or top-level ``id`` and ``family`` keys."""
    if any(SCHEMA_COMMENT_RE.match(line.strip()) for line in head.splitlines()[:HEADER_LINES]):
        return True
    return {m.group(1) for m in TOP_LEVEL_KEY_RE.finditer(head)} == {"id", "family"}


def is_case_file(path: Path, patterns=DEFAULT_CASE_DIRS, root: Path | None = None) -> bool:
    """Both rules; an unreadable file is not a case (it is somebody else's business)."""
    if not in_case_dir(path, patterns, root):
        return False
    try:  # non-blocking and regular files only: a FIFO named x.yaml must not hang collection
        head = read_bounded(path, SNIFF_BYTES, truncate=True).decode("utf-8", "replace")
    except InputError:
        return False
    return declares_case(head)
