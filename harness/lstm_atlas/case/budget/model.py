"""Model sizing: the weights and layer outputs a case's model block implies, in bytes, before it is built.

``units`` or a declared input shape size the weights, and the layers' outputs on the case's
data size the activations; the per-sample shape is followed through the layer specs (nested
wrappers and cells included) from the arrays the data sizing sketched. Estimates err high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lstm_atlas.case.allow import split_layer_spec
from lstm_atlas.case.budget import limits
from lstm_atlas.case.dataops.sketch import Error, resolve, size_value

RNN_GATES = {"LSTM": 4, "LSTMCell": 4, "GRU": 3, "GRUCell": 3, "SimpleRNN": 1, "SimpleRNNCell": 1}
SHAPE_KEYS = ("input_shape", "batch_input_shape", "batch_shape")


@dataclass
class _Layer:
    params: int
    out: tuple
    field: tuple
    what: str


def _dims(values, unknown: int) -> tuple:
    return tuple(unknown if v is None else size_value(v) for v in values)


class _ModelEstimate:
    """Follows the per-sample shape through a stack of layer specs, counting weights and outputs."""

    def __init__(self, error: Error, unknown: int, item: int):
        self.error = error
        self.item = item  # bytes per weight and per output element
        self.unknown = unknown  # stands for a dimension the case leaves open (None)
        self.layers: list[_Layer] = []
        self.batch = 1  # the batch size a layer or the input declares (stateful states are per batch row)
        self.rows = 1  # samples in the case's largest data entry

    def declared(self, name: str, config: dict) -> tuple[tuple, str] | None:
        """The per-sample input shape a layer declares, and the key it is under.

        Besides ``input_shape``/``batch_input_shape``, Keras 2 turns ``input_dim`` (and for the
        recurrent layers ``input_length``; for ``Embedding`` only ``input_length``) into one.
        """
        if config.get("batch_size") is not None:
            self.batch = max(self.batch, size_value(config["batch_size"]))
        for key in SHAPE_KEYS:
            value = config.get(key)
            if isinstance(value, list):
                dims = _dims(value, self.unknown)
                if key != "input_shape":
                    self.batch = max(self.batch, dims[0] if dims else 1)
                    dims = dims[1:]
                return dims, key
        if name == "Embedding":
            length = config.get("input_length")
            return ((size_value(length),), "input_length") if length is not None else None
        if config.get("input_dim") is None and config.get("input_length") is None:
            return None
        key = "input_dim" if config.get("input_dim") is not None else "input_length"
        dims = _dims([config.get("input_dim")], self.unknown)
        if name in RNN_GATES and not name.endswith("Cell"):
            dims = _dims([config.get("input_length")], self.unknown) + dims
        return dims, key

    def check_declared(self, shape: tuple, field: tuple) -> None:
        """A declared input shape sizes every batch the model takes; it must fit the tensor cap."""
        nbytes = math.prod(shape) * max(self.batch, 1) * self.item
        if nbytes > limits.MAX_TENSOR_BYTES:
            raise self.error(f"declared input of {limits.human(nbytes)} per batch, over the cap of "
                             f"{limits.human(limits.MAX_TENSOR_BYTES)} (MAX_TENSOR_BYTES)", field)

    def layer(self, spec, shape: tuple, where: tuple) -> tuple:
        name, config, at = split_layer_spec(spec, where, self.error)
        declared = self.declared(name, config)
        if declared is not None:
            shape, key = declared
            self.check_declared(shape, at + (key,))
        shape = shape or (1,)
        feat = shape[-1]
        units_at = at + ("units",)
        params, out = 0, shape
        steps = shape[0] if len(shape) > 1 else 0
        if config.get("unroll") and not name.endswith("Cell") and steps > limits.MAX_UNROLL_STEPS:
            raise self.error(f"unroll over {shape[0]} time steps copies the cell {shape[0]} times, over the cap of "
                             f"{limits.MAX_UNROLL_STEPS} (MAX_UNROLL_STEPS)", at + ("unroll",))
        if name in RNN_GATES:
            units = size_value(config.get("units"))
            gates = RNN_GATES[name]
            params = gates * units * (feat + units + 2)
            if config.get("stateful"):
                params += self.batch * units * (2 if gates == 4 else 1)
            if name.endswith("Cell"):
                out = (units,)
            else:
                out = shape[:-1] + (units,) if config.get("return_sequences") else (units,)
        elif name == "RNN":
            cell = config.get("cell")
            inner = self.layer(cell, (feat,), at + ("cell",)) if isinstance(cell, dict) else (feat,)
            units_at = at + ("cell",)
            out = shape[:-1] + inner if config.get("return_sequences") else inner
        elif name == "StackedRNNCells":
            inner = (feat,)
            for i, cell in enumerate(config.get("cells") or []):
                inner = self.layer(cell, inner, at + ("cells", i))
            units_at = at + ("cells",)
            out = inner
        elif name == "Bidirectional":
            forward = config.get("layer")
            inner = self.layer(forward, shape, at + ("layer",)) if isinstance(forward, dict) else shape
            backward = config.get("backward_layer")
            if isinstance(backward, dict):
                self.layer(backward, shape, at + ("backward_layer",))
            elif isinstance(forward, dict):  # Keras copies the forward layer
                self.layer(forward, shape, at + ("layer",))
            units_at = at + ("layer",)
            out = inner[:-1] + (inner[-1] * (1 if config.get("merge_mode") in ("sum", "mul", "ave") else 2),)
        elif name == "TimeDistributed":
            inner = self.layer(config["layer"], shape[1:], at + ("layer",)) if isinstance(config.get("layer"), dict) \
                else shape[1:]
            units_at = at + ("layer",)
            out = shape[:1] + inner
        elif name == "Dense":
            units = size_value(config.get("units"))
            params, out = feat * units + units, shape[:-1] + (units,)
        elif name == "Embedding":
            input_dim, output_dim = size_value(config.get("input_dim")), size_value(config.get("output_dim"))
            params, out = input_dim * output_dim, shape + (output_dim,)
            units_at = at + ("input_dim" if input_dim >= output_dim else "output_dim",)
        elif name == "Flatten":
            out = (math.prod(shape),)
        elif name in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
            out = shape[1:] or shape
        elif name == "RepeatVector":
            out = (size_value(config.get("n")),) + shape
            units_at = at + ("n",)
        elif name == "Reshape":
            target = config.get("target_shape")
            resolved = resolve([size_value(d) if d != -1 else -1 for d in target], math.prod(shape)) \
                if isinstance(target, list) else None
            out = resolved or shape
        elif name == "LayerNormalization":
            params = 2 * feat
        elif name == "BatchNormalization":
            params = 4 * feat
        self.layers.append(_Layer(params, out, units_at, name))
        return out


def _fed_shape(variant: dict, finals: dict) -> tuple | None:
    """Per-sample shape of the data the model is first fed (fit/predict/evaluate x, call inputs, or x)."""
    names = [(variant.get(step) or {}).get(key) for step, key in
             (("fit", "x"), ("predict", "x"), ("evaluate", "x"), ("call", "inputs"))] + ["x"]
    for name in names:
        if isinstance(name, str) and name in finals:
            sketch = finals[name]
            if sketch.shape is not None:
                return sketch.shape[1:]
            return (sketch.longest, sketch.inner)
    return None


def estimate_model(model: dict, variant: dict, finals: dict, where: tuple, error: Error) -> _ModelEstimate:
    """Follow the model's layers over the case's data: weights and output shape of each layer."""
    per_sample = [s.count // max(s.samples, 1) for s in finals.values()]
    unknown = max(per_sample + [1])
    item = 8 if "float64" in repr(model) else 4
    estimate = _ModelEstimate(error, unknown, item)
    estimate.rows = max([s.samples for s in finals.values()] + [1])
    declared_input = model.get("input")
    fed = _fed_shape(variant, finals)
    if declared_input is not None:
        estimate.batch = size_value(declared_input.get("batch_size")) or 1
        shape = _dims(declared_input["shape"], unknown)
        if fed is not None:  # an open (None) dimension takes the fed data's, where the data has that axis
            shape = tuple(fed[i] if d is None and i < len(fed) else s
                          for i, (d, s) in enumerate(zip(declared_input["shape"], shape, strict=True)))
        estimate.check_declared(shape, where + ("input", "shape"))
    else:
        shape = fed or (unknown,)
    if "layer" in model:
        estimate.layer(model["layer"], shape, where + ("layer",))
    for i, spec in enumerate(model.get("layers", [])):
        shape = estimate.layer(spec, shape, where + ("layers", i))
    return estimate


def check_model(model: dict, variant: dict, finals: dict, where: tuple, error: Error) -> None:
    """Refuse a model whose weights or layer outputs on the case's data exceed the caps."""
    estimate = estimate_model(model, variant, finals, where, error)
    item = estimate.item
    total = sum(layer.params for layer in estimate.layers) * item
    if total > limits.MAX_PARAM_BYTES:
        largest = max(estimate.layers, key=lambda layer: layer.params)
        raise error(f"the model holds about {limits.human(total)} of weights ({largest.what} alone "
                    f"{limits.human(largest.params * item)}), over the cap of "
                    f"{limits.human(limits.MAX_PARAM_BYTES)} (MAX_PARAM_BYTES)", largest.field)
    rows = max(estimate.rows, estimate.batch)
    for layer in estimate.layers:
        out_bytes = rows * math.prod(layer.out) * item
        if out_bytes > limits.MAX_ACTIVATION_BYTES:
            raise error(f"{layer.what} outputs about {limits.human(out_bytes)} on this case's data, over the cap of "
                        f"{limits.human(limits.MAX_ACTIVATION_BYTES)} (MAX_ACTIVATION_BYTES)", layer.field)
