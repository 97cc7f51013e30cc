"""The wording rules explain scores with: wrappers, rank direction, expected rank, shown generation, symptom labels.

Pure logic on message text; no TensorFlow, no index.
"""

from __future__ import annotations

import pytest

from lstm_atlas.explain.index import symptom_generations, symptom_wordings
from lstm_atlas.explain.score import _disagreement
from lstm_atlas.explain.wording import expected_rank, generation_shown, rank_direction, unwrapped
from lstm_atlas.normalise import message_template


@pytest.mark.parametrize("pasted, core", [
    ("WARNING:tensorflow:Layer gru_4 will not use cuDNN kernel since it doesn't meet the cuDNN kernel criteria.",
     "Layer gru_4 will not use cuDNN kernel since it doesn't meet the cuDNN kernel criteria."),
    ("WARNING:absl:Found untraced functions such as lstm_cell_layer_call_fn while saving",
     "Found untraced functions such as lstm_cell_layer_call_fn while saving"),
    ("ValueError: Tried to convert 'indices' to a tensor and failed. Error: A KerasTensor cannot be used as input",
     "A KerasTensor cannot be used as input"),
    ('TypeError: Exception encountered when calling Bidirectional.call(). can only concatenate list (not "tuple") '
     "to list", 'can only concatenate list (not "tuple") to list'),
])
def test_wrapping_in_front_of_a_message_is_not_compared(pasted, core):
    assert unwrapped(message_template(pasted)) == unwrapped(message_template(core))


def test_a_wrapper_alone_is_kept():
    assert unwrapped("Exception encountered when calling Sequential.call().") == \
        "Exception encountered when calling Sequential.call()."
    assert unwrapped("WARNING:tensorflow:") == "WARNING:tensorflow:"


@pytest.mark.parametrize("message, direction", [
    ("Error when checking target: expected dense_1 to have 2 dimensions, but got array with shape (40261, 2, 2)",
     "extra"),
    ("Error when checking target: expected lstm_27 to have 3 dimensions, but got array with shape (150, 1)", "missing"),
    ("Error when checking input: expected lstm_input to have 3 dimensions, but got array with shape (0, 30)",
     "missing"),
    ("expected lstm_1_input to have shape (5, 3) but got array with shape (5, 4)", None),
])
def test_rank_direction(message, direction):
    assert rank_direction(message) == direction


def test_rank_direction_tells_apart_what_the_template_hides():
    extra = "expected dense_1 to have 2 dimensions, but got array with shape (40261, 2, 2)"
    missing = "expected lstm_27 to have 3 dimensions, but got array with shape (150, 1)"
    assert message_template(extra) == message_template(missing)
    assert rank_direction(extra) != rank_direction(missing)


@pytest.mark.parametrize("message, rank", [
    ("Input 0 is incompatible with layer model: expected shape=(None, 2), found shape=(4500, 3)", 2),
    ('Input 0 of layer "lstm" is incompatible with the layer: expected shape=(None, None, 1), found shape=(None, 5, 3)',
     3),
    ("Input 0 is incompatible with layer sequential: expected shape=(64, None, 4), found shape=[32, 100, 4]", 3),
    ("expected ndim=3, found ndim=2", None),
])
def test_expected_rank(message, rank):
    assert expected_rank(message) == rank


@pytest.mark.parametrize("paste, generation", [
    ("WARNING:tensorflow:Your input ran out of data; interrupting training.", "2"),
    ('  File "/usr/lib/python3.8/site-packages/tensorflow/python/keras/engine/training.py", line 1, in fit', "2"),
    ('  File "/x/site-packages/keras/src/engine/training.py", line 1, in fit', "2"),
    ('  File "/x/site-packages/tf_keras/src/engine/training.py", line 1, in fit', "2"),
    ('  File "/x/site-packages/keras/src/trainers/trainer.py", line 1, in fit', "3"),
    ('  File "/x/site-packages/keras/src/layers/layer.py", line 1, in __call__', "3"),
    ("ValueError: Input 0 of layer lstm is incompatible with the layer", None),
    ('  File "/x/keras/src/engine/a.py", line 1\n  File "/x/keras/src/trainers/b.py", line 2', None),  # both: unknown
    ("UserWarning: Your input ran out of data; WARNING:tensorflow: in the middle of a line", None),
])
def test_generation_shown(paste, generation):
    assert generation_shown(paste) == generation


