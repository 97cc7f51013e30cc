"""The warm worker's model reuse gives the outcome a freshly built model gives."""

from __future__ import annotations

import pytest

from lstm_atlas.normalise import signature

pytestmark = pytest.mark.tf


def base(**changes):
    example = {"layer": "GRU", "config": {"units": 2}, "masking": False, "declared": None,
               "input": {"shape": [2, 3, 2], "dtype": "float32", "container": "ndarray"}, "step": "predict"}
    example.update(changes)
    return example


def outcome_of(result):
    exc = result["exception"]
    return result["status"], result["stage"], exc and signature(exc["type"], exc["message"])


def x(*shape):
    return {"shape": list(shape), "dtype": "float32", "container": "ndarray"}


@pytest.mark.parametrize("warm_example, second", [
    (base(), base(input=x(5, 3, 2))),                                  # other batch size: reused
    (base(), base(input=x(5, 3, 4))),                                  # other features: built anew
    (base(declared=[3, 2]), base(declared=[3, 2], input=x(6, 3, 2))),  # declared input, other batch
    (base(declared=[3, 2]), base(declared=[3, 2], input=x(4, 3, 1))),  # declared input, other features
    (base(declared=[3, 2], step="fit"), base(declared=[3, 2], step="fit", input=x(4, 3, 2))),
])
def test_reused_model_gives_the_fresh_outcome(warm_example, second):
    from lstm_atlas.fuzz.worker import ExampleRunner

    warm = ExampleRunner()
    assert warm.run(warm_example)["status"] == "ok"
    reused = warm.run(second)
    fresh = ExampleRunner().run(second)
    assert outcome_of(reused) == outcome_of(fresh)
    assert fresh["reused"] is False


def test_same_config_other_batch_reuses_the_built_model():
    from lstm_atlas.fuzz.worker import ExampleRunner

    runner = ExampleRunner()
    assert runner.run(base())["status"] == "ok"
    second = runner.run(base(input={"shape": [6, 3, 2], "dtype": "float32", "container": "ndarray"}))
    assert second["status"] == "ok" and second["reused"] is True
