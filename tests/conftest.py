"""Shared fixtures. The broken case files are inputs of the tests, not tests themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
BROKEN_DIR = Path(__file__).resolve().parent / "broken_cases"
CASES_DIR = ROOT / "cases"

collect_ignore = ["broken_cases"]

EXPECT_RE = re.compile(r"^# expect-error: line=(\d+) field=(\S*) message=(.+)$")


def broken_expectations():
    """(path, line, field, message) for each broken fixture, from its first line."""
    out = []
    for path in sorted(BROKEN_DIR.glob("*.yaml")):
        m = EXPECT_RE.match(path.read_text().splitlines()[0])
        assert m, f"{path.name} lacks its '# expect-error:' header"
        out.append((path, int(m.group(1)), m.group(2) or None, m.group(3).strip()))
    return out


GOOD_CASE = """\
id: {id}
title: LSTM fed a 2-D array
family: input-rank
tags: [fixture]
source: {{url: "https://keras.io/api/layers/recurrent_layers/lstm/"}}
cause: The LSTM needs (batch, timesteps, features).
model:
  input: {{shape: [5, 3]}}
  layers:
    - LSTM: {{units: 4}}
    - Dense: {{units: 1}}
  compile: {{optimizer: adam, loss: mse}}
data:
  x: {{shape: [4, 5]}}
  y: {{shape: [4, 1]}}
run: fit
expect:
  raises: {raises}
  stage: fit
  match: "{match}"
claim: {{text: "raises a TypeError", raises: TypeError, stage: fit}}
fix:
  explanation: Give x its feature axis.
  data:
    x: {{shape: [4, 5, 3]}}
  expect: {{ok: {{loss: finite}}}}
"""


def good_case(case_id="good-case", raises="ValueError", match="(?i)shape|ndim"):
    """A small real case: Keras 2 and 3 both raise ValueError at fit, with 'shape'/'ndim' in it."""
    return GOOD_CASE.format(id=case_id, raises=raises, match=match)


@pytest.fixture
def case_dir(pytester):
    """A pytester dir with a cases/ folder; returns a function writing one case file into it."""
    base = pytester.path / "cases" / "input-rank"
    base.mkdir(parents=True)

    def write(name, text):
        path = base / f"{name}.yaml"
        path.write_text(text)
        return path

    return write


@pytest.fixture(autouse=True)
def private_result_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own empty result cache, whatever $ATLAS_CACHE_DIR the shell has."""
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path_factory.mktemp("atlas-cache")))
