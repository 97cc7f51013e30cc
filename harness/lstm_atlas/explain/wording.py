"""What a message's wording says beyond its words: the Keras generation it comes from, the kind of layer it names.

Read by the index (per document, once) and the scorer (per query); plain regexes, no TensorFlow.
"""

from __future__ import annotations

import re

from lstm_atlas import versions


def generation_of(keras: str | None = None, tf: str | None = None) -> str | None:
    """'3' for Keras 3 (or TF >= 2.16), '2' for Keras 1/2 and tf.keras (TF < 2.16); None when not known."""
    if keras:
        return "3" if keras.strip().startswith("3") else "2" if keras.strip()[:1] in "12" else None
    if tf:
        rel = versions.release(tf)
        if rel and rel[0] == 1:
            return "2"
        if rel and len(rel) > 1 and rel[0] == 2:
            return "3" if rel[1] >= 16 else "2"
    return None


def doc_generations(doc: dict, envs: dict) -> frozenset:
    """The Keras generations a document's wording was seen on (empty: not known, e.g. a symptom)."""
    if doc["origin"] == "observed":
        return frozenset(filter(None, (generation_of(envs.get(env, {}).get("keras")) for env, _ in doc["seen"])))
    if doc["origin"] == "reported" and doc.get("era"):
        return frozenset({"3" if doc["era"] == "keras3" else "2"})
    if doc["origin"] == "symptom" and doc.get("generation") in ("2", "3"):  # labelled "(Keras 3)" in the symptom
        return frozenset({doc["generation"]})
    return frozenset()


_LAYER_NAME_RE = re.compile(r"(?:of|with) layer\s+[\"']?([A-Za-z][\w.]*)|\blayer [\"']([A-Za-z][\w.]*)[\"']|"
                            r"expected ([a-z][a-z0-9_]*?)_input(?:_\d+)? to have", re.I)
_RECURRENT = {"lstm", "gru", "simplernn", "rnn", "bidirectional", "cudnnlstm", "cudnngru", "convlstm1d", "convlstm2d",
              "convlstm3d", "lstmcell", "grucell", "simplernncell", "stackedrnncells"}
_MODEL = {"sequential", "functional", "model", "input", "inputlayer"}
#: Keras layer classes (lower case, no underscores) a message may name that are neither recurrent nor a model.
_OTHER_LAYERS = {
    "dense", "conv1d", "conv2d", "conv3d", "conv1dtranspose", "conv2dtranspose", "conv3dtranspose", "separableconv1d",
    "separableconv2d", "depthwiseconv2d", "flatten", "batchnormalization", "layernormalization", "embedding",
    "dropout", "maxpooling1d", "maxpooling2d", "maxpooling3d", "averagepooling1d", "averagepooling2d",
    "globalaveragepooling1d", "globalaveragepooling2d", "globalmaxpooling1d", "globalmaxpooling2d", "reshape",
    "concatenate", "add", "multiply", "activation", "attention", "multiheadattention", "textvectorization",
    "normalization", "zeropadding1d", "zeropadding2d", "upsampling1d", "upsampling2d", "permute", "repeatvector",
    "lambda", "timedistributed", "cropping2d", "spatialdropout1d", "gaussiannoise"}


#: A TF graph node named in a message: "[[Node: gradients/batch_normalization_1/batchnorm/mul_1_grad/...",
#: "{{node sequential/lstm/lstm_cell/MatMul}}", "for 'lstm_1/transpose_1' (op: ...".
_NODE_RE = re.compile(r"(?:\[\[Node: |\{\{node |\bfor ')([\w/.\-]+)")


def _kind_of_name(name: str) -> str | None:
    name = re.sub(r"(?:_\d+)+$", "", name.lower())
    for candidate in (name.replace("_", ""), name.split("_")[0]):
        if candidate in _RECURRENT:
            return "recurrent"
        if candidate in _MODEL:
            return "model"
        if candidate in _OTHER_LAYERS:
            return candidate
    return None


