"""Packages of the wheel: the harness (``harness/lstm_atlas``) plus three data packages mapped from
the checkout's own folders, so ``cases/``, ``reports/`` and ``constraints/`` ship without moving.

Here and not in pyproject.toml because a package list that is found and extended cannot be said there.
"""

from setuptools import find_packages, setup

#: Data package -> folder of the checkout (pyproject.toml's package-dir and package-data name them too).
DATA_PACKAGES = ["lstm_atlas.cases", "lstm_atlas.published", "lstm_atlas.constraints"]

setup(packages=find_packages("harness", include=["lstm_atlas", "lstm_atlas.*"]) + DATA_PACKAGES)
