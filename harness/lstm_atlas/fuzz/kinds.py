"""What kind of input a fuzz example and a case are: the traits attribution compares.

A case's pattern fitting a message is not enough for it to explain an example: "Incompatible
shapes" is raised by a stateful batch mismatch and by a dozen unrelated broadcasts, and the
zero-feature abort by layers with and without Masking. So a case explains an example only when
every trait of the case is a trait of the example too (:func:`fits`): a stateful case explains
stateful examples, a Masking + recurrent_dropout case examples with both, a case fed a Python
list examples fed a list; a plain LSTM case fed float32 arrays has no trait and fits any
example of its step. Both sides are read from their configs (an example's fields, a case's
``model`` and ``data`` blocks), never from the message.

Traits: the layer wrapper (``cell`` for a cell called directly, ``bidirectional``, ``rnn-wrapper``),
``masking``, the flags that change what a layer does (``stateful``, ``return_state``,
``go_backwards``, ``unroll``, ``recurrent_dropout``), the input's container when it is not an
array (``x:list``, ``x:dataset``), its dtype class when it is not a float (``x:int``, ``x:bool``,
``x:str``, ``x:object``, ``x:complex``), ``x:zero-size`` for an axis of length 0, and the labels'
container (``y:list``, ``y:dataset``). The step is compared apart (:func:`same_step`).
"""

from __future__ import annotations

from collections.abc import Iterator

FLAG_TRAITS = ("stateful", "return_state", "go_backwards", "unroll", "recurrent_dropout")
#: dtype name -> its class; floats have no trait (they are what every layer expects).
DTYPE_CLASSES = {"int8": "int", "int16": "int", "int32": "int", "int64": "int", "uint8": "int", "uint16": "int",
                 "bool": "bool", "str": "str", "string": "str", "object": "object", "complex64": "complex",
                 "complex128": "complex"}
#: Steps that run the model; a case raising at construct/compile/data fits an example raising there too.
RUN_STEPS = ("call", "predict", "fit", "evaluate")


def _flag_traits(config: dict) -> set[str]:
    traits = {f for f in FLAG_TRAITS if f != "recurrent_dropout" and config.get(f)}
    if config.get("recurrent_dropout"):
        traits.add("recurrent_dropout")
    return traits


def example_traits(example: dict) -> frozenset[str]:
    """The traits of a fuzz example (:mod:`lstm_atlas.fuzz.strategies`)."""
    traits = _flag_traits(example["config"])
    traits |= {"LSTMCell": {"cell"}, "Bidirectional": {"bidirectional"}, "RNN": {"rnn-wrapper"}}.get(
        example["layer"], set())
    if example.get("masking"):
        traits.add("masking")
    inp = example["input"]
    traits |= _input_traits(inp.get("container"), inp.get("dtype"), inp.get("shape"))
    if example.get("target") in ("list", "dataset"):
        traits.add(f"y:{example['target']}")
    return frozenset(traits)


def _input_traits(container: str | None, dtype: str | None, shape) -> set[str]:
    traits = set()
    if container in ("list", "dataset"):
        traits.add(f"x:{container}")
    if dtype in DTYPE_CLASSES:
        traits.add(f"x:{DTYPE_CLASSES[dtype]}")
    if shape and 0 in shape:
        traits.add("x:zero-size")
    return traits


def _layers(node, wrapper: str | None = None) -> Iterator[tuple[str, dict, str | None]]:
    """(layer name, its config, the wrapper it sits in) for every layer of a model block, nested ones too."""
    if isinstance(node, list):
        for item in node:
            yield from _layers(item, wrapper)
    elif isinstance(node, dict):
        for name, config in node.items():
            if name[:1].isupper() and isinstance(config, dict | type(None)):
                config = config or {}
                yield name, config, wrapper
                for key in ("layer", "cell", "backward_layer"):
                    if key in config:
                        yield from _layers(config[key], name)


def _literal_shape(values) -> list[int]:
    shape, level = [], values
    while isinstance(level, list):
        shape.append(len(level))
        level = level[0] if level else None
    return shape


def _has_str(values) -> bool:
    return any(_has_str(v) if isinstance(v, list) else isinstance(v, str) for v in values)


def _tensor_traits(spec) -> set[str]:
    if not isinstance(spec, dict):
        return set()
    shape = spec.get("shape")
    if shape is None and isinstance(spec.get("values"), list):
        shape = _literal_shape(spec["values"])
    dtype = spec.get("dtype")
    if dtype is None and spec.get("fill") == "randint":
        dtype = "int64"
    # a literal's numbers are left to numpy (authors write [1, 2] for numbers, not to ask for integers);
    # a string among them is never incidental
    if dtype is None and isinstance(spec.get("values"), list) and _has_str(spec["values"]):
        dtype = "str"
    return _input_traits(spec.get("container"), dtype, shape)


def case_traits(variant: dict) -> frozenset[str]:
    """The traits of a case's repro variant (its merged ``model`` and ``data`` blocks)."""
    model = variant.get("model") or {}
    traits: set[str] = set()
    for name, config, wrapper in _layers([model.get("layer"), model.get("layers")]):
        traits |= _flag_traits(config)
        if name == "Masking":
            traits.add("masking")
        elif name == "Bidirectional":
            traits.add("bidirectional")
        elif name == "RNN":
            traits.add("rnn-wrapper")
        elif name.endswith("Cell") and wrapper is None:
            traits.add("cell")
    data = variant.get("data") or {}
    run = variant.get("run")
    x_name = ((variant.get(run) or {}).get("x") or (variant.get(run) or {}).get("inputs") or "x") \
        if isinstance(run, str) else "x"
    traits |= _tensor_traits(data.get(x_name if isinstance(x_name, str) else "x"))
    y = data.get("y")
    if isinstance(y, dict) and y.get("container") in ("list", "dataset"):
        traits.add(f"y:{y['container']}")
    return frozenset(traits)


def case_stage(variant: dict) -> str | None:
    """The step a case's error is raised at: its expectation's ``stage``, else its (last) run step."""
    stage = (variant.get("expect") or {}).get("stage")
    if stage:
        return stage
    run = variant.get("run")
    if isinstance(run, list):
        run = run[-1] if run else None
    return run if isinstance(run, str) else None


def same_step(case_step: str | None, outcome_stage: str | None) -> bool:
    """Whether a case raising at ``case_step`` can explain an outcome at ``outcome_stage``.

    Two run steps must be the same one (a fit error is not a predict error). A model without a
    declared input is built by its first step, so a build error is raised at construct by one model
    and at fit by another: a case or outcome at construct, compile or data fits any step. Unknown
    on either side fits.
    """
    if case_step in RUN_STEPS and outcome_stage in RUN_STEPS:
        return case_step == outcome_stage
    return True


#: Traits that must agree both ways: a cell called directly has its own API (2-D input, a states argument),
#: so only a case that calls a cell explains it, however alike the messages read.
BOTH_WAYS = frozenset({"cell"})


def fits(case: frozenset[str], example: frozenset[str]) -> bool:
    """Whether an example is of a case's kind: it has every trait the case has (and a cell call is a cell case's)."""
    return case <= example and (case & BOTH_WAYS) == (example & BOTH_WAYS)
