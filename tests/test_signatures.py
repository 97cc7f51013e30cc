"""The layer keyword table (case/layer_signatures.json) is what real Keras takes, and cannot drift."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

from lstm_atlas.engine import signatures

from .conftest import ROOT


class _Base:
    """Refuses unknown keywords the way Keras 3's Layer does."""

    def __init__(self, *, name=None, **kwargs):
        for key in ("input_shape",):
            kwargs.pop(key, None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")


class _Layer(_Base):
    def __init__(self, units, use_bias=True, **kwargs):
        if units is None:
            raise TypeError("units must be a number")
        super().__init__(**kwargs)


class _Lenient:
    def __init__(self, units, **kwargs):
        pass


def test_a_probe_tells_a_taken_keyword_from_a_refused_one():
    args = {"units": 2}
    assert signatures._takes(_Layer, args, "use_bias") and signatures._takes(_Layer, args, "name")
    assert signatures._takes(_Layer, args, "input_shape")  # popped inside the base, found in its source
    assert not signatures._takes(_Layer, args, "unit")
    names, required = signatures._candidates(_Layer, _Base)
    assert required == ["units"] and {"units", "use_bias", "name", "input_shape"} <= names
    assert signatures._takes(_Lenient, args, signatures.CANARY)  # recorded as "takes anything"


def test_check_names_the_class_and_the_keywords_that_differ():
    version, entry = next(iter(signatures.table()["keras3"].items()))
    assert signatures.check("keras3", version, copy.deepcopy(entry)) is None
    changed = copy.deepcopy(entry)
    changed["layers"]["LSTM"] = [n for n in changed["layers"]["LSTM"] if n != "units"] + ["unit"]
    assert signatures.check("keras3", version, changed) == \
        "LSTM: generated has ['unit'] more and ['units'] fewer"
    assert "not in layer_signatures.json" in signatures.check("keras3", "9.9.9", entry)


def test_the_committed_table_is_written_as_the_generator_writes_it():
    text = signatures.table_path().read_text("utf-8")
    assert signatures._dumps(json.loads(text)) == text
    assert all(line.count("[") <= 1 for line in text.splitlines())  # one line per class


@pytest.mark.tf
def test_this_keras_takes_exactly_the_committed_keywords():
    """Regenerate this environment's half of the table from the real classes and compare."""
    generation, version, entry = signatures.generate()
    assert signatures.check(generation, version, entry) is None


def _other_interpreters() -> list:
    tox = Path(os.environ.get("TOX_WORK_DIR", ROOT / ".tox"))
    return [pytest.param(tox / env / "bin" / "python", env_vars, id=env) for env, env_vars in
            (("tf215", {}), ("tf221-legacy", {"TF_USE_LEGACY_KERAS": "1"}), ("tf221-keras-latest", {}))]


@pytest.mark.tf
@pytest.mark.parametrize("python,env_vars", _other_interpreters())
def test_the_other_recorded_kerases_agree_with_the_table(python, env_vars):
    """The tox envs' Keras 2 (TF 2.15, tf_keras 2.21) and newest Keras 3, where they are built."""
    if not python.exists():
        pytest.skip(f"{python} is not built (tox -e {python.parent.parent.name}; TOX_WORK_DIR names another .tox)")
    harness = Path(signatures.__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(harness), TF_CPP_MIN_LOG_LEVEL="2", **env_vars)
    proc = subprocess.run([str(python), "-m", "lstm_atlas.engine.signatures", "--check"], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "agrees" in proc.stdout
