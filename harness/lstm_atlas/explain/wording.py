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


def layer_kind(message: str) -> str | None:
    """The kind of the layer whose check a message reports ('recurrent', 'model', or a layer class such as
    'conv2d'); None when it names none or only a custom name ('encoder1')."""
    found = _LAYER_NAME_RE.search(message[:2000])
    if not found:
        return None
    name = re.sub(r"(?:_\d+)+$", "", next(g for g in found.groups() if g).lower())
    for candidate in (name.replace("_", ""), name.split("_")[0]):
        if candidate in _RECURRENT:
            return "recurrent"
        if candidate in _MODEL:
            return "model"
        if candidate in _OTHER_LAYERS:
            return candidate
    return None
