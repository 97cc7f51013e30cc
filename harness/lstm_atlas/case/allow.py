"""The names a case may use: layer classes, optimizers, losses, metrics, activations and friends.

A case is data, so it may only name things from these explicit lists. Without them any
public ``keras.layers`` class is reachable (``TFSMLayer`` loads a SavedModel from any
path), and a nested config dict goes through Keras' deserialiser, which on Keras <= 3.8
imports whatever module the dict names. Here a nested dict is only ever a layer spec of
an allow-listed class, built by the harness itself; every other name is a plain string
from a list below. Checked at validate time, without TensorFlow.
"""

from __future__ import annotations

from typing import Callable

from lstm_atlas.case import keywords
from lstm_atlas.case.dtypes import keras_names
from lstm_atlas.errors import CaseError

#: The recurrent family, its wrappers, and the other layers the cases build around them.
LAYER_CLASSES = (
    "LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "RNN", "StackedRNNCells",
    "Bidirectional", "TimeDistributed",
    "Dense", "Embedding", "Masking", "Dropout", "Activation", "Flatten", "Reshape", "RepeatVector",
    "GlobalAveragePooling1D", "GlobalMaxPooling1D", "LayerNormalization", "BatchNormalization",
)

#: Config keys whose value is a nested layer spec (``Bidirectional.layer``, ``RNN.cell``) ...
NESTED_LAYER_KEYS = ("layer", "backward_layer", "cell")
#: ... or a list of them (``StackedRNNCells.cells``).
NESTED_LAYER_LIST_KEYS = ("cells",)

#: Each optimizer a case may name (lower case, as ``compile`` takes it) and its ``keras.optimizers`` class,
#: which explain's snippets write when the case gives the optimizer arguments.
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "Nadam", "sgd": "SGD",
              "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta", "ftrl": "Ftrl"}

#: The compile keys passed to the optimizer's constructor (``lr`` and ``decay`` are Keras 2 spellings that
#: later optimizers refuse: cases record what each version does with them).
OPTIMIZER_ARGS = ("learning_rate", "lr", "decay", "clipnorm", "clipvalue")

#: The TensorFlow functions a ``tf_op`` step may apply to a Keras tensor (the schema's enum too).
TF_OPS = ("reduce_sum", "reduce_mean", "reduce_max", "reverse", "transpose", "expand_dims", "squeeze", "abs")

LOSSES = (
    "mse", "mae", "mape", "msle", "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge",
    "huber", "log_cosh", "kld", "kl_divergence", "poisson", "cosine_similarity",
)

METRICS = (
    "accuracy", "acc", "mse", "mae", "mape", "msle", "mean_squared_error", "mean_absolute_error",
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
)

ACTIVATIONS = (
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "sigmoid",
    "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "exponential",
)

INITIALIZERS = (
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "identity", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling",
)

REGULARIZERS = ("l1", "l2", "l1_l2")

CONSTRAINTS = ("max_norm", "min_max_norm", "non_neg", "unit_norm")

#: The mixed-precision policies a layer's ``dtype`` may name besides a tensor dtype.
DTYPE_POLICIES = ("mixed_float16", "mixed_bfloat16")
#: Tensor dtypes (the case dtypes Keras layers take, by their Keras names) and the dtype policies.
DTYPES = keras_names() + DTYPE_POLICIES

MERGE_MODES = ("concat", "sum", "mul", "ave")

Error = Callable[[str, tuple], CaseError]


def _names_for(key: str) -> tuple[str, tuple] | None:
    """The allow-list a config key's string value must come from, if the key names an object."""
    if key == "activation" or key.endswith("_activation"):
        return "activation", ACTIVATIONS
    if key.endswith("_initializer"):
        return "initializer", INITIALIZERS
    if key.endswith("_regularizer"):
        return "regularizer", REGULARIZERS
    if key.endswith("_constraint"):
        return "constraint", CONSTRAINTS
    if key == "dtype":
        return "dtype", DTYPES
    if key == "merge_mode":
        return "merge mode", MERGE_MODES
    return None


def _close(name: str, names) -> str:
    similar = [n for n in names if n.lower().startswith(name.lower()[:3])][:5]
    return f"; similar: {', '.join(similar)}" if similar else ""


