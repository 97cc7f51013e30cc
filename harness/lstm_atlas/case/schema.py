"""The case format's vocabulary, read from its JSON Schema so that each fact is written once.

``case.schema.json`` is the source of truth for families, stages, steps and dtypes: the
plugin's markers and the validator take them from here rather than keeping lists of their
own, and the tables that add facts per name (``case/dtypes.py``, ``case/dataops``) are
tested to name exactly the schema's. Reading it needs only ``json``, so ``explain`` can use
it without the validation machinery.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

SCHEMA_FILE = "case.schema.json"

#: A case's two variants: the failing run and the fix that must run clean.
VARIANTS = ("repro", "fix")


@lru_cache(maxsize=None)
def case_schema() -> dict:
    """The case JSON Schema shipped with the package."""
    return json.loads(resources.files("lstm_atlas.case").joinpath(SCHEMA_FILE).read_text("utf-8"))


def enum(name: str) -> tuple[str, ...]:
    """The allowed values of ``$defs/<name>`` in schema order."""
    return tuple(case_schema()["$defs"][name]["enum"])


FAMILIES = enum("family")
STAGES = enum("stage")
STEPS = enum("step")
DTYPES = enum("dtype")
#: The steps a case may give arguments to (``fit: {epochs: 1}``): those with a ``<step>Args`` definition.
STEP_ARGS = tuple(step for step in STEPS if f"{step}Args" in case_schema()["$defs"])
