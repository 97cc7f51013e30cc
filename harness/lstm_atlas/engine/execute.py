"""Stage 4: run one variant of a case on one device, in-process, and observe what happens.

The pipeline is data -> construct -> (compile) -> the case's steps. The first exception
stops it and is recorded with the stage it came from. Names were resolved beforehand
(:func:`prepare`), so an exception here is TensorFlow's, not the harness's.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from lstm_atlas.case import allow
from lstm_atlas.case.validate import Case, steps_of
from lstm_atlas.engine import compat
from lstm_atlas.engine.build import LayerPlan, ModelPlan, resolve_layer, resolve_model
from lstm_atlas.engine.data import build_data
from lstm_atlas.engine.observe import ExceptionInfo, Observation, capture_warnings


@dataclass
class Prepared:
    variant: dict
    plan: ModelPlan | None
    steps: list[str]
    call_layer: LayerPlan | None = None  # call.inputs_layer: the layer object the model is called on


def prepare(case: Case, variant_name: str) -> Prepared:
    """Resolve every name in the variant against the installed Keras; CaseError if one is unknown."""
    variant = case.variants[variant_name]
    prefix = ("fix",) if variant_name == "fix" else ()

    def error(message, parts):
        return case.doc.error(message, tuple(parts))

    plan = resolve_model(variant.get("model"), error, prefix)
    layer_spec = (variant.get("call") or {}).get("inputs_layer")
    call_layer = resolve_layer(layer_spec, prefix + ("call", "inputs_layer"), error) if layer_spec else None
    steps = steps_of(variant)
    if "tf_op" in steps and (variant.get("tf_op") or {}).get("op") not in allow.TF_OPS:
        raise error(f"tf_op: not an allow-listed TensorFlow function (allowed: {', '.join(allow.TF_OPS)})",
                    prefix + ("tf_op", "op"))
    if plan is not None and "construct" not in steps:
        steps = ["construct"] + steps
    if plan is not None and plan.compile is not None and "compile" not in steps and (
            {"fit", "evaluate", "save", "convert", "predict"} & set(steps)):
        steps.insert(steps.index("construct") + 1, "compile")
    return Prepared(variant=variant, plan=plan, steps=steps, call_layer=call_layer)


#: At most this many non-finite output rows are listed in an observation.
MAX_LISTED_ROWS = 100


def _shape_of(value):
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    return [None if d is None else int(d) for d in shape]


def _describe_output(result, outcome: dict) -> None:
    if isinstance(result, (list, tuple)):
        outcome["output_count"] = len(result)
        outcome["output_shapes"] = [_shape_of(r) if not isinstance(r, (list, tuple)) else [_shape_of(s) for s in r]
                                    for r in result]
        outcome["output_shape"] = _shape_of(result[0]) if result else None
    else:
        outcome["output_count"] = 1
        outcome["output_shape"] = _shape_of(result)
    try:
        arrays = result if isinstance(result, (list, tuple)) else [result]
        flat = [np.asarray(a, dtype=np.float64) for a in arrays if not isinstance(a, (list, tuple))]
        outcome["output_finite"] = bool(all(np.isfinite(a).all() for a in flat))
        if flat and flat[0].ndim >= 1:  # which samples of the (first) output hold a NaN or inf
            rows = ~np.isfinite(flat[0]).reshape(len(flat[0]), -1).all(axis=1)
            outcome["nonfinite_rows"] = [int(i) for i in np.flatnonzero(rows)[:MAX_LISTED_ROWS]]
    except (TypeError, ValueError):
        pass


def _unpack1(r):
    (a,) = r
    return [a]


def _unpack2(r):
    a, b = r
    return [a, b]


def _unpack3(r):
    a, b, c = r
    return [a, b, c]


def _unpack4(r):
    a, b, c, d = r
    return [a, b, c, d]


def _unpack5(r):
    a, b, c, d, e = r
    return [a, b, c, d, e]


#: Real Python unpacking, as user code ``out, h = layer(x)`` does it, so its messages are Python's.
UNPACK = {1: _unpack1, 2: _unpack2, 3: _unpack3, 4: _unpack4, 5: _unpack5}


def _loss_record(values, outcome: dict) -> None:
    values = [float(v) for v in values]
    outcome["loss_history"] = values
    outcome["loss"] = values[-1] if values else None
    outcome["loss_finite"] = bool(values) and all(math.isfinite(v) for v in values)


class _Runner:
    def __init__(self, prepared: Prepared, data: dict, workdir: str):
        self.p = prepared
        self.v = prepared.variant
        self.data = data
        self.workdir = workdir
        self.model = None
        self.saved_path = None
        self.outcome: dict = {}

    def _x_y(self, args: dict, default_y=True):
        x = self.data[args.get("x", "x")]
        y_name = args.get("y", "y" if default_y else None)
        tf = compat.tf()
        if isinstance(x, tf.data.Dataset) or y_name is None or y_name not in self.data:
            return x, None
        return x, self.data[y_name]

    def construct(self):
        self.model = self.p.plan.construct()

    def compile(self):
        self.p.plan.compile.compile(self.model)

    def fit(self):
        args = self.v.get("fit", {})
        x, y = self._x_y(args)
        kwargs = {"epochs": args.get("epochs", 1), "verbose": 0, "shuffle": args.get("shuffle", False)}
        for key in ("batch_size", "validation_split", "steps_per_epoch"):
            if key in args:
                kwargs[key] = args[key]
        if "validation_data" in args:
            refs = [self.data[name] for name in args["validation_data"]]
            kwargs["validation_data"] = refs[0] if len(refs) == 1 else tuple(refs)
        history = self.model.fit(x, y, **kwargs)
        _loss_record(history.history.get("loss", []), self.outcome)

    def evaluate(self):
        args = self.v.get("evaluate", {})
        x, y = self._x_y(args)
        kwargs = {"verbose": 0}
        if "batch_size" in args:
            kwargs["batch_size"] = args["batch_size"]
        result = self.model.evaluate(x, y, **kwargs)
        loss = result[0] if isinstance(result, (list, tuple)) else result
        self.outcome["eval_loss"] = float(loss)
        if "loss" not in self.outcome:
            _loss_record([loss], self.outcome)

    def predict(self):
        args = self.v.get("predict", {})
        x = self.data[args.get("x", "x")]
        kwargs = {"verbose": 0}
        if "batch_size" in args:
            kwargs["batch_size"] = args["batch_size"]
        _describe_output(self.model.predict(x, **kwargs), self.outcome)

    def call(self):
        args = self.v.get("call", {})
        if self.p.call_layer is not None:
            inputs = self.p.call_layer.construct()  # an unapplied layer object, where a tensor belongs
        else:
            inputs = self.data[args.get("inputs", "x")]
        positional = [self.data[a] if isinstance(a, str) else a["value"] for a in args.get("positional", [])]
        kwargs = {}
        for key in ("states", "initial_state"):
            if key in args:
                refs = args[key]
                kwargs[key] = None if refs is None else [self.data[r] for r in refs]
        if "mask" in args:
            kwargs["mask"] = self.data[args["mask"]]
        if "training" in args:
            kwargs["training"] = args["training"]
        if args.get("keyword"):
            result = self.model(*positional, **{args["keyword"]: inputs}, **kwargs)
        else:
            result = self.model(inputs, *positional, **kwargs)
        if "unpack" in args:
            result = UNPACK[args["unpack"]](result)
        _describe_output(result, self.outcome)

    def save(self):
        args = self.v.get("save") or {}
        fmt = args.get("format", "keras")
        path = os.path.join(self.workdir, "model" + compat.save_path_suffix(fmt))
        extra = {"save_format": args["save_format"]} if "save_format" in args else {}
        if fmt in compat.WEIGHTS_FORMATS:
            self.model.save_weights(path, **extra)
        else:
            self.model.save(path, **extra)
        self.saved_path = (fmt, path)

    def load(self):
        fmt, path = self.saved_path
        keras = compat.keras()
        if fmt in compat.WEIGHTS_FORMATS:
            fresh = self.p.plan.construct()
            fresh.load_weights(path)
            self.model = fresh
        else:
            self.model = keras.models.load_model(path)

    def reset_states(self):
        if (self.v.get("reset_states") or {}).get("target", "model") == "model":
            self.model.reset_states()
            return
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    def tf_op(self):
        args = self.v["tf_op"]
        op = getattr(compat.tf(), args["op"])  # one of allow.TF_OPS, checked by prepare
        kwargs = {k: args[k] for k in ("axis", "perm") if k in args}
        spec = self.p.plan.input  # validate requires model.input: the symbolic input user code would write
        symbolic = self.model(compat.keras().Input(shape=tuple(spec["shape"]), batch_size=spec.get("batch_size")))
        _describe_output(op(symbolic, **kwargs), self.outcome)

    def convert(self):
        args = self.v.get("convert") or {}
        tf = compat.tf()
        converter = tf.lite.TFLiteConverter.from_keras_model(self.model)
        if args.get("select_tf_ops"):
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
        if "lower_tensor_list_ops" in args:
            converter._experimental_lower_tensor_list_ops = args["lower_tensor_list_ops"]
        self.outcome["tflite_bytes"] = len(converter.convert())


def execute(prepared: Prepared, device: str, seed: int = 0) -> Observation:
    """Run the prepared variant on ``device`` in a fresh Keras session; never raises for TF errors."""
    compat.clear_session()
    compat.set_seed(seed)
    sink: list = []
    stage = "data"
    steps_run: list[str] = []
    started = time.perf_counter()
    plan = prepared.plan
    policy_set = False
    runner = None
    with tempfile.TemporaryDirectory(prefix="atlas-") as workdir, capture_warnings(sink):
        try:
            if plan is not None and plan.dtype_policy:
                compat.set_dtype_policy(plan.dtype_policy)
                policy_set = True
            with compat.device_scope(device):
                data = build_data(prepared.variant.get("data", {}), seed)
                steps_run.append("data")
                runner = _Runner(prepared, data, workdir)
                for stage in prepared.steps:
                    getattr(runner, stage)()
                    steps_run.append(stage)
            obs = Observation(status="ok", stage=stage, outcome=runner.outcome)
        except Exception as exc:  # noqa: BLE001 - every exception from TF is an observation
            outcome = runner.outcome if runner is not None else {}
            obs = Observation(status="raised", stage=stage, exception=ExceptionInfo.from_exception(exc),
                              outcome=outcome)
        finally:
            if policy_set:
                compat.set_dtype_policy("float32")
    obs.warnings = sink
    obs.steps_run = steps_run
    obs.duration_s = round(time.perf_counter() - started, 4)
    return obs
