"""The runner in-process on real TensorFlow: stages, real Python unpacking, policy reset, save/load."""

from __future__ import annotations

import pytest

from lstm_atlas.case.load import load_text
from lstm_atlas.case.validate import build_case

pytestmark = pytest.mark.tf

CASE = """\
id: t
title: runner test
family: {family}
source: {{url: "https://keras.io/api/layers/recurrent_layers/lstm/"}}
cause: test
{body}
fix: {{explanation: none}}
"""


@pytest.fixture(scope="module")
def runner():
    from lstm_atlas.engine import execute as run

    return run


def observe(runner, body, family="initial-state", variant="repro"):
    case = build_case(load_text(CASE.format(family=family, body=body)))
    return runner.execute(runner.prepare(case, variant), "cpu", 0)


def test_return_state_unpacked_into_two_names_is_pythons_error(runner):
    obs = observe(runner, """\
model: {layer: {LSTM: {units: 3, return_state: true}}}
data: {x: {shape: [2, 4, 5]}}
run: call
call: {inputs: x, unpack: 2}
expect: {raises: ValueError, stage: call}
""")
    assert obs.raised and obs.stage == "call"
    assert obs.exception.type == "ValueError"
    assert obs.exception.message == "too many values to unpack (expected 2)"
    assert obs.steps_run == ["data", "construct"]


def test_unpack_into_three_names_runs_and_reports_shapes(runner):
    obs = observe(runner, """\
model: {layer: {LSTM: {units: 3, return_state: true}}}
data: {x: {shape: [2, 4, 5]}}
run: call
call: {inputs: x, unpack: 3}
expect: {ok: true}
""")
    assert obs.status == "ok" and obs.outcome["output_count"] == 3
    assert obs.outcome["output_shapes"] == [[2, 3], [2, 3], [2, 3]]


def test_data_stage_is_recorded_when_numpy_refuses(runner):
    obs = observe(runner, """\
model: {layers: [{LSTM: {units: 2}}], compile: {loss: mse}}
data:
  x: {fill: ragged, lengths: [3, 2], features: 2}
  y: {shape: [2, 2]}
run: fit
expect: {raises: ValueError, stage: data}
""", family="timesteps")
    assert obs.stage == "data" and "inhomogeneous" in obs.exception.message
    assert obs.steps_run == []


def test_mixed_precision_policy_is_reset_after_the_item(runner):
    from lstm_atlas.engine import compat

    obs = observe(runner, """\
model:
  dtype_policy: mixed_float16
  layers: [{LSTM: {units: 2}}]
data: {x: {shape: [2, 3, 4]}}
run: predict
expect: {ok: true}
""", family="mixed-precision")
    assert obs.status == "ok"
    keras = compat.keras()
    policy = keras.mixed_precision.global_policy()
    assert policy.name == "float32"


def test_keras_format_save_and_load_round_trip(runner):
    obs = observe(runner, """\
model:
  input: {shape: [3, 4]}
  layers: [{LSTM: {units: 2}}]
  compile: {loss: mse}
data: {x: {shape: [2, 3, 4]}, y: {shape: [2, 2]}}
run: [fit, save, load, predict]
save: {format: keras}
expect: {ok: true}
""", family="serialization")
    assert obs.status == "ok", obs.exception
    assert obs.steps_run == ["data", "construct", "compile", "fit", "save", "load", "predict"]
    assert obs.outcome["output_shape"] == [2, 2]


def test_save_format_is_passed_to_model_save(runner):
    """Keras 2 writes the SavedModel that save_format='tf' asks for; Keras 3 refuses the argument itself."""
    from lstm_atlas.engine import compat

    obs = observe(runner, """\
model:
  input: {shape: [3, 4]}
  layers: [{LSTM: {units: 2}}]
data: {x: {shape: [2, 3, 4]}}
run: [save, load, predict]
save: {format: savedmodel, save_format: tf}
expect: {ok: true}
""", family="serialization")
    if compat.is_keras3():
        assert (obs.status, obs.stage, obs.exception.type) == ("raised", "save", "ValueError")
        assert "save_format" in obs.exception.message
    else:
        assert obs.status == "ok", obs.exception
        assert obs.outcome["output_shape"] == [2, 2]


def test_call_on_a_layer_object_passes_the_unapplied_layer(runner):
    obs = observe(runner, """\
model: {layer: {LSTM: {units: 3}}}
data: {x: {shape: [2, 4, 5]}}
run: call
call: {inputs_layer: {Dense: {units: 2}}}
expect: {raises: ValueError, stage: call}
""")
    assert obs.raised and obs.stage == "call"
    assert "Dense" in obs.exception.message, "the error names the layer object the call was given"


def test_extra_positional_values_and_the_inputs_keyword_reach_the_call(runner):
    from lstm_atlas.engine import compat

    positional = observe(runner, """\
model: {layer: {Dropout: {rate: 0.5}}}
data: {x: {shape: [2, 4, 5]}}
run: call
call: {inputs: x, positional: [{value: true}]}
expect: {ok: true}
""")
    keyword = observe(runner, """\
model: {layer: {Dropout: {rate: 0.5}}}
data: {x: {shape: [2, 4, 5]}}
run: call
call: {inputs: x, keyword: inputs}
expect: {ok: true}
""")
    assert keyword.status == "ok" and keyword.outcome["output_shape"] == [2, 4, 5]
    if compat.is_keras3():  # Keras 3 refuses a bool passed positionally; Keras 2 binds it to training
        assert positional.raised and "True (of type <class 'bool'>)" in positional.exception.message
    else:
        assert positional.status == "ok"


def test_tf_op_applies_to_the_symbolic_output_and_reset_states_targets(runner):
    from lstm_atlas.engine import compat

    tf_op = observe(runner, """\
model: {input: {shape: [4, 5]}, layers: [{LSTM: {units: 3, return_sequences: true}}]}
data: {x: {shape: [2, 4, 5]}}
run: [construct, tf_op]
tf_op: {op: reduce_sum, axis: 1}
expect: {ok: true}
""")
    layers = observe(runner, """\
model: {input: {shape: [4, 5], batch_size: 2}, layers: [{LSTM: {units: 3, stateful: true}}]}
data: {x: {shape: [2, 4, 5]}}
run: [predict, reset_states]
reset_states: {target: layers}
expect: {ok: true}
""")
    assert layers.status == "ok" and layers.steps_run[-1] == "reset_states"
    if compat.is_keras3():
        assert tf_op.raised and tf_op.stage == "tf_op" and "KerasTensor" in tf_op.exception.message
    else:
        assert tf_op.status == "ok" and tf_op.outcome["output_shape"] == [None, 3]
