"""Where the case library, the published matrix and the constraints are: the one answer every command uses.

Inside an atlas project (the working folder holds an atlas ``cases/`` library or a
``reports/merged.json``), that project's files, so a checkout and a team's own project read
their own. Anywhere else, the copies shipped in the wheel (``lstm_atlas/cases``,
``lstm_atlas/published``, ``lstm_atlas/constraints``, mapped from the checkout's folders by
setup.py). An editable install or a ``PYTHONPATH=harness`` checkout has no shipped copies inside
the package: there the checkout the package was imported from stands in for them. Nothing here
imports TensorFlow.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

from lstm_atlas.errors import InputError

#: The project's files, relative to its root, and their shipped data package under ``lstm_atlas``.
CASES, MERGED, CONSTRAINTS, WILD = "cases", Path("reports", "merged.json"), "constraints", "wild"
SHIPPED = {"cases": "cases", "reports": "published", "constraints": "constraints", "wild": "wild"}


@dataclass(frozen=True)
class Located:
    """A path and where it came from: ``project`` (the working folder), ``shipped`` (the wheel) or
    ``checkout`` (the source tree an editable or PYTHONPATH install imports from)."""

    path: Path
    origin: str

    def __str__(self) -> str:
        return str(self.path)


def project_root(cwd: str | Path | None = None) -> Path | None:
    """The working folder when it is an atlas project (an atlas ``cases/`` library or a merged matrix), else None."""
    from lstm_atlas.case.discover import is_library

    root = Path(cwd or Path.cwd()).resolve()
    cases = root / CASES
    if (cases.is_dir() and is_library(cases)) or (root / MERGED).is_file():
        return root
    return None


def _package_dir() -> Path:
    return Path(str(importlib.resources.files("lstm_atlas")))


def source_checkout() -> Path | None:
    """The checkout ``lstm_atlas`` is imported from (``<root>/harness/lstm_atlas``), or None for a wheel."""
    root = _package_dir().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "harness" / "lstm_atlas").is_dir():
        return root
    return None


def shipped(folder: str) -> Located:
    """A shipped folder (``cases``, ``reports``, ``constraints``, ``wild``): in the wheel, else in the checkout."""
    inside = _package_dir() / SHIPPED[folder]
    if inside.is_dir():
        return Located(inside, "shipped")
    checkout = source_checkout()
    if checkout is not None and (checkout / folder).is_dir():
        return Located(checkout / folder, "checkout")
    raise InputError(f"this install of lstm_atlas ships no {folder}/ (looked in {inside})")


def _in_project(relative: Path, cwd: str | Path | None, is_there) -> Located | None:
    """``relative`` in the project, as given (relative, so messages name ``cases/x.yaml`` as before)
    when the project is the working folder, else under ``cwd``; None outside a project or when absent."""
    root = project_root(cwd)
    if root is None or not is_there(root / relative):
        return None
    return Located(relative if cwd is None else root / relative, "project")


def library(cwd: str | Path | None = None) -> Located:
    """The case library: the project's ``cases/``, else the shipped one."""
    return _in_project(Path(CASES), cwd, Path.is_dir) or shipped("cases")


def published_merged(cwd: str | Path | None = None) -> Located:
    """The published matrix: the project's ``reports/merged.json``, else the shipped one."""
    found = _in_project(MERGED, cwd, Path.is_file)
    if found is not None:
        return found
    located = shipped("reports")
    return Located(located.path / MERGED.name, located.origin)


def corpus(cwd: str | Path | None = None) -> Located:
    """The public-report corpus (``wild/``), whose tune split joins the explain index: the project's, else shipped."""
    return _in_project(Path(WILD), cwd, Path.is_dir) or shipped("wild")


def constraints_dir(cwd: str | Path | None = None) -> Located:
    """The constraints that pin Keras with each TensorFlow: the project's ``constraints/``, else the shipped ones."""
    return _in_project(Path(CONSTRAINTS), cwd, Path.is_dir) or shipped("constraints")


def output_dir(given: str | None, default: str, command: str, cwd: str | Path | None = None,
               flag: str = "--out") -> str:
    """Where a command that regenerates published files writes: ``--out`` when given; inside an atlas
    project its default (relative to the project); elsewhere a one-line refusal, never a stray folder."""
    if given:
        return given
    if project_root(cwd) is None:
        raise InputError(f"not inside an atlas project (no cases/ library or reports/merged.json here); "
                         f"`lstm-atlas {command}` writes only where asked: pass {flag}")
    return default


def user_cache_dir() -> Path:
    """The user's cache folder for lstm-atlas (``$LSTM_ATLAS_CACHE``, else the platform's cache folder):
    scratch results of ``run``, the result cache outside a project, and ``matrix`` environments."""
    if os.environ.get("LSTM_ATLAS_CACHE"):
        return Path(os.environ["LSTM_ATLAS_CACHE"])
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"], "lstm-atlas", "Cache")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "lstm-atlas")
