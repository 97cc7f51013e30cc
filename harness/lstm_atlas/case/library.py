"""The case library: every case file under a folder, loaded and validated, in a stable order.

The catalogue, the explain index and the fuzz oracle all start from the whole library; they
load it here rather than from each other.
"""

from __future__ import annotations

from pathlib import Path

from lstm_atlas.case.validate import Case, load_case
from lstm_atlas.errors import CaseError


def case_files(cases_dir: str | Path) -> list[Path]:
    """The YAML files of a library folder, sorted so every reader sees the same order."""
    return sorted(Path(cases_dir).rglob("*.yaml"))


def duplicate_id_error(case: Case, seen: dict[str, Path]) -> None:
    """Raise :class:`CaseError` naming both files when ``case``'s id is already in ``seen`` (id -> file).

    Two files of one id would be one report cell: one file's results would hide the other's.
    """
    first = seen.setdefault(case.id, Path(case.path))
    if first != Path(case.path):
        raise CaseError(f"duplicate case id {case.id!r}: already used by {first}", path=str(case.path),
                        line=case.line_of("id"), field="id")


def load_library(cases_dir: str | Path) -> list[Case]:
    """Every case under ``cases_dir``; a malformed one, or a second file of one id, raises its :class:`CaseError`."""
    seen: dict[str, Path] = {}
    cases = []
    for path in case_files(cases_dir):
        case = load_case(path)
        duplicate_id_error(case, seen)
        cases.append(case)
    return cases
