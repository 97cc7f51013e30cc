"""Stage 2: check a loaded case against the JSON Schema and the rules a schema cannot say.

Produces a :class:`Case` whose two variants (``repro`` and ``fix``) are plain,
fully merged dictionaries, so later stages never see partial overrides.
"""

from __future__ import annotations

import builtins
import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from lstm_atlas.case import allow, budget
from lstm_atlas.case.load import LoadedDocument, load_file
from lstm_atlas.case.schema import STEP_ARGS, case_schema
from lstm_atlas.errors import CaseError, field_path
from lstm_atlas.patterns import pattern_problem

#: TensorFlow's own exception classes (tf.errors), named without importing TensorFlow.
TF_EXCEPTIONS = frozenset({
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError", "DeadlineExceededError",
    "NotFoundError", "AlreadyExistsError", "PermissionDeniedError", "UnauthenticatedError",
    "ResourceExhaustedError", "FailedPreconditionError", "AbortedError", "OutOfRangeError",
    "UnimplementedError", "InternalError", "UnavailableError", "DataLossError",
    "OperatorNotAllowedInGraphError", "InaccessibleTensorError", "ConverterError",
})
BUILTIN_EXCEPTIONS = frozenset(
    name for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, BaseException))
KNOWN_EXCEPTIONS = TF_EXCEPTIONS | BUILTIN_EXCEPTIONS

STEP_FIELDS = STEP_ARGS
MODEL_STEPS = {"compile", "fit", "evaluate", "predict", "save", "load", "convert", "reset_states", "tf_op"}


@lru_cache(maxsize=None)
def _validator():
    schema = case_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@dataclass
class Case:
    """A validated case: its id, file, raw spec, line map and merged variants."""

    id: str
    path: str
    spec: dict
    doc: LoadedDocument
    variants: dict[str, dict]

    @property
    def family(self) -> str:
        return self.spec["family"]

    @property
    def tags(self) -> list[str]:
        return list(self.spec.get("tags", []))

    def line_of(self, *parts) -> int | None:
        return self.doc.line_of(parts)


def deep_merge(base: Any, override: Any) -> Any:
    """Merge ``override`` onto ``base``: dicts merge by key, ``None`` deletes, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = deep_merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def steps_of(variant: dict) -> list[str]:
    run = variant["run"]
    return [run] if isinstance(run, str) else list(run)


def _best_error(errors):
    """The most specific schema error: the deepest path, then the schema's own order."""
    return max(errors, key=lambda e: (len(e.absolute_path), -len(e.context or [])))


def _schema_errors(doc: LoadedDocument, data: dict, prefix=()) -> CaseError | None:
    errors = list(_validator().iter_errors(data))
    if not errors:
        return None
    err = _best_error(errors)
    # For oneOf/anyOf failures the nested context usually names the real problem.
    if err.context:
        err = _best_error(err.context)
    parts = tuple(prefix) + tuple(err.absolute_path)
    message = err.message
    if err.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' was unexpected", message)
        if extra:
            parts = parts + (extra[0],)
            message = f"unknown field '{extra[0]}'"
    return doc.error(f"schema: {message}", parts)


def _check_tensor(doc: LoadedDocument, name: str, spec: dict, prefix: tuple) -> None:
    here = prefix + (name,)
    fill = spec.get("fill", "random")
    if fill == "literal":
        if "values" not in spec:
            raise doc.error("fill: literal needs 'values'", here)
    elif fill == "ragged":
        if "lengths" not in spec or "features" not in spec:
            raise doc.error("fill: ragged needs 'lengths' and 'features'", here)
    else:
        if "shape" not in spec:
            raise doc.error(f"fill: {fill} needs a 'shape'", here)
        if fill == "full" and "value" not in spec:
            raise doc.error("fill: full needs a 'value'", here)
    if spec.get("container") == "dataset" and spec.get("targets") is not None:
        if spec["targets"] == name:
            raise doc.error("a dataset cannot use itself as targets", here + ("targets",))
    for i, entry in enumerate(spec.get("set", [])):
        if "shape" in spec and len(entry["index"]) != len(spec["shape"]):
            raise doc.error(f"index has {len(entry['index'])} axes, shape has {len(spec['shape'])}",
                            here + ("set", i, "index"))


def _check_regex(doc, pattern, parts) -> None:
    """The pattern rule of lstm_atlas.patterns: compiles under re and RE2, no nested unbounded repeats."""
    problem = pattern_problem(pattern)
    if problem:
        raise doc.error(problem, parts)


def _check_exception(doc, name, parts) -> None:
    if name not in KNOWN_EXCEPTIONS:
        raise doc.error(f"unknown exception class '{name}' (expected a Python built-in or a tf.errors name)",
                        parts)


def _check_specifier(doc, text, parts) -> None:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise doc.error(f"not a PEP 440 version specifier: {text!r}", parts) from None


def _check_expect(doc, expect: dict, prefix: tuple) -> None:
    blocks = [(prefix, expect)] + [(prefix + ("overrides", i), o) for i, o in enumerate(expect.get("overrides", []))]
    for where, block in blocks:
        if "raises" in block:
            _check_exception(doc, block["raises"], where + ("raises",))
        for key in ("match", "warns", "no_warns"):
            if isinstance(block.get(key), str):
                _check_regex(doc, block[key], where + (key,))
        for key in ("tf", "keras", "numpy"):
            if key in block.get("when", {}):
                _check_specifier(doc, block["when"][key], where + ("when", key))


#: Largest seed: the harness seeds with keras.utils.set_random_seed, which refuses 2**32 and above (Keras 2 and 3).
SEED_MAX = 2**32 - 1


