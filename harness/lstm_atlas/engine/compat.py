"""The one seam between the harness and the installed TensorFlow/Keras.

Keras 2 (tf.keras up to TF 2.15), Keras 3 (TF >= 2.16) and tf_keras (legacy
Keras on new TF, ``TF_USE_LEGACY_KERAS=1``) differ in module layout, in how a
session is cleared and in a few utilities. Every other module asks this one.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@lru_cache(maxsize=None)
def tf():
    import tensorflow

    return tensorflow


@lru_cache(maxsize=None)
def keras():
    """The Keras that ``tf.keras`` resolves to in this environment."""
    module = tf().keras
    # TF >= 2.16 exposes a lazy proxy; touching an attribute resolves it.
    module.layers  # noqa: B018 - the attribute access is the point
    return module


@lru_cache(maxsize=None)
def keras_version() -> str:
    """Version of the Keras behind tf.keras (Keras 2's tf.keras has no __version__)."""
    from importlib import metadata

    k = keras()
    version = getattr(k, "__version__", None)
    if version is None and callable(getattr(k, "version", None)):
        version = k.version()
    if version is None:
        dist = "tf-keras" if "tf_keras" in k.__name__ else "keras"
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "unknown"
    return str(version)


def keras_flavor() -> str:
    """'keras3', 'keras2' (tf.keras of TF <= 2.15) or 'tf_keras' (legacy Keras on TF >= 2.16)."""
    version = keras_version()
    if version.startswith("3"):
        return "keras3"
    if "tf_keras" in keras().__name__:
        return "tf_keras"
    return "keras2"


def is_keras3() -> bool:
    return keras_flavor() == "keras3"


class DeviceSplitError(RuntimeError):
    """The CPU could not be split into the logical devices asked for."""


def configure_logical_cpus(count: int) -> None:
    """Split the CPU into ``count`` logical devices, to exercise the device axis without a GPU.

    Must run before TensorFlow initialises its devices (first op). Raises
    :class:`DeviceSplitError` when that is too late or TensorFlow ends up with another count:
    silently keeping one CPU would turn every cpu0/cpu1 item into a skip.
    """
    if count <= 1:
        return
    t = tf()
    cpus = t.config.list_physical_devices("CPU")
    if not cpus:
        raise DeviceSplitError("TensorFlow sees no CPU to split")
    try:
        t.config.set_logical_device_configuration(cpus[0], [t.config.LogicalDeviceConfiguration()] * count)
    except (RuntimeError, ValueError) as exc:
        current = t.config.get_logical_device_configuration(cpus[0]) or []
        if len(current) == count:  # this interpreter already split it the same way
            return
        raise DeviceSplitError(f"cannot split the CPU into {count} logical devices: {exc}") from None
    found = len(t.config.list_logical_devices("CPU"))
    if found != count:
        raise DeviceSplitError(f"asked for {count} logical CPUs, TensorFlow made {found}")


@lru_cache(maxsize=None)
def visible_devices() -> tuple[str, ...]:
    """Device ids as the harness names them: 'cpu' or 'cpu0', 'cpu1', ... and 'gpu', 'gpu1', ..."""
    t = tf()
    out = []
    cpus = t.config.list_logical_devices("CPU")
    gpus = t.config.list_logical_devices("GPU")
    if len(cpus) <= 1:
        out.append("cpu")
    else:
        out.extend(f"cpu{i}" for i in range(len(cpus)))
    if len(gpus) == 1:
        out.append("gpu")
    else:
        out.extend(f"gpu{i}" for i in range(len(gpus)))
    return tuple(out)


def device_kind(device_id: str) -> str:
    return "gpu" if device_id.startswith("gpu") else "cpu"


def tf_device_name(device_id: str) -> str:
    kind = device_kind(device_id)
    index = device_id[3:] or "0"
    return f"/{kind.upper()}:{index}"


def device_scope(device_id: str):
    return tf().device(tf_device_name(device_id))


def clear_session() -> None:
    """A fresh Keras session without Keras 3's full garbage collection on every call (~0.25 s)."""
    k = keras()
    try:
        k.backend.clear_session(free_memory=False)
    except TypeError:
        k.backend.clear_session()


def set_seed(seed: int) -> None:
    keras().utils.set_random_seed(seed)


def bfloat16_numpy_type():
    """The numpy bfloat16 type this TensorFlow converts: ml_dtypes' from TF 2.14, TF's own before (TF 2.13
    neither needs nor installs ml_dtypes)."""
    return tf().bfloat16.as_numpy_dtype


def pad_sequences(sequences, **kwargs):
    k = keras()
    utils = getattr(k, "utils", None)
    if utils is not None and hasattr(utils, "pad_sequences"):
        return utils.pad_sequences(sequences, **kwargs)
    return k.preprocessing.sequence.pad_sequences(sequences, **kwargs)


def to_categorical(values, num_classes=None):
    return keras().utils.to_categorical(values, num_classes=num_classes)


def _public_classes(module, base):
    out = {}
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name, None)
        if isinstance(obj, type) and issubclass(obj, base):
            out[name] = obj
    return out


@lru_cache(maxsize=None)
def layer_classes() -> dict:
    k = keras()
    return _public_classes(k.layers, k.layers.Layer)


@lru_cache(maxsize=None)
def optimizer_classes() -> dict:
    k = keras()
    return {name.lower(): cls for name, cls in _public_classes(k.optimizers, k.optimizers.Optimizer).items()}


def set_dtype_policy(name: str | None) -> None:
    k = keras()
    mp = getattr(k, "mixed_precision", None)
    setter = getattr(mp, "set_global_policy", None) or k.mixed_precision.set_dtype_policy
    setter(name or "float32")


#: The file suffix of each ``save: {format}``: Keras 3 insists on ``.keras`` and ``.weights.h5``, and
#: ``weights_h5`` is the plain ``.h5`` weights file Keras 2 took and Keras 3 refuses (a failure mode).
SAVE_SUFFIX = {"keras": ".keras", "h5": ".h5", "savedmodel": "", "weights_h5": ".h5", "weights": ".weights.h5"}
#: The formats written with ``save_weights`` and read back into a model built the same way.
WEIGHTS_FORMATS = frozenset({"weights", "weights_h5"})


def save_path_suffix(fmt: str) -> str:
    return SAVE_SUFFIX[fmt]


def environment() -> dict:
    """Versions and devices of this interpreter, recorded in every results file."""
    import numpy

    t = tf()
    return {
        "tensorflow": t.__version__,
        "keras": keras_version(),
        "keras_flavor": keras_flavor(),
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "devices": list(visible_devices()),
        "gpu_names": [d.name for d in t.config.list_physical_devices("GPU")],
        "cuda_build": bool(t.test.is_built_with_cuda()),
        "legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS", "") not in ("", "0"),
        "env_name": os.environ.get("ATLAS_ENV") or os.path.basename(sys.prefix),
    }
