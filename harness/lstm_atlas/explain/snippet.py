"""A case variant rendered as Keras code a user can paste and run.

``lstm-atlas explain`` shows the fix of the matched case as code, not as YAML: the fix
variant (data, model, compile, steps) is the program the matrix ran and verified, so
the snippet mirrors what the engine does with it: the data lines come from the same
data-op table the data stage builds from (``case/dataops``), optimizers and save formats
from the allow-list and ``engine/compat.py``. It is plain text; nothing here imports Keras.
"""

from __future__ import annotations

from lstm_atlas.case import dataops, dtypes
from lstm_atlas.case.allow import NESTED_LAYER_KEYS, OPTIMIZER_ARGS, OPTIMIZERS
from lstm_atlas.engine.compat import SAVE_SUFFIX, WEIGHTS_FORMATS


def _py(value) -> str:
    """Python literal for a YAML value (lists stay lists; True/None spelled as Python)."""
    return repr(value)


def _split(spec: dict) -> tuple[str, dict]:
    if "class_name" in spec:
        return spec["class_name"], dict(spec.get("config") or {})
    (name, config), = spec.items()
    return name, dict(config or {})


def render_layer(spec: dict) -> str:
    name, config = _split(spec)
    args = []
    for key, value in config.items():
        if key in NESTED_LAYER_KEYS and isinstance(value, dict):
            args.append(f"{key}={render_layer(value)}")
        elif key == "cells" and isinstance(value, list):
            args.append(f"cells=[{', '.join(render_layer(v) for v in value)}]")
        else:
            args.append(f"{key}={_py(value)}")
    return f"layers.{name}({', '.join(args)})"


def _data_lines(data: dict) -> tuple[list[str], bool]:
    """Each entry as the data stage builds it, op by op from the data-op table; whether TensorFlow is needed."""
    lines: list[str] = []
    uses_tf = False
    for name, spec in dataops.ordered(data):
        fill = dataops.fill_of(spec)
        expr = fill.render(spec)
        cast = fill.cast_to(spec)
        lines.append(f"{name} = {expr}" + (f".astype({dtypes.code(cast)})" if cast else ""))
        lines += dataops.SET.render(name, spec.get("set", []))
        for step in spec.get("preprocess", []):
            (op, arg), = step.items()
            lines.append(dataops.step_of(op).render(name, arg))
        container = dataops.container_of(spec)
        uses_tf = uses_tf or container.tf
        lines += container.render(name, spec)
    return lines, uses_tf


def _compile_line(spec: dict, target: str) -> str:
    name = spec.get("optimizer", "adam")
    if name.lower() not in OPTIMIZERS:  # validation rules this out; a snippet names only allow-listed classes
        raise ValueError(f"optimizer {name!r} is not in the allow-list")
    kwargs = {k: spec[k] for k in OPTIMIZER_ARGS if k in spec}
    if kwargs:
        cls = OPTIMIZERS[name.lower()]
        optimizer = f"keras.optimizers.{cls}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    else:
        optimizer = repr(name)
    args = [f"optimizer={optimizer}"]
    if spec.get("loss"):
        args.append(f"loss={spec['loss']!r}")
    if spec.get("metrics"):
        args.append(f"metrics={spec['metrics']!r}")
    for key in ("run_eagerly", "jit_compile"):
        if key in spec:
            args.append(f"{key}={spec[key]!r}")
    return f"{target}.compile({', '.join(args)})"


def _steps(variant: dict) -> list[str]:
    run = variant["run"]
    return [run] if isinstance(run, str) else list(run)


def _xy(args: dict, data: dict) -> str:
    x = args.get("x", "x")
    y = args.get("y", "y")
    if data.get(x, {}).get("container") == "dataset" or y is None or y not in data:
        return x
    return f"{x}, {y}"