def split_layer_spec(spec, where: tuple, error: Error) -> tuple[str, dict, tuple]:
    """(class name, config, path of the config) of a compact ``{LSTM: {...}}`` or ``{class_name, config}`` spec."""
    if not isinstance(spec, dict) or not spec:
        raise error("a layer is a mapping like {LSTM: {units: 4}} or {class_name: LSTM, config: {...}}", where)
    if "class_name" in spec:
        extra = sorted(set(spec) - {"class_name", "config"})
        if extra:
            raise error(f"a {{class_name, config}} layer spec has no field '{extra[0]}'", where + (extra[0],))
        name, config, config_at = spec["class_name"], spec.get("config"), where + ("config",)
    else:
        if len(spec) != 1:
            raise error(f"a layer spec names one class, found {len(spec)}: {', '.join(map(str, spec))}", where)
        (name, config), = spec.items()
        config_at = where + (name,)
    if not isinstance(name, str):
        raise error(f"a layer class is named by a string, found {type(name).__name__}", where)
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise error(f"the config of {name} is a mapping of its arguments, found {type(config).__name__}", config_at)
    return name, config, config_at


def _check_plain(value, where: tuple, error: Error) -> None:
    """Config values are scalars or lists of them; no dict reaches Keras' deserialiser."""
    if isinstance(value, dict):
        raise error("a nested config object is not allowed here; name it by a string from the allow-list", where)
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, where + (i,), error)


def check_layer(spec, where: tuple, error: Error) -> None:
    """A layer spec names an allow-listed class; nested layers are specs too; other values are plain."""
    name, config, config_at = split_layer_spec(spec, where, error)
    if name not in LAYER_CLASSES:
        raise error(f"unknown layer '{name}': not in the allow-list of layer classes{_close(name, LAYER_CLASSES)}",
                    where)
    for key, value in config.items():
        at = config_at + (key,)
        refused = keywords.refusal(name, key)  # layer_signatures.json: what each Keras's class really takes
        if refused:
            raise error(refused, at)
        if key in NESTED_LAYER_KEYS and value is not None:
            check_layer(value, at, error)
        elif key in NESTED_LAYER_LIST_KEYS and value is not None:
            if not isinstance(value, list) or not value:
                raise error(f"'{key}' is a list of layer specs", at)
            for i, item in enumerate(value):
                check_layer(item, at + (i,), error)
        else:
            _check_plain(value, at, error)
            names = _names_for(key)
            if names is not None and value is not None:
                kind, allowed = names
                if not isinstance(value, str) or value not in allowed:
                    raise error(f"{kind} {value!r} is not in the allow-list ({', '.join(allowed)})", at)


def check_compile(spec: dict, where: tuple, error: Error) -> None:
    optimizer = spec.get("optimizer", "adam")
    if optimizer.lower() not in OPTIMIZERS:
        raise error(f"unknown optimizer '{optimizer}' (allowed: {', '.join(OPTIMIZERS)})", where + ("optimizer",))
    loss = spec.get("loss")
    if loss is not None and loss not in LOSSES:
        raise error(f"unknown loss '{loss}' (allowed: {', '.join(LOSSES)}){_close(loss, LOSSES)}", where + ("loss",))
    for i, entry in enumerate(spec.get("metrics", [])):
        nested = isinstance(entry, list)  # one output's metrics, nested as Keras 2 takes them
        for j, metric in enumerate(entry if nested else [entry]):
            if metric not in METRICS:
                at = where + ("metrics", i) + ((j,) if nested else ())
                raise error(f"unknown metric '{metric}' (allowed: {', '.join(METRICS)})", at)


def check_model(model: dict, where: tuple, error: Error) -> None:
    """Every name in a model block comes from an allow-list."""
    if "layer" in model:
        check_layer(model["layer"], where + ("layer",), error)
    for i, spec in enumerate(model.get("layers", [])):
        check_layer(spec, where + ("layers", i), error)
    if "compile" in model:
        check_compile(model["compile"], where + ("compile",), error)
    dtype = (model.get("input") or {}).get("dtype")
    if dtype is not None and dtype not in DTYPES:
        raise error(f"dtype {dtype!r} is not in the allow-list ({', '.join(DTYPES)})", where + ("input", "dtype"))
