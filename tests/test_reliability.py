"""Every hostile input and fault of the reliability table, from one table (``tests/reliability/``)."""

from __future__ import annotations

import importlib
import pkgutil
import time

import pytest

from . import reliability
from .reliability.table import KINDS, Row


def _rows() -> list[Row]:
    rows: list[Row] = []
    for info in sorted(pkgutil.iter_modules(reliability.__path__), key=lambda m: m.name):
        if info.name != "table":
            rows += importlib.import_module(f"{reliability.__name__}.{info.name}").ROWS
    return rows


ROWS = _rows()


def test_the_table_has_rows_of_every_kind_and_unique_names():
    assert ROWS, "the reliability table is empty"
    names = [(row.kind, row.name) for row in ROWS]
    assert len(names) == len(set(names))
    assert {row.kind for row in ROWS} <= set(KINDS)


@pytest.mark.parametrize("row", [pytest.param(row, id=f"{row.kind}:{row.name}",
                                              marks=[pytest.mark.tf] if row.tf else [])
                                 for row in ROWS])
def test_reliability_row(row: Row, tmp_path):
    started = time.perf_counter()
    row.check(tmp_path)
    assert time.perf_counter() - started < row.seconds, f"took longer than {row.seconds} s"