def _step_lines(variant: dict, target: str) -> list[str]:
    data = variant.get("data", {})
    out = []
    for step in _steps(variant):
        if step == "construct":
            continue
        if step == "compile":
            continue  # compiled right after construction, as the harness does
        if step == "fit":
            args = variant.get("fit", {})
            extra = [f"epochs={args.get('epochs', 1)}"]
            extra += [f"{k}={args[k]!r}" for k in ("batch_size", "validation_split", "steps_per_epoch", "shuffle")
                      if k in args]
            if args.get("validation_data"):
                refs = args["validation_data"]
                extra.append(f"validation_data={refs[0] if len(refs) == 1 else '(' + ', '.join(refs) + ')'}")
            out.append(f"history = {target}.fit({_xy(args, data)}, {', '.join(extra)})")
        elif step == "evaluate":
            args = variant.get("evaluate", {})
            extra = [f", batch_size={args['batch_size']!r}"] if "batch_size" in args else []
            out.append(f"loss = {target}.evaluate({_xy(args, data)}{''.join(extra)})")
        elif step == "predict":
            args = variant.get("predict", {})
            extra = f", batch_size={args['batch_size']!r}" if "batch_size" in args else ""
            out.append(f"predictions = {target}.predict({args.get('x', 'x')}{extra})")
        elif step == "call":
            args = variant.get("call", {})
            kwargs = []
            for key in ("states", "initial_state"):
                if key in args:
                    refs = args[key]
                    kwargs.append(f"{key}={'None' if refs is None else '[' + ', '.join(refs) + ']'}")
            if "mask" in args:
                kwargs.append(f"mask={args['mask']}")
            if "training" in args:
                kwargs.append(f"training={args['training']!r}")
            inputs = render_layer(args["inputs_layer"]) if args.get("inputs_layer") else args.get("inputs", "x")
            positional = [a if isinstance(a, str) else repr(a["value"]) for a in args.get("positional", [])]
            keyword = args.get("keyword")
            first = positional + [f"{keyword}={inputs}"] if keyword else [inputs] + positional
            call = f"{target}({', '.join(first + kwargs)})"
            unpack = args.get("unpack")
            names = ", ".join(["output"] + [f"state_{i}" for i in range(1, unpack)]) if unpack else "output"
            out.append(f"{names} = {call}")
        elif step == "reset_states":
            if (variant.get("reset_states") or {}).get("target", "model") == "model":
                out.append(f"{target}.reset_states()")
            else:
                out.append(f"for stateful in (l for l in {target}.layers if getattr(l, 'stateful', False)):")
                out.append("    stateful.reset_states()")
        elif step == "tf_op":
            args = variant.get("tf_op") or {}
            extra = "".join(f", {k}={args[k]!r}" for k in ("axis", "perm") if k in args)
            shape = tuple((variant.get("model") or {}).get("input", {}).get("shape", ()))
            out.append(f"symbolic = {target}(keras.Input(shape={shape}))")
            out.append(f"output = tf.{args.get('op')}(symbolic{extra})")
        elif step == "save":
            args = variant.get("save") or {}
            fmt = args.get("format", "keras")
            path = "model" + SAVE_SUFFIX.get(fmt, ".keras")
            method = "save_weights" if fmt in WEIGHTS_FORMATS else "save"
            extra = f", save_format={args['save_format']!r}" if "save_format" in args else ""
            out.append(f"{target}.{method}({path!r}{extra})")
        elif step == "load":
            fmt = (variant.get("save") or {}).get("format", "keras")
            path = "model" + SAVE_SUFFIX.get(fmt, ".keras")
            if fmt in WEIGHTS_FORMATS:
                out.append(f"{target}.load_weights({path!r})")
            else:
                out.append(f"{target} = keras.models.load_model({path!r})")
        elif step == "convert":
            args = variant.get("convert") or {}
            out.append(f"converter = tf.lite.TFLiteConverter.from_keras_model({target})")
            if args.get("select_tf_ops"):
                out.append("converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, "
                           "tf.lite.OpsSet.SELECT_TF_OPS]")
            if "lower_tensor_list_ops" in args:
                out.append(f"converter._experimental_lower_tensor_list_ops = {args['lower_tensor_list_ops']!r}")
            out.append("tflite_model = converter.convert()")
    return out


def render_variant(variant: dict) -> str:
    """Runnable Python for one merged case variant (the ``fix`` one, for explain)."""
    data_lines, uses_tf = _data_lines(variant.get("data", {}))
    model = variant.get("model") or {}
    steps = _steps(variant)
    uses_tf = uses_tf or "convert" in steps or "tf_op" in steps
    uses_ml_dtypes = any("ml_dtypes." in line for line in data_lines)  # bfloat16 arrays
    head = ["import numpy as np"] + (["import ml_dtypes"] if uses_ml_dtypes else []) + (
        ["import tensorflow as tf"] if uses_tf else []) + [
        "import keras", "from keras import layers", "", f"rng = np.random.default_rng({variant.get('seed', 0)})"]
    body: list[str] = []
    if model.get("dtype_policy"):
        body.append(f"keras.mixed_precision.set_global_policy({model['dtype_policy']!r})")
    target = "model"
    if "layer" in model:
        target = "layer"
        body.append(f"layer = {render_layer(model['layer'])}")
    elif model.get("layers"):
        items = []
        if model.get("input"):
            spec = model["input"]
            kwargs = [f"shape={tuple(spec['shape'])}"]
            kwargs += [f"{k}={spec[k]!r}" for k in ("batch_size", "dtype") if spec.get(k)]
            items.append(f"keras.Input({', '.join(kwargs)})")
        items += [render_layer(layer) for layer in model["layers"]]
        body.append("model = keras.Sequential([\n" + "".join(f"    {item},\n" for item in items) + "])")
        if model.get("compile"):
            body.append(_compile_line(model["compile"], "model"))
    return "\n".join(head + data_lines + body + _step_lines(variant, target)) + "\n"