def _check_seed(doc, variant: dict, prefix: tuple) -> None:
    """An integer the seeding call takes (the schema's "integer" also admits 1.0e+26, a float)."""
    if "seed" not in variant:
        return
    seed = variant["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise doc.error(f"a seed is an integer, found {type(seed).__name__} {seed!r}", prefix + ("seed",))
    if not 0 <= seed <= SEED_MAX:
        raise doc.error(f"seed {seed} is out of range: keras.utils.set_random_seed takes 0 to 2**32 - 1 "
                        f"({SEED_MAX})", prefix + ("seed",))


def _check_variant(doc: LoadedDocument, variant: dict, prefix: tuple) -> None:
    _check_seed(doc, variant, prefix)
    data = variant.get("data", {})
    for name, spec in data.items():
        _check_tensor(doc, name, spec, prefix + ("data",))
        if spec.get("targets") is not None and spec["targets"] not in data:
            raise doc.error(f"targets refers to unknown data '{spec['targets']}'", prefix + ("data", name, "targets"))
    # Sizes in bytes, before anything is allocated: every array the data stage builds, then the model.
    finals = budget.check_data(data, prefix + ("data",), doc.error)
    if variant.get("model"):
        allow.check_model(variant["model"], prefix + ("model",), doc.error)
        budget.check_model(variant["model"], variant, finals, prefix + ("model",), doc.error)
    for step_field in STEP_FIELDS:
        args = variant.get(step_field) or {}
        for key in ("x", "y", "inputs", "mask"):
            ref = args.get(key)
            if isinstance(ref, str) and ref not in data:
                raise doc.error(f"refers to unknown data '{ref}' (known: {', '.join(sorted(data)) or 'none'})",
                                prefix + (step_field, key))
        for key in ("states", "initial_state", "validation_data", "positional"):
            for i, ref in enumerate(args.get(key) or []):
                if isinstance(ref, str) and ref not in data:
                    raise doc.error(f"refers to unknown data '{ref}'", prefix + (step_field, key, i))
    call = variant.get("call") or {}
    if call.get("inputs_layer") is not None:
        if "inputs" in call:
            raise doc.error("give call.inputs or call.inputs_layer, not both", prefix + ("call", "inputs_layer"))
        allow.check_layer(call["inputs_layer"], prefix + ("call", "inputs_layer"), doc.error)
    steps = steps_of(variant)
    model = variant.get("model")
    needs_model = MODEL_STEPS.intersection(steps) or "construct" in steps
    if needs_model and not model:
        raise doc.error(f"run step(s) {sorted(set(steps))} need a 'model'", prefix + ("run",))
    if model and "layer" in model and MODEL_STEPS.intersection(steps):
        raise doc.error("a single 'layer' can only be constructed or called; use 'layers' for a model",
                        prefix + ("run",))
    if {"fit", "evaluate"}.intersection(steps) and not (model or {}).get("compile"):
        raise doc.error("fit/evaluate need model.compile (optimizer and loss)", prefix + ("model",))
    if "tf_op" in steps and not (model or {}).get("input"):
        raise doc.error("tf_op applies to the model's symbolic output: it needs model.input and model.layers",
                        prefix + ("run",))
    if "call" in steps and not call.get("inputs") and call.get("inputs_layer") is None and "x" not in data:
        raise doc.error("call needs call.inputs or a data entry named 'x'", prefix + ("call",))
    if "load" in steps and "save" not in steps[: steps.index("load")]:
        raise doc.error("load must come after save", prefix + ("run",))
    _check_expect(doc, variant["expect"], prefix + ("expect",))
    if "claim" in variant:
        if "raises" in variant["claim"]:
            _check_exception(doc, variant["claim"]["raises"], prefix + ("claim", "raises"))


def build_case(doc: LoadedDocument) -> Case:
    """Validate a loaded document and produce its merged repro and fix variants."""
    data = doc.data
    error = _schema_errors(doc, data)
    if error:
        raise error
    stem = Path(doc.path).stem
    if doc.path not in ("<string>",) and data["id"] != stem:
        raise doc.error(f"id '{data['id']}' must equal the file name '{stem}'", ("id",))
    for i, known in enumerate(data.get("known_messages", [])):
        if "exception" in known:
            _check_exception(doc, known["exception"], ("known_messages", i, "exception"))
    repro = {k: v for k, v in data.items() if k not in ("fix", "known_messages")}
    _check_variant(doc, repro, ())
    fix_spec = data["fix"]
    overrides = {k: v for k, v in fix_spec.items() if k not in ("explanation", "expect", "claim")}
    fix = deep_merge(repro, overrides)
    fix.pop("claim", None)
    fix["expect"] = copy.deepcopy(fix_spec.get("expect", {"ok": True}))
    if "claim" in fix_spec:
        fix["claim"] = copy.deepcopy(fix_spec["claim"])
    fix["fix"] = fix_spec  # keep the schema's required field; the fix has no fix of its own
    error = _schema_errors(doc, fix, prefix=("fix",))
    if error:
        raise error
    fix.pop("fix")
    _check_variant(doc, fix, ("fix",))
    return Case(id=data["id"], path=doc.path, spec=data, doc=doc, variants={"repro": repro, "fix": fix})


def load_case(path) -> Case:
    """Load and validate one case file; any error, of any type, is a :class:`CaseError` naming the file.

    The checks above are meant to turn every malformed input into a located message; should one
    slip through as another exception, the file still fails alone instead of stopping a whole run.
    """
    try:
        return build_case(load_file(path))
    except CaseError:
        raise
    except Exception as exc:  # the safety net: one bad file is that file's error
        raise CaseError(f"cannot validate this case ({type(exc).__name__}: {exc})", path=str(path)) from exc


__all__ = ["Case", "CaseError", "build_case", "load_case", "deep_merge", "steps_of",
           "KNOWN_EXCEPTIONS", "field_path"]
