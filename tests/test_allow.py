"""Names in a case come from allow-lists; nested config objects are layer specs or nothing."""

from __future__ import annotations

import pytest

from lstm_atlas.case import allow, keywords
from lstm_atlas.case.load import load_text
from lstm_atlas.case.validate import build_case
from lstm_atlas.engine.signatures import CANARY
from lstm_atlas.errors import CaseError

from .conftest import good_case


def _error(message, parts):
    return CaseError(message, field=".".join(map(str, parts)))


def _with_layer(layer_yaml: str) -> str:
    return good_case().replace("    - LSTM: {units: 4}\n", f"    - {layer_yaml}\n", 1)


@pytest.mark.parametrize("layer,field,message", [
    ("TFSMLayer: {filepath: /tmp/model, call_endpoint: serve}", "model.layers[0]", "unknown layer 'TFSMLayer'"),
    ("Lambda: {function: print}", "model.layers[0]", "unknown layer 'Lambda'"),
    ("Bidirectional: {layer: {class_name: LSTM, module: os, config: {units: 4}}}",
     "model.layers[0].Bidirectional.layer.module", "has no field 'module'"),
    ("Bidirectional: {layer: {TFSMLayer: {filepath: /x}}}", "model.layers[0].Bidirectional.layer",
     "unknown layer 'TFSMLayer'"),
    ("RNN: {cell: {LSTMCell: {units: 4}, GRUCell: {units: 4}}}", "model.layers[0].RNN.cell", "names one class"),
    ("RNN: {cell: []}", "model.layers[0].RNN.cell", "a layer is a mapping"),
    ("StackedRNNCells: {cells: [{LSTMCell: {units: 4}}, 7]}", "model.layers[0].StackedRNNCells.cells[1]",
     "a layer is a mapping"),
    ("LSTM: {units: 4, kernel_initializer: {class_name: GlorotUniform, config: {}}}",
     "model.layers[0].LSTM.kernel_initializer", "nested config object is not allowed"),
    ("LSTM: {units: 4, go_backwards: [1, {module: os}]}", "model.layers[0].LSTM.go_backwards[1]",
     "nested config object is not allowed"),
    ("LSTM: {units: 4, extra: 1}", "model.layers[0].LSTM.extra", "LSTM takes no keyword 'extra' in Keras 2.15.0"),
    ("LSTM: {unit: 4}", "model.layers[0].LSTM.unit", "no keyword 'unit' in Keras .*; did you mean 'units'\\?"),
    ("Bidirectional: {layer: {GRU: {units: 4, retrun_sequences: true}}}",
     "model.layers[0].Bidirectional.layer.GRU.retrun_sequences", "did you mean 'return_sequences'"),
    ("{class_name: Dense, config: {units: 1, activaton: relu}}", "model.layers[0].config.activaton",
     "Dense takes no keyword 'activaton'.*did you mean 'activation'"),
    ("RNN: {cell: {LSTMCell: {units: 4, return_sequences: true}}}",
     "model.layers[0].RNN.cell.LSTMCell.return_sequences", "LSTMCell takes no keyword 'return_sequences'"),
    ("StackedRNNCells: {cells: [{GRUCell: {units: 4}}, {GRUCell: {units: 4, time_major: true}}]}",
     "model.layers[0].StackedRNNCells.cells[1].GRUCell.time_major", "GRUCell takes no keyword 'time_major'"),
    ("Dropout: {rate: 0.5, units: 4}", "model.layers[0].Dropout.units", "Dropout takes no keyword 'units'"),
    ("LSTM: {units: 4, kernel_initializer: my_module.my_init}", "model.layers[0].LSTM.kernel_initializer",
     "initializer 'my_module.my_init' is not in the allow-list"),
    ("LSTM: {units: 4, recurrent_activation: hard_swishy}", "model.layers[0].LSTM.recurrent_activation",
     "activation 'hard_swishy' is not in the allow-list"),
    ("LSTM: {units: 4, dtype: float128}", "model.layers[0].LSTM.dtype", "dtype 'float128' is not in the allow-list"),
    ("{class_name: LSTM, config: [4]}", "model.layers[0].config", "schema"),
])
def test_layer_names_and_nested_objects_are_allow_listed(layer, field, message):
    with pytest.raises(CaseError, match=message) as info:
        build_case(load_text(_with_layer(layer)))
    assert info.value.field == field


def test_top_level_layer_spec_with_a_module_is_a_schema_error():
    with pytest.raises(CaseError, match="schema") as info:
        build_case(load_text(_with_layer("{class_name: LSTM, config: {units: 4}, module: os}")))
    assert info.value.field.startswith("model.layers[0].")  # which key the schema names first varies


@pytest.mark.parametrize("old,new,field,message", [
    ("optimizer: adam", "optimizer: Adamm", "model.compile.optimizer", "unknown optimizer 'Adamm'"),
    ("loss: mse", "loss: my_loss", "model.compile.loss", "unknown loss 'my_loss'"),
    ("loss: mse", "loss: mse, metrics: [accuracy, f1_custom]", "model.compile.metrics[1]",
     "unknown metric 'f1_custom'"),
    ("loss: mse", "loss: mse, metrics: [[mae, f1_custom]]", "model.compile.metrics[0][1]",
     "unknown metric 'f1_custom'"),
    ("input: {shape: [5, 3]}", "input: {shape: [5, 3], dtype: 'float128'}", "model.input.dtype",
     "dtype 'float128' is not in the allow-list"),
])
def test_compile_names_are_allow_listed(old, new, field, message):
    with pytest.raises(CaseError, match=message) as info:
        build_case(load_text(good_case().replace(old, new, 1)))
    assert info.value.field == field


