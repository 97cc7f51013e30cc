"""Stage 3b: resolve a case's model block into Keras classes, and construct it.

Resolution (names -> Keras classes, optimizers, losses) happens before anything runs
and fails with a :class:`CaseError` naming the field; construction is a real step
whose exceptions are observations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from lstm_atlas.case import allow
from lstm_atlas.case.allow import NESTED_LAYER_KEYS, NESTED_LAYER_LIST_KEYS, OPTIMIZER_ARGS
from lstm_atlas.engine import compat
from lstm_atlas.errors import CaseError


@dataclass
class LayerPlan:
    """A layer class with its config; nested layers (Bidirectional.layer, RNN.cell) are plans too."""

    cls: type
    config: dict
    nested: dict = field(default_factory=dict)

    def construct(self):
        kwargs = dict(self.config)
        for key, value in self.nested.items():
            kwargs[key] = [v.construct() for v in value] if isinstance(value, list) else value.construct()
        return self.cls(**kwargs)


def resolve_layer(spec: dict, where: tuple, error: Callable[[str, tuple], CaseError]) -> LayerPlan:
    name, config, config_at = allow.split_layer_spec(spec, where, error)
    config = dict(config)
    classes = {n: c for n, c in compat.layer_classes().items() if n in allow.LAYER_CLASSES}
    if name not in classes:
        close = sorted(n for n in classes if n.lower().startswith(name.lower()[:3]))[:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise error(f"unknown layer '{name}' in keras.layers of Keras {compat.keras_version()}{hint}", where)
    nested: dict[str, Any] = {}
    for key in NESTED_LAYER_KEYS:
        if isinstance(config.get(key), dict):
            nested[key] = resolve_layer(config.pop(key), config_at + (key,), error)
    for key in NESTED_LAYER_LIST_KEYS:
        if isinstance(config.get(key), list):
            nested[key] = [resolve_layer(s, config_at + (key, i), error) for i, s in enumerate(config.pop(key))]
    for key, value in config.items():
        if isinstance(value, dict):  # validate refuses these; never hand a raw dict to Keras' deserialiser
            raise error("a nested config object is not allowed here", config_at + (key,))
    return LayerPlan(cls=classes[name], config=config, nested=nested)


@dataclass
class CompilePlan:
    optimizer_cls: type
    optimizer_kwargs: dict
    loss: Any
    metrics: list
    extra: dict

    def compile(self, model) -> None:
        optimizer = self.optimizer_cls(**self.optimizer_kwargs)
        model.compile(optimizer=optimizer, loss=self.loss, metrics=self.metrics or None, **self.extra)


def resolve_compile(spec: dict, where: tuple, error) -> CompilePlan:
    name = spec.get("optimizer", "adam")
    classes = {n: c for n, c in compat.optimizer_classes().items() if n in allow.OPTIMIZERS}
    if name.lower() not in classes:
        raise error(f"unknown optimizer '{name}' in keras.optimizers", where + ("optimizer",))
    kwargs = {k: spec[k] for k in OPTIMIZER_ARGS if k in spec}
    loss = spec.get("loss")
    if loss is not None:
        if loss not in allow.LOSSES:
            raise error(f"unknown loss '{loss}' (not in the allow-list)", where + ("loss",))
        try:
            compat.keras().losses.get(loss)
        except (ValueError, TypeError):
            raise error(f"unknown loss '{loss}' in keras.losses", where + ("loss",)) from None
    extra = {k: spec[k] for k in ("run_eagerly", "jit_compile") if k in spec}
    return CompilePlan(classes[name.lower()], kwargs, loss, list(spec.get("metrics", [])), extra)


@dataclass
class ModelPlan:
    """What 'construct' builds: a Sequential of layers (optionally after an Input) or one layer."""

    layers: list[LayerPlan]
    single: LayerPlan | None
    input: dict | None
    compile: CompilePlan | None
    dtype_policy: str | None

    def construct(self):
        keras = compat.keras()
        if self.single is not None:
            return self.single.construct()
        stack = []
        if self.input is not None:
            kwargs = {"shape": tuple(self.input["shape"])}
            if self.input.get("batch_size"):
                kwargs["batch_size"] = self.input["batch_size"]
            if self.input.get("dtype"):
                kwargs["dtype"] = self.input["dtype"]
            stack.append(keras.Input(**kwargs))
        stack.extend(layer.construct() for layer in self.layers)
        return keras.Sequential(stack)


def resolve_model(model: dict | None, error, prefix=()) -> ModelPlan | None:
    if not model:
        return None
    where = prefix + ("model",)
    if "layer" in model:
        single = resolve_layer(model["layer"], where + ("layer",), error)
        layers = []
    else:
        single = None
        layers = [resolve_layer(s, where + ("layers", i), error) for i, s in enumerate(model["layers"])]
    compile_plan = resolve_compile(model["compile"], where + ("compile",), error) if "compile" in model else None
    return ModelPlan(layers, single, model.get("input"), compile_plan, model.get("dtype_policy"))
