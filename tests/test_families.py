"""Family word profiles (lstm_atlas.explain.families): which families a paste's words belong to.

Pure logic on a hand-made index; no TensorFlow.
"""

from __future__ import annotations

from lstm_atlas.explain.families import FamilyProfiles, paste_words

CASES = {
    "stateful-reset": {"family": "stateful", "title": "reset_states() on a stateful LSTM",
                       "cause": "stateful=True keeps states between batches", "fix": "call reset_states()",
                       "symptom": ""},
    "mixed-cpu": {"family": "mixed-precision", "title": "mixed_float16 policy on CPU", "cause": "float16 kernels",
                  "fix": "use float32", "symptom": ""},
    "int-input": {"family": "input-dtype", "title": "int32 input to an LSTM", "cause": "an int32 array",
                  "fix": "cast to float32", "symptom": ""},
}
MESSAGES = [{"case": "int-input", "origin": "observed", "message": "MatMul has type float32 not int32"}]


def test_a_word_one_family_uses_ranks_that_family_first():
    profiles = FamilyProfiles(CASES, MESSAGES, [])
    scores = profiles.scores(paste_words("AttributeError: 'Sequential' object has no attribute 'reset_states'"))
    assert max(scores, key=scores.get) == "stateful"


def test_dtype_spellings_meet_tf_half_is_float16():
    profiles = FamilyProfiles(CASES, MESSAGES, [])
    scores = profiles.scores(paste_words("NotFoundError: Could not find device for node Qr[T=DT_HALF]"))
    assert max(scores, key=scores.get) == "mixed-precision"


def test_library_frames_code_lines_are_not_evidence_but_user_code_and_function_names_are():
    paste = ('Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n'
             '    model.reset_states()\n'
             '  File "/usr/lib/python3.11/site-packages/keras/src/trainer.py", line 9, in convert\n'
             '    raise e.with_traceback(filtered_tb) from None\n'
             "ValueError: boom")
    words = paste_words(paste)
    assert words["reset_states"] and words["convert"] and not words["filtered_tb"]


def test_words_every_family_shares_say_nothing():
    profiles = FamilyProfiles(CASES, MESSAGES, [{"family": "stateful", "template": "x", "message": "lstm lstm"}])
    assert all(v == 0 for v in profiles.scores(paste_words("unheard of words")).values())