def test_metrics_nested_per_output_pass():
    case = build_case(load_text(good_case().replace("loss: mse", "loss: mse, metrics: [[mae]]", 1)))
    assert case.variants["repro"]["model"]["compile"]["metrics"] == [["mae"]]


def test_allowed_names_pass():
    layer = ("Bidirectional: {layer: {LSTM: {units: 4, activation: tanh, kernel_initializer: glorot_uniform, "
             "kernel_regularizer: l2, dtype: float32}}, merge_mode: sum}")
    case = build_case(load_text(_with_layer(layer).replace("optimizer: adam", "optimizer: RMSprop")))
    assert case.variants["repro"]["model"]["layers"][0]["Bidirectional"]["merge_mode"] == "sum"


def test_split_layer_spec_reads_both_forms():
    assert allow.split_layer_spec({"LSTM": None}, ("l",), _error) == ("LSTM", {}, ("l", "LSTM"))
    assert allow.split_layer_spec({"class_name": "GRU", "config": {"units": 2}}, ("l",), _error) == (
        "GRU", {"units": 2}, ("l", "config"))


@pytest.mark.tf
def test_every_allow_listed_name_exists_in_the_installed_keras():
    """A typo in an allow-list would make a name unusable; a name missing from Keras is reported per case."""
    from lstm_atlas.engine import compat

    keras = compat.keras()
    layers = compat.layer_classes()
    missing = [n for n in allow.LAYER_CLASSES if n not in layers]
    assert not missing, missing
    optimizers = compat.optimizer_classes()
    assert [n for n in allow.OPTIMIZERS if n not in optimizers] == []
    for name in allow.ACTIVATIONS:
        if name in ("mish", "log_softmax", "relu6", "leaky_relu", "silu") and not compat.is_keras3():
            continue  # Keras 3 additions
        assert keras.activations.get(name) is not None, name
    for name in allow.LOSSES:
        assert keras.losses.get(name) is not None, name
    for name in allow.INITIALIZERS:
        assert keras.initializers.get(name) is not None, name


def _names(generation: str, version: str, layer: str) -> set:
    return set(keywords.table()[generation][version]["layers"][layer])


@pytest.mark.parametrize("layer,keyword,only_in", [
    ("LSTM: {units: 4, time_major: true}", "time_major", "keras2"),        # removed in Keras 3
    ("LSTM: {units: 4, batch_input_shape: [4, 5, 3]}", "batch_input_shape", "keras2"),
    ("GRU: {units: 4, use_cudnn: false}", "use_cudnn", "keras3"),          # added in Keras 3
    ("Dense: {units: 1, lora_rank: 2}", "lora_rank", "keras3"),
])
def test_a_keyword_one_keras_generation_takes_still_validates(layer, keyword, only_in):
    """api-change cases exist to show a keyword one generation takes and the other refuses."""
    class_name = layer.split(":")[0]
    other = "keras3" if only_in == "keras2" else "keras2"
    assert all(keyword in entry["layers"][class_name] for entry in keywords.table()[only_in].values())
    assert all(keyword not in entry["layers"][class_name] for entry in keywords.table()[other].values())
    build_case(load_text(_with_layer(layer)))


def test_the_signature_table_covers_every_allow_listed_class_in_both_generations():
    data = keywords.table()
    assert {"2.15.0"} <= set(data["keras2"]) and {"3.13.2", "3.15.1"} <= set(data["keras3"])
    for generation in keywords.GENERATIONS:
        for version, entry in data[generation].items():
            assert sorted(entry["layers"]) == sorted(allow.LAYER_CLASSES), (generation, version)
            for class_name, names in entry["layers"].items():
                assert names is not None, f"{class_name} takes any keyword in Keras {version}"
                assert "name" in names and "dtype" in names and CANARY not in names
    # facts found by running, not by reading: Keras 2's base layer takes batch_input_shape, Keras 3's does not
    assert "batch_input_shape" in _names("keras2", "2.15.0", "Dense")
    assert "batch_input_shape" not in _names("keras3", "3.13.2", "Dense")
    assert {"units", "return_sequences", "recurrent_dropout"} <= _names("keras3", "3.13.2", "LSTM")
    assert "cell" not in _names("keras3", "3.13.2", "LSTM")  # Keras 3's LSTM builds its own cell


def test_refusal_names_every_recorded_keras_and_the_nearest_name():
    versions = [v for g in keywords.GENERATIONS for v in sorted(keywords.table()[g])]
    message = keywords.refusal("LSTM", "unit")
    assert message == f"LSTM takes no keyword 'unit' in Keras {', '.join(versions[:-1])} or {versions[-1]}; " \
                      "did you mean 'units'?"
    assert keywords.refusal("LSTM", "zzzzzz").endswith(versions[-1])  # nothing close: no guess
    assert keywords.refusal("LSTM", "units") is None
    assert keywords.refusal("NotALayer", "units") is None  # unknown classes are refused elsewhere
