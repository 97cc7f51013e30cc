"""One message normaliser for ``lstm-atlas explain`` and the fuzz map's signatures.

Two raisings of the same cause differ in layer names, shapes, ranks, numbers, dtypes,
paths and the wrapping each Keras/TensorFlow version adds. :func:`message_template`
abstracts those into placeholders so equal causes give equal text, and
:func:`signature` pairs that text with the exception class. Explain and the fuzzer
must both call these functions: a second normaliser would let the map and the
explainer disagree on what counts as "the same error".
"""

from __future__ import annotations

import re

from .observe import message_core, strip_ansi

#: dtype names TensorFlow, Keras and numpy print; longest first so float16 wins over float.
DTYPES = sorted({
    "bfloat16", "float16", "float32", "float64", "half", "float", "double",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128", "string", "str", "object", "variant", "resource",
    "qint8", "quint8", "qint32", "tf.float32", "tf.float16", "tf.float64", "tf.int32", "tf.int64",
    "tf.string", "tf.bool", "<U1", "<U5", "<U3",
}, key=len, reverse=True)

_SUBS: list[tuple[re.Pattern, str]] = [
    # file paths (POSIX and Windows) and memory addresses
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.\-+ ]+)+\.(?:py|h5|keras|tflite|pb|json)\b"), "<path>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<addr>"),
    # shapes: (None, 5, 1), [32, 10], TensorShape([...]), shape=(...)
    (re.compile(r"TensorShape\(\[[^\]]*\]\)"), "<shape>"),
    (re.compile(r"\((?:\s*(?:None|\?|-?\d+)\s*,)+\s*(?:None|\?|-?\d+)?\s*\)"), "<shape>"),
    (re.compile(r"\[(?:\s*(?:None|\?|-?\d+)\s*,)+\s*(?:None|\?|-?\d+)\s*\]"), "<shape>"),
    (re.compile(r"\(\)"), "<shape>"),
    # quoted names: 'lstm_3', "sequential_1/lstm/..." -> <name>
    (re.compile(r"'[^'\n]{1,200}'"), "<name>"),
    (re.compile(r'"[^"\n]{1,200}"'), "<name>"),
    # numbers (floats before ints)
    (re.compile(r"(?<![\w<])-?\d+\.\d+(?:e[-+]?\d+)?(?![\w>])", re.I), "<num>"),
    (re.compile(r"(?<![\w<])-?\d+(?![\w>])"), "<num>"),
]
_DTYPE_RE = re.compile(r"(?<![\w<.])(?:" + "|".join(re.escape(d) for d in DTYPES) + r")(?![\w>])")
_LAYER_NAME_RE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*_\d+\b")
_SPACE_RE = re.compile(r"\s+")


def message_template(message: str) -> str:
    """The message with names, shapes, numbers, dtypes, paths and wrapping abstracted.

    Accepts a bare message or a whole pasted traceback; only its core sentence is kept.
    """
    core = message_core(strip_ansi(message or ""))
    text = _LAYER_NAME_RE.sub("<name>", core)
    for pattern, repl in _SUBS:
        text = pattern.sub(repl, text)
    text = _DTYPE_RE.sub("<dtype>", text)
    text = re.sub(r"(?:<num>\s*,\s*)+<num>", "<num>", text)
    return _SPACE_RE.sub(" ", text).strip()


def signature(exc_type: str | None, message: str) -> str:
    """``ExceptionClass: template``; the unit that collapses across examples and versions."""
    name = (exc_type or "").rsplit(".", 1)[-1] or "Error"
    return f"{name}: {message_template(message)}"
