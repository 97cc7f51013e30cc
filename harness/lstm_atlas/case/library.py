"""The case library: every case file under a folder, loaded and validated, in a stable order.

The catalogue, the explain index and the fuzz oracle all start from the whole library; they
load it here rather than from each other.
"""

from __future__ import annotations

from pathlib import Path

from lstm_atlas.case.validate import Case, load_case


def case_files(cases_dir: str | Path) -> list[Path]:
    """The YAML files of a library folder, sorted so every reader sees the same order."""
    return sorted(Path(cases_dir).rglob("*.yaml"))


def load_library(cases_dir: str | Path) -> list[Case]:
    """Every case under ``cases_dir``; a malformed one raises its located :class:`CaseError`."""
    return [load_case(p) for p in case_files(cases_dir)]
