"""Packages of the wheel: the harness (``harness/lstm_atlas``) plus three data packages mapped from
the checkout's own folders, so ``cases/``, ``reports/``, ``constraints/`` and ``wild/`` ship without moving.

Here and not in pyproject.toml because a package list that is found and extended cannot be said there.
"""

from pathlib import Path

from setuptools import find_packages, setup

#: Data package -> folder of the checkout (pyproject.toml's package-dir and package-data name them too).
DATA_PACKAGES = ["lstm_atlas.cases", "lstm_atlas.published", "lstm_atlas.constraints", "lstm_atlas.wild"]

def _data_subpackages() -> list[str]:
    """Folders of the data packages whose names Python could import (``cases/masking``): listed, so setuptools
    knows they are data it ships on purpose; their files come from the parent's ``**`` package-data globs."""
    roots = {"lstm_atlas.cases": Path("cases"), "lstm_atlas.published": Path("reports"),
             "lstm_atlas.constraints": Path("constraints"), "lstm_atlas.wild": Path("wild")}
    return sorted(f"{name}.{'.'.join(d.relative_to(root).parts)}" for name, root in roots.items()
                  for d in root.rglob("*") if d.is_dir() and all(p.isidentifier() for p in d.relative_to(root).parts))


setup(packages=find_packages("harness", include=["lstm_atlas", "lstm_atlas.*"]) + DATA_PACKAGES + _data_subpackages())
