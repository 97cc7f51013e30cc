"""Record real tracebacks, as a user would copy them, for tests/test_explain.py.

    python tests/data/make_tracebacks.py tests/data/tracebacks-<env>.json

Runs a few LSTM mistakes on the installed TensorFlow and keeps ``traceback.format_exc()``
(Keras' filtered traceback, graph-execution wrappers, errors raised inside a user's
``tf.function``), so the tests read messages in their real form instead of ones typed
from memory. Each record names the family that explain must answer.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf

keras = tf.keras


def model(input_shape, units=4, out=1, activation=None):
    m = keras.Sequential([keras.Input(shape=input_shape), keras.layers.LSTM(units),
                          keras.layers.Dense(out, activation=activation)])
    return m


def two_d_into_fit():
    m = model((5, 3))
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.zeros((8, 5), "float32"), np.zeros((8, 1), "float32"), epochs=1, verbose=0)


def rank_error_inside_tf_function():
    lstm = keras.layers.LSTM(4)

    @tf.function
    def step(x):
        return lstm(x)

    step(tf.zeros((8, 5)))


def label_out_of_range():
    m = model((5, 3), out=3, activation="softmax")
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(np.zeros((8, 5, 3), "float32"), np.full((8,), 3), epochs=1, verbose=0)


def cardinality():
    m = model((5, 3))
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.zeros((8, 5, 3), "float32"), np.zeros((9, 1), "float32"), epochs=1, verbose=0)


def object_array():
    m = model((2, 2))
    m.compile(optimizer="adam", loss="mse")
    x = np.array([[[1, 2], [3, "a"]], [[5, 6], [7, 8]]], dtype=object)
    m.fit(x, np.zeros((2, 1), "float32"), epochs=1, verbose=0)


MISTAKES = [(two_d_into_fit, ["input-rank"]), (rank_error_inside_tf_function, ["input-rank"]),
            (label_out_of_range, ["label-loss"]), (cardinality, ["cardinality", "input-container"]),
            (object_array, ["input-dtype", "timesteps"])]


def main(out: str) -> None:
    records = []
    for mistake, families in MISTAKES:
        try:
            mistake()
        except Exception:  # noqa: BLE001 - recording whatever TensorFlow raises is the point
            records.append({"mistake": mistake.__name__, "families": families,
                            "traceback": traceback.format_exc()})
        else:
            records.append({"mistake": mistake.__name__, "families": families, "traceback": None})
    doc = {"tensorflow": tf.__version__, "keras": getattr(keras, "__version__", None) or
           __import__("keras").__version__, "records": records}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
