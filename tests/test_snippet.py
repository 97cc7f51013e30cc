"""Fix snippets: the code explain prints must be the program the matrix ran, and run clean."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lstm_atlas.case.validate import load_case
from lstm_atlas.explain.snippet import render_layer, render_variant

ROOT = Path(__file__).resolve().parent.parent

#: One fix per renderer feature: ragged literal + pad_sequences, dataset container, a cell
#: called with states, mixed precision, save/load, validation data, squeeze preprocessing.
SAMPLE = ("seed-004-ex1-ragged-np-array-fit", "unbatched-dataset-to-fit", "lstmcell-called-with-one-state",
          "mixed-float16-lstm-on-cpu", "h5-roundtrip-mse-string-loss", "extra-window-axis-4d-input",
          "bidirectional-initial-state-two-tensors")


def _case(case_id: str):
    return load_case(next((ROOT / "cases").rglob(f"{case_id}.yaml")))


def test_nested_layers_render_as_constructor_calls():
    spec = {"Bidirectional": {"layer": {"LSTM": {"units": 4, "return_sequences": True}}, "merge_mode": None}}
    assert render_layer(spec) == \
        "layers.Bidirectional(layer=layers.LSTM(units=4, return_sequences=True), merge_mode=None)"
    assert render_layer({"class_name": "RNN", "config": {"cell": {"LSTMCell": {"units": 2}}}}) == \
        "layers.RNN(cell=layers.LSTMCell(units=2))"


def test_fix_variant_renders_its_data_model_and_steps():
    code = render_variant(_case("seed-004-ex1-ragged-np-array-fit").variants["fix"])
    assert "keras.utils.pad_sequences(x, maxlen=3, padding='post', dtype='float32')" in code
    assert "layers.LSTM(units=16, input_shape=[3, 2])" in code
    assert "model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])" in code
    assert code.rstrip().endswith("history = model.fit(x, y, epochs=1)")


def test_optimizer_arguments_name_the_class():
    variant = dict(_case("sgd-huge-learning-rate-unscaled-targets").variants["fix"])
    code = render_variant(variant)
    assert "keras.optimizers.SGD(learning_rate=" in code


def test_a_layer_called_directly():
    code = render_variant(_case("lstmcell-called-with-one-state").variants["fix"])
    assert code.count("layer = layers.LSTMCell(") == 1
    assert "= layer(x, states=[" in code


@pytest.mark.tf
def test_sample_of_fix_snippets_runs_on_real_tensorflow(tmp_path):
    """Runs the rendered fixes in one interpreter on the installed TensorFlow."""
    scripts = {cid: render_variant(_case(cid).variants["fix"]) for cid in SAMPLE}
    runner = textwrap.dedent("""
        import json, sys, keras
        failed = {}
        for cid, code in json.load(open(sys.argv[1])).items():
            keras.mixed_precision.set_global_policy("float32")
            try:
                exec(compile(code, cid, "exec"), {})
            except Exception as exc:  # report every failure, not only the first
                failed[cid] = f"{type(exc).__name__}: {exc}"[:300]
        print(json.dumps(failed))
    """)
    (tmp_path / "snippets.json").write_text(__import__("json").dumps(scripts), encoding="utf-8")
    (tmp_path / "run.py").write_text(runner, encoding="utf-8")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    proc = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "snippets.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "{}"


def test_a_bfloat16_array_imports_the_module_that_has_the_type():
    variant = {"data": {"x": {"shape": [2, 3, 4], "dtype": "bfloat16"}},
               "model": {"layer": {"LSTM": {"units": 2}}}, "run": "call", "call": {"inputs": "x"}}
    code = render_variant(variant)
    assert "import ml_dtypes" in code and "ml_dtypes.bfloat16" in code and "np.bfloat16" not in code
    data_part = code.split("import keras")[0] + "rng = np.random.default_rng(0)\n" + "\n".join(
        line for line in code.splitlines() if line.startswith("x = "))
    namespace: dict = {}
    exec(compile(data_part, "<snippet>", "exec"), namespace)  # the harness's own rendering, not case data
    assert str(namespace["x"].dtype) == "bfloat16" and namespace["x"].shape == (2, 3, 4)


def test_new_call_options_reset_states_and_tf_op_render_as_user_code():
    layer_object = render_variant(_case("lstm-called-on-a-layer-object").variants["repro"])
    assert "output = layer(layers.GRU(units=3))" in layer_object
    positional = render_variant(_case("non-tensor-positional-call-argument").variants["repro"])
    assert "output = layer(x, True)" in positional
    assert "output = layer(inputs=x)" in render_variant(_case("lstm-called-with-inputs-keyword").variants["repro"])
    assert "keras.optimizers.Adam(lr=0.01)" in render_variant(_case("optimizer-lr-alias-removed").variants["repro"])
    reset = render_variant(_case("model-reset-states-removed").variants["repro"])
    assert reset.rstrip().endswith("model.reset_states()")
    tf_op = render_variant(_case("keras-tensor-into-tf-function").variants["repro"])
    assert "import tensorflow as tf" in tf_op and "output = tf.reduce_mean(symbolic, axis=1)" in tf_op


def test_save_format_and_nested_metrics_render_as_user_code():
    save = render_variant(_case("save-format-argument-removed").variants["repro"])
    assert "model.save('model', save_format='tf')" in save
    fixed = render_variant(_case("save-format-argument-removed").variants["fix"])
    assert "model.save('model.keras')" in fixed and "save_format" not in fixed
    assert "metrics=[['mae']]" in render_variant(_case("metrics-nested-per-output-list").variants["repro"])
