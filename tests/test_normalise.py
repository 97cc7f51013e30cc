"""The one message normaliser, on messages in the form users paste them.

The messages are TensorFlow's own (recorded results of the matrix) or quoted from public
reports (wild/tune/legacy.yaml, with their URLs); the wrapping around them (Jupyter
headers, Windows frames, ANSI, TF log prefixes) is what those reports show.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from lstm_atlas.normalise import MAX_CORE_CHARS, message_template, shape_difference, signature, split_traceback

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent


def _recorded_exceptions():
    out = []
    for name in ("results-tf215.json", "results-tf221.json"):
        for item in json.loads((DATA / name).read_text("utf-8"))["items"]:
            exc = (item.get("observed") or {}).get("exception")
            if exc:
                out.append(pytest.param(exc, id=f"{name[8:13]}-{item['case_id']}-{item['variant']}"))
    return out


@pytest.mark.parametrize("exc", _recorded_exceptions())
def test_whole_message_and_its_core_give_one_template(exc):
    # Keras 2 "in user code:" tracebacks and Keras 3 "Exception encountered when calling" wrappers
    assert message_template(exc["message"]) == message_template(exc["core"])
    pasted = f"{exc['module']}.{exc['type']}: {exc['message']}"
    assert split_traceback(pasted)[0] == exc["type"]
    assert signature(exc["type"], pasted) == signature(exc["type"], exc["core"])


def test_layer_names_shapes_and_numbers_do_not_change_the_template():
    a = ('Input 0 of layer "lstm" is incompatible with the layer: expected ndim=3, found ndim=2. '
         'Full shape received: (None, 5)')
    b = ("Input 0 of layer lstm_112 is incompatible with the layer: expected ndim=3, found ndim=2. "
         "Full shape received: (1, 60)")
    assert message_template(a) == message_template(b)
    assert "lstm" not in message_template(b) and "60" not in message_template(b)


def test_ranks_are_kept_because_they_are_the_cause():
    two = "Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=2."
    four = "Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=4."
    assert message_template(two) != message_template(four)


def test_old_keras_unquoted_layer_names():
    assert message_template("Input 0 is incompatible with layer lstm_1: expected ndim=3, found ndim=2") == \
        message_template("Input 0 is incompatible with layer encoder: expected ndim=3, found ndim=2")
    assert message_template("Error when checking input: expected lstm_116_input to have 3 dimensions, "
                            "but got array with shape (372, 28)") == \
        message_template("Error when checking input: expected lstm_input_9 to have 3 dimensions, "
                         "but got array with shape (100, 9)")


def test_ansi_codes_are_ignored():
    plain = "ValueError: Exception encountered when calling LSTMCell.call().\n\nlist index out of range"
    coloured = ("\x1b[1;31mValueError\x1b[0m: Exception encountered when calling LSTMCell.call().\n\n"
                "\x1b[1mlist index out of range\x1b[0m")
    assert split_traceback(coloured) == split_traceback(plain)
    assert message_template(coloured) == "list index out of range"


def test_tf_module_prefix_and_see_above_wrapper_give_the_class():
    cls, message = split_traceback("tensorflow.python.framework.errors_impl.InvalidArgumentError: logits and "
                                   "labels must have the same first dimension, got logits shape [250,10] and "
                                   "labels shape [2500]")
    assert cls == "InvalidArgumentError" and message.startswith("logits and labels")
    cls, _ = split_traceback("InvalidArgumentError (see above for traceback): logits and labels must have the "
                             "same first dimension, got logits shape [400,10000] and labels shape [420]")
    assert cls == "InvalidArgumentError"


def _wild(source_part: str) -> str:
    items = yaml.safe_load((DATA.parent.parent / "wild" / "tune" / "legacy.yaml").read_text("utf-8"))
    return next(i["message"] for i in items if source_part in i["url"])


def test_jupyter_traceback_with_windows_paths():
    text = _wild("Stock-market-forecasting/issues/7")
    assert split_traceback(text) == ("ValueError",
                                     "Failed to convert a NumPy array to a Tensor (Unsupported object type float).")


def test_plain_traceback_with_windows_frames():
    cls, message = split_traceback(_wild("sports-betting-customloss"))
    assert cls == "ValueError" and message.startswith("Failed to convert a NumPy array")


def test_graph_execution_error_keeps_only_the_cause():
    template = message_template(_wild("hm-two-step-reco/issues/3"))
    assert template.startswith("Received a label value of <num> which is outside the valid range")
    assert "node" not in template.lower() and "__call__" not in template


def test_tf2_graph_trailers_are_dropped():
    cls, message = split_traceback(_wild("3D-CNN-Gesture-recognition/issues/7"))
    assert cls == "InvalidArgumentError"
    assert "Function call stack" not in message and "Input Source operations" not in message


def test_tf_log_line_gives_class_and_message():
    cls, message = split_traceback(_wild("yolov3-tf2/issues/386"))
    assert cls == "InvalidArgumentError" and message.startswith("Received a label value of 67")
    cls, message = split_traceback(_wild("tensorflow/issues/33148"))
    assert cls == "UnknownError" and message.startswith("CUDNN_STATUS_BAD_PARAM in tensorflow/stream_executor")


def test_graph_execution_error_header_is_a_wrapper():
    cls, message = split_traceback(_wild("tensorflow/issues/57198"))
    assert cls == "UnknownError"
    assert message_template(_wild("tensorflow/issues/57198")) == "Fail to find the dnn implementation."


def test_chained_exception_after_the_last_error_is_not_taken():
    text = ("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    f()\n"
            "KeyError: 'x'\n\nDuring handling of the above exception, another exception occurred:\n\n"
            "Traceback (most recent call last):\n  File \"a.py\", line 3, in <module>\n    g()\n"
            "ValueError: None values not supported.")
    assert split_traceback(text) == ("ValueError", "None values not supported.")


def test_a_bare_message_has_no_class():
    assert split_traceback("expected ndim=3, found ndim=2") == (None, "expected ndim=3, found ndim=2")


def test_signature_uses_the_bare_class_name():
    assert signature("tensorflow.python.framework.errors_impl.UnknownError", "x") == "UnknownError: x"
    assert signature(None, "x") == "Error: x"


@pytest.mark.parametrize("message, axis", [
    # Keras 3 (recorded: seed-001-ex3-3-features-declared-1, predict-shorter-window-than-declared)
    ('Input 0 of layer "lstm" is incompatible with the layer: expected shape=(None, None, 1), '
     'found shape=(None, 5, 3)', "features"),
    ('Input 0 of layer "sequential" is incompatible with the layer: expected shape=(None, 5, 3), '
     'found shape=(None, 3, 3)', "timesteps"),
    ('Invalid input shape for input Tensor("data:0", shape=(4, 1, 5, 3), dtype=float32). Expected shape '
     '(None, 5, 3), but input has incompatible shape (4, 1, 5, 3)', "rank"),
    # Keras 1/2 and TF 2.2-2.4 wordings from public reports (wild/tune/legacy.yaml)
    ("Error when checking model input: expected lstm_input_1 to have shape (None, 30, 300) but got array "
     "with shape (128, 5, 300)", "timesteps"),
    ("Error when checking input: expected lstm_1_input to have shape (50, 39) but got array with shape (10L, 39L)",
     "timesteps"),
    ("Input 0 of layer sequential is incompatible with the layer: expected axis -1 of input shape to have value 3 "
     "but received input with shape [None, 5, 4]", "features"),
    ("Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=2.", None),
])
def test_shape_difference_names_the_disagreeing_axis(message, axis):
    assert shape_difference(message) == axis
    if axis:
        assert message_template(message).endswith(f"<diff_{axis}>")


def test_keyword_argument_names_stay_in_the_template():
    assert "time_major" in message_template("Unrecognized keyword arguments passed to LSTM: {'time_major': True}")
    assert "use_cudnn" in message_template("('Keyword argument not understood:', 'use_cudnn')")


@pytest.mark.parametrize("text", [
    "ValueError: " + "a/" * 100_000,  # the path rule scans and fails on every start of the run
    "ValueError: value '" + "a" * 200_000,
    "ValueError: " + "Data cardinality is ambiguous: 'x' sizes: 8 " * 3600,
    "ValueError: " + "(" * 100_000 + "1," * 50_000,
])
def test_a_hostile_paste_is_templated_in_bounded_time(text):
    started = time.perf_counter()
    template = message_template(text)
    assert time.perf_counter() - started < 2.0
    assert len(template) <= 2 * MAX_CORE_CHARS  # placeholders may be longer than what they replace


def test_the_core_bound_is_beyond_every_recorded_message():
    """Bounding the core changes no template of a message the matrix or the library records."""
    longest = max(len(param.values[0]["message"]) for param in _recorded_exceptions())
    assert longest < MAX_CORE_CHARS
    message = "Input 0 of layer lstm_3 is incompatible with the layer: expected ndim=3, found ndim=2. "
    assert message_template(message + "x " * 5000) == message_template(
        message + ("x " * 5000)[:MAX_CORE_CHARS - len(message)])


# --- value reprs, graph names and op suffixes: one cause, one signature (issue 17) ------------------------

LIST_X = "Unrecognized data type: x=[[[0.5], [0.25]], [[1.0], [2.0]]] (of type <class 'list'>)"


@pytest.mark.parametrize("variant", [
    LIST_X,
    "Unrecognized data type: x=[[[[1], [2], [3]], [[4], [5], [6]]], [[[7], [8], [9]], [[1], [2], [3]]]] "
    "(of type <class 'list'>)",
    "Unrecognized data type: x=[[[[1], [2], [3]], [[4], [5], [6]]], [[[7], [8], [9]], [[1], [2",  # cut short
    "Unrecognized data type: x=[[(0, 1), (2, 3)]] (of type <class 'list'>)",
])
def test_nested_list_reprs_of_any_size_give_one_signature(variant):
    assert signature("ValueError", variant) == signature("ValueError", LIST_X) == "ValueError: Unrecognized data " \
                                                                                  "type: x=<value>"


def test_which_argument_holds_the_value_still_tells_causes_apart():
    y_dataset = ("Unrecognized data type: y=<_BatchDataset element_spec=TensorSpec(shape=(None, 1), dtype=tf.float32, "
                 "name=None)> (of type <class 'tensorflow.python.data.ops.batch_op._BatchDataset'>)")
    assert signature("ValueError", y_dataset) == "ValueError: Unrecognized data type: y=<value>"
    assert signature("ValueError", y_dataset) != signature("ValueError", LIST_X)
    # Keras 2 names the classes of x and of y: a list x is not a dataset y
    list_x = ("Failed to find data adapter that can handle input: (<class 'list'> containing values of types "
              "{\"(<class 'list'> containing values of types {\\\"<class 'float'>\\\"})\"}), <class 'NoneType'>")
    dataset_y = ("Failed to find data adapter that can handle input: <class 'numpy.ndarray'>, "
                 "<class 'tensorflow.python.data.ops.batch_op._BatchDataset'>")
    assert message_template(list_x) == "Failed to find data adapter that can handle input: <list of values>, <NoneType>"
    assert message_template(list_x) != message_template(dataset_y)


def test_variable_reprs_and_graph_paths_are_names():
    base = ("The shape of the target variable and the shape of the target value in `variable.assign(value)` must "
            "match. variable.shape=(3, 6), Received: value.shape=(3, 3, 6). Target variable: ")
    short = base + "<Variable path=sequential_39/rnn_1/rnn_state, shape=(3, 6), dtype=float32>"
    long = base + "<Variable path=rnn_10/rnn_state, shape=(3, 6), dtype=float32, value=[[0. 0. 0.] [0. 0. 0.]]>"
    cut = base + "<Variable path=sequential_91/rnn_75/rnn_state, shape=(3, 6), dtype=float32, value=[[0. 0."
    assert message_template(short) == message_template(long) == message_template(cut)
    loops = ["Input tensor `sequential_1/rnn_1/zeros:0` enters the loop with shape (1, 1), but has shape (1, 0, 4) "
             "after one iteration.",
             "Input tensor `sequential_114_1/rnn_46_1/ReadVariableOp_4:0` enters the loop with shape (3, 1), but has "
             "shape (3, 3, 1) after one iteration."]
    assert message_template(loops[0]) == message_template(loops[1])
    assert "`<name>`" in message_template(loops[0])


def test_op_suffixes_and_node_trailers_do_not_split_a_cause():
    add = "{{function_node __wrapped__AddV2_device_/job:localhost/replica:0/task:0/device:CPU:0}} Incompatible " \
          "shapes: [4,0,12] vs. [4,12] [Op:AddV2] name: "
    mul = "Incompatible shapes: [2,3] vs. [3,3] [Op:Mul]"
    bare = "Incompatible shapes: [6,2,3,5] vs. [6,5]"
    assert signature("InvalidArgumentError", add) == signature("InvalidArgumentError", mul) \
        == signature("InvalidArgumentError", bare) == "InvalidArgumentError: Incompatible shapes: <shape> vs. <shape>"
    graph = ("Dimensions must be equal, but are 7 and 2 for '{{node sequential_324_1/rnn_121_1/lstm_cell_160_1/Add}} "
             "= AddV2[T=DT_FLOAT](sequential_324_1/rnn_121_1/lstm_cell_160_1/MatMul, sequential_324_1/rnn_121_1/"
             "lstm_cell_160_1/MatMul_1)' with input shapes: [2,7,4], [2,4].")
    assert message_template(graph) == "Dimensions must be equal, but are <num> and <num>"
    compute = ["cannot compute AddV2 as input #1(zero-based) was expected to be a complex64 tensor but is a float "
               "tensor [Op:AddV2] name: ", "cannot compute Mul as input #1(zero-based) was expected to be a "
               "complex64 tensor but is a float tensor [Op:Mul] name: "]
    assert message_template(compute[0]) == message_template(compute[1])


def test_python_type_names_are_kept_not_read_as_dtypes():
    # 'list' object vs 'numpy.ndarray' object: the wrong attribution came from reading "object" as a dtype
    assert signature("AttributeError", "'list' object has no attribute 'dtype'") == \
        "AttributeError: list object has no attribute dtype"
    assert signature("AttributeError", "'list' object has no attribute 'dtype'") != \
        signature("AttributeError", "'numpy.ndarray' object has no attribute 'get_shape'")


def test_a_file_path_is_not_read_as_a_graph_path():
    assert "<path>" in message_template("Unable to open file /tmp/model_3/weights.h5 for reading")


def _same_cause_figures(rows: list[dict], within_env: bool = False) -> dict:
    """Pairwise precision and recall of "same signature" against the hand labels."""
    import itertools

    sigs = [signature(r["type"], r["message"]) for r in rows]
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(rows)), 2):
        if within_env and rows[i]["env"] != rows[j]["env"]:
            continue
        same, predicted = rows[i]["cause"] == rows[j]["cause"], sigs[i] == sigs[j]
        tp += same and predicted
        fp += predicted and not same
        fn += same and not predicted
    return {"messages": len(rows), "causes": len({r["cause"] for r in rows}), "signatures": len(set(sigs)),
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0}


#: Measured on tests/data/same_cause.yaml when the value, path and op rules were added (the normaliser
#: before them: tuned precision 0.964, recall 0.081; held-out 0.523, 0.441). A margin below, so a new rule
#: that merges causes (precision) or splits one (recall) fails here.
SAME_CAUSE_FLOORS = {"tuned": (0.95, 0.38), "heldout": (0.50, 0.42)}


@pytest.mark.parametrize("part", sorted(SAME_CAUSE_FLOORS))
def test_signatures_mean_one_cause_on_the_labelled_set(part):
    rows = yaml.safe_load((DATA / "same_cause.yaml").read_text("utf-8"))[part]
    figures = _same_cause_figures(rows)
    print(f"\n{part}: {figures['messages']} messages, {figures['causes']} causes, {figures['signatures']} "
          f"signatures; same-cause precision {figures['precision']:.3f}, recall {figures['recall']:.3f}")
    precision_floor, recall_floor = SAME_CAUSE_FLOORS[part]
    assert figures["precision"] >= precision_floor and figures["recall"] >= recall_floor, figures


def test_savedmodel_function_names_lose_the_layer_number():
    """tensorflow#47554 pastes lstm_cell_2_...; the matrix records lstm_cell_...: one message."""
    numbered = message_template("Found untraced functions such as lstm_cell_2_layer_call_fn, "
                                "lstm_cell_2_layer_call_and_return_conditional_losses while saving")
    assert numbered == message_template("Found untraced functions such as lstm_cell_layer_call_fn, "
                                        "lstm_cell_layer_call_and_return_conditional_losses while saving")
    # a number that is not a layer's in a function name stays a number
    assert "<num>" in message_template("expected 3 variables, but received 0 variables during loading")
