"""The data-op table: every fill, the ``set`` entries, every preprocessing step and every container, once.

A case's data block is read three ways: the data stage builds it (``engine/data.py``), the
budget sizes it in bytes before anything is allocated (``case/budget/arrays.py``), and
explain renders it as code a user can paste (``explain/snippet.py``). Each op is one row
with the three callables side by side (:mod:`~lstm_atlas.case.dataops.kinds`), so the
readings cannot drift apart; the schema's enums name exactly these rows (a test checks).
"""

from __future__ import annotations

from lstm_atlas.case.dataops.containers import CONTAINERS
from lstm_atlas.case.dataops.fills import FILLS, SET
from lstm_atlas.case.dataops.kinds import Container, Entries, Fill, Step
from lstm_atlas.case.dataops.steps import PREPROCESS

DEFAULT_FILL = "random"
DEFAULT_CONTAINER = "ndarray"
#: Containers built after the other entries.
BUILT_LAST = frozenset(name for name, container in CONTAINERS.items() if container.last)


def fill_of(spec: dict) -> Fill:
    name = spec.get("fill", DEFAULT_FILL)
    if name not in FILLS:  # the schema rules this out
        raise ValueError(f"unknown fill {name!r}")
    return FILLS[name]


def step_of(name: str) -> Step:
    if name not in PREPROCESS:  # the schema rules this out
        raise ValueError(f"unknown preprocessing step {name!r}")
    return PREPROCESS[name]


def container_of(spec: dict) -> Container:
    name = spec.get("container", DEFAULT_CONTAINER)
    if name not in CONTAINERS:  # the schema rules this out
        raise ValueError(f"unknown container {name!r}")
    return CONTAINERS[name]


def ordered(data: dict) -> list[tuple[str, dict]]:
    """The entries in declaration order, those a container builds last (datasets zip in their targets) at the end."""
    return sorted(data.items(), key=lambda kv: kv[1].get("container", DEFAULT_CONTAINER) in BUILT_LAST)


__all__ = ["BUILT_LAST", "CONTAINERS", "DEFAULT_CONTAINER", "DEFAULT_FILL", "FILLS", "PREPROCESS", "SET",
           "Container", "Entries", "Fill", "Step", "container_of", "fill_of", "ordered", "step_of"]