def layer_kind(message: str) -> str | None:
    """The kind of the layer whose check a message reports ('recurrent', 'model', or a layer class such as
    'conv2d'); None when it names none or only a custom name ('encoder1'). Without a layer named in the
    words, the first layer in the path of a graph node the message names (its op ran in that layer)."""
    found = _LAYER_NAME_RE.search(message[:2000])
    if found:
        return _kind_of_name(next(g for g in found.groups() if g))
    node = _NODE_RE.search(message[:2000])
    if node:
        for part in node.group(1).split("/"):
            kind = _kind_of_name(part)
            if kind and kind != "model":
                return kind
    return None


#: Words that say a recurrent layer is involved, anywhere in a paste (frames, code, node names).
_RECURRENT_WORD_RE = re.compile(r"lstm|gru|rnn|bidirectional|recurrent|cudnn", re.I)


def mentions_recurrent(text: str) -> bool:
    """Whether a paste names a recurrent layer anywhere (its frames and code lines included)."""
    return bool(_RECURRENT_WORD_RE.search(text[:200_000]))


#: The argument a message names as missing or unexpected: "missing 1 required positional argument: 'states'",
#: "missing a required argument: 'sequences'", "got an unexpected keyword argument 'return_state'".
_NAMED_ARGUMENT_RE = re.compile(r"(?:missing (?:\d+|a) required (?:positional |keyword-only )?arguments?:?|"
                                r"unexpected keyword argument) ['\"]?(\w+)")


def named_arguments(message: str) -> frozenset:
    """The argument names a message reports missing or unexpected (the template hides them as <name>)."""
    return frozenset(_NAMED_ARGUMENT_RE.findall(message[:4000]))


#: The step of a run a traceback shows failing, read off its frames and code (a case's ``run`` steps).
_STEP_RES = {
    "convert": re.compile(r"converter|tflite|lite[/\\.]python|ConverterError|tensorflowjs|\bconvert\b", re.I),
    "save": re.compile(r"\.save\(|save_model|save_weights|ModelCheckpoint|saving[/\\]", re.I),
    "load": re.compile(r"load_model|load_weights", re.I),
    "predict": re.compile(r"\bpredict(?:_on_batch|_step|_function)?\b", re.I),
    "fit": re.compile(r"\bfit\b|train_function|train_step", re.I),
}


def steps_shown(text: str) -> frozenset:
    """The run steps (convert, save, load, predict, fit) a paste's frames, code or message name."""
    head = text[:200_000]
    return frozenset(step for step, pattern in _STEP_RES.items() if pattern.search(head))


#: dtype names as TF, NumPy and Keras write them, to one spelling each ("DT_HALF", "half": float16).
_DTYPE_WORD_RE = re.compile(r"\b(?:DT_)?(u?int(?:8|16|32|64)|float(?:16|32|64)|bfloat16|half|double|bool|"
                            r"string|complex(?:64|128))\b", re.I)
_DTYPE_ALIASES = {"half": "float16", "double": "float64"}
#: dtypes in a tensor's repr ("Tensor(..., dtype=float32)") describe the value, not the clash the message reports.
_REPR_DTYPE_RE = re.compile(r"dtype=\w+")


def dtypes_named(message: str) -> frozenset:
    """The dtypes a message names outside tensor reprs (the template hides them as <dtype>)."""
    text = _REPR_DTYPE_RE.sub(" ", message[:4000])
    return frozenset(_DTYPE_ALIASES.get(d.lower(), d.lower()) for d in _DTYPE_WORD_RE.findall(text))


_TARGET_OUTPUT_RE = re.compile(r"target array with shape \(([^()]*)\) was passed for an output of shape \(([^()]*)\)")