@pytest.mark.parametrize("symptom, labelled", [
    ("Keras 3: no error, only 'Your input ran out of data; interrupting training.'; "
     "Keras 2: Expected input data to be non-empty.",
     {"no error, only 'Your input ran out of data; interrupting training.'": "3",
      "Expected input data to be non-empty": "2"}),
    ("Shapes (None, 1, 3) and (None, 3) are incompatible (Keras 2) / Arguments `target` and `output` must have the "
     "same rank (Keras 3)",
     {"Shapes (None, 1, 3) and (None, 3) are incompatible": "2",
      "Arguments `target` and `output` must have the same rank": "3"}),
    ("Layer lstm will not use cuDNN kernels since it doesn't meet the criteria (Keras 2 on GPU); no message on Keras 3",
     {"Layer lstm will not use cuDNN kernels since it doesn't meet the criteria": "2"}),
    # one remark naming both generations, or none: no label
    ("Arguments `target` and `output` must have the same shape (Keras 3; Keras 2 trains silently)", {}),
    ("Invalid dtype: object", {}),
])
def test_symptom_generations(symptom, labelled):
    assert symptom_generations(symptom) == labelled
    assert set(labelled) <= set(symptom_wordings(symptom))


def test_another_python_type_is_another_cause():
    doc = message_template("AttributeError: 'float' object has no attribute 'shape'")
    assert _disagreement(message_template("AttributeError: 'list' object has no attribute 'shape'"), doc) < 1.0
    assert _disagreement(message_template("AttributeError: 'float' object has no attribute 'shape'"), doc) == 1.0
    assert _disagreement(message_template("'Mean' object has no attribute 'reset_states'"),
                         message_template("'Sequential' object has no attribute 'reset_states'")) < 1.0


def test_trailing_kernel_flags_do_not_split_one_message_into_two_answers():
    from lstm_atlas.explain.score import same_wording

    assert same_wording("Matrix size-incompatible: In[<num>]: <shape>, In[<num>]: <shape> <num>",
                        "Matrix size-incompatible: In[<num>]: <shape>, In[<num>]: <shape>")
    assert not same_wording("expects <num> input(s)", "expects input(s)")


_CAUSE_PAIRS = [
    ("Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=2",
     "Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=4"),
    ("Input 0 of layer conv2d is incompatible with the layer: expected min_ndim=4, found ndim=3",
     "Input 0 of layer lstm is incompatible with the layer: expected ndim=3, found ndim=2"),
    ("Unrecognized keyword arguments passed to LSTM: {'input_dim': 3}",
     "Unrecognized keyword arguments passed to LSTM: {'batch_input_shape': (None, 5, 3)}"),
    ("AttributeError: 'list' object has no attribute 'shape'", "'float' object has no attribute 'shape'"),
    ("Error when checking target: expected dense to have 3 dimensions", "Error when checking input: expected x"),
    ("Could not locate class 'LSTM'", "Could not locate function 'mse'"),
    ("list index out of range", "Invalid dtype: object"),
]


@pytest.mark.parametrize("query, doc", _CAUSE_PAIRS)
def test_disagreement_reads_only_the_marks_the_query_has_and_caches_them(query, doc):
    """The per-index cache and the skipped marks change no factor; the cache holds only the query's marks."""
    from lstm_atlas.explain.score import _cause_marks

    q, d = message_template(query), message_template(doc)
    cache: dict = {}
    assert _disagreement(q, d, cache) == _disagreement(q, d) == _disagreement(q, d, cache)
    wanted = {k for k, mark in enumerate(_cause_marks(q)) if mark}
    assert {k for k, _ in cache} == wanted