def target_output_difference(message: str) -> str | None:
    """Keras 2's "A target array with shape X was passed for an output of shape Y": 'rank' when the labels
    have another number of axes than the output (a sequence output against per-sample labels), else
    'features' (another last axis); None for other messages."""
    m = _TARGET_OUTPUT_RE.search(message[:4000])
    if not m:
        return None
    target, output = ([d for d in part.split(",") if d.strip()] for part in m.groups())
    return "rank" if len(target) != len(output) else "features"



#: Wrapping pasted around a message that says nothing of its cause, at the start of its template: Python
#: logging's prefix ("WARNING:tensorflow:", "WARNING:absl:"), a conversion that re-raises another error ("Tried to
#: convert 'indices' to a tensor and failed. Error: ..."), and the "Exception encountered when calling X.call()."
#: of an issue title, where it shares the line with the message (message_core drops it only on a line of its own).
_WRAPPER_RES = (
    re.compile(r"^(?:WARNING|INFO|ERROR|CRITICAL|DEBUG):(?:tensorflow|absl|root|keras|py\.warnings):\s*"),
    re.compile(r"^Tried to convert <name> to a tensor and failed\.\s*Error:\s*(?=\S)"),
    re.compile(r"^Exception encountered when calling (?:layer <name> \(type \w+\)|[\w.]+\(\))\.\s*(?=\S)"),
)


def unwrapped(template: str) -> str:
    """A template without the wrapping in front of the message (:data:`_WRAPPER_RES`); never empty."""
    text = template
    changed = True
    while changed:
        changed = False
        for pattern in _WRAPPER_RES:
            stripped = pattern.sub("", text, count=1)
            if stripped != text and stripped.strip():
                text, changed = stripped, True
    return text


_DIMENSIONS_RE = re.compile(r"to have (\d+) dimensions, but got array with shape \(([^()]*)\)")


def rank_direction(message: str) -> str | None:
    """Keras 2's "expected X to have N dimensions, but got array with shape S": 'extra' when the array has more
    axes than the layer expects (labels one-hot encoded twice, a window axis too many), 'missing' when fewer
    (a sequence output against per-sample labels, 2D data into an LSTM); None for other messages."""
    m = _DIMENSIONS_RE.search(message[:4000])
    if not m:
        return None
    expected, got = int(m.group(1)), len([d for d in m.group(2).split(",") if d.strip()])
    return "extra" if got > expected else "missing" if got < expected else None


_EXPECTED_SHAPE_RE = re.compile(r"expected shape=[(\[]([^()\[\]]*)[)\]]")


def expected_rank(message: str) -> int | None:
    """How many axes an input check expects ("expected shape=(None, 5, 3)": 3, batch axis included); an LSTM's
    input has 3, a Dense or graph model's 2, an image model's 4. None when the message shows no such shape."""
    m = _EXPECTED_SHAPE_RE.search(message[:4000])
    return len([d for d in m.group(1).split(",") if d.strip()]) if m else None


#: What in a paste shows the Keras generation it ran on: tf.keras's logging prefix and Keras 2's package paths
#: (tensorflow/python/keras, tf_keras, keras/engine, keras/src/engine of Keras 2.13-2.15), Keras 3's own modules.
_GENERATION_SHOWN = (
    ("2", re.compile(r"^\s*WARNING:tensorflow:|tensorflow[/\\.]python[/\\.]keras[/\\.]|\btf_keras[/\\.]|"
                     r"\bkeras[/\\.](?:src[/\\.])?engine[/\\.]", re.M)),
    ("3", re.compile(r"\bkeras[/\\.]src[/\\.](?:trainers|models|backend|ops)[/\\.]|"
                     r"\bkeras[/\\.]src[/\\.]layers[/\\.]layer\.py")),
)


def generation_shown(text: str) -> str | None:
    """The one Keras generation a paste's frames or logging prefix show ('2' or '3'); None when none or both."""
    head = text[:200_000]
    shown = {gen for gen, pattern in _GENERATION_SHOWN if pattern.search(head)}
    return next(iter(shown)) if len(shown) == 1 else None
