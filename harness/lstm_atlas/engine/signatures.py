"""Generating ``case/layer_signatures.json`` by running Keras: which keywords each layer class takes.

The table is found by running, not read from documentation: for every candidate name (the
parameters of each ``__init__`` along the class's MRO, plus every string constant in those
``__init__`` bodies, which is where Keras keeps the base-layer names it pops from
``**kwargs``) the class is constructed with that one extra keyword set to ``None``. A name is
accepted unless construction fails with Keras' or Python's unknown-keyword error; a canary
name must be refused, or the class is recorded as accepting anything. Regenerate with::

    python -m lstm_atlas.engine.signatures --write    # this environment's Keras, into the table
    python -m lstm_atlas.engine.signatures --check    # exit 1 when this Keras disagrees with it
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import re
import sys
import textwrap
import warnings
from pathlib import Path

from lstm_atlas.case.keywords import GENERATIONS, TABLE_FILE, table, table_path

#: A keyword no Keras accepts; if a class takes it, the class takes anything.
CANARY = "zz_atlas_not_a_keyword"
#: How Python and Keras 2/3 refuse a keyword (``multiple values``: the class sets it itself, e.g. Keras 3 LSTM's cell).
_UNKNOWN = re.compile(r"unexpected keyword argument|Keyword argument not understood|Unrecognized keyword argument"
                      r"|multiple values for (keyword )?argument")



def _required(keras, name: str):
    """A value for each required parameter of the allow-listed classes (None would not construct)."""
    layers = keras.layers
    values = {"units": lambda: 2, "rate": lambda: 0.5, "activation": lambda: "tanh", "target_shape": lambda: (2,),
              "n": lambda: 2, "input_dim": lambda: 3, "output_dim": lambda: 2, "layer": lambda: layers.LSTM(2),
              "cell": lambda: layers.LSTMCell(2), "cells": lambda: [layers.LSTMCell(2)]}
    if name not in values:
        raise RuntimeError(f"no probe value for the required parameter '{name}'; add one to signatures._required")
    return values[name]()


def _candidates(cls, base) -> tuple[set[str], list[str]]:
    """(every candidate keyword, the required parameters) from the ``__init__`` of ``cls`` and its bases."""
    names: set[str] = set()
    required: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                names.add(p.name)
                if klass is cls and p.default is p.empty:
                    required.append(p.name)
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
        except (OSError, TypeError, SyntaxError):
            tree = None
        if tree is not None:
            names.update(node.value for node in ast.walk(tree)
                         if isinstance(node, ast.Constant) and isinstance(node.value, str)
                         and node.value.isidentifier())
        if klass is base:
            break
    return names, required


def _takes(cls, args: dict, name: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls(**args, **{name: None})
    except Exception as exc:  # noqa: BLE001 - any error but the unknown-keyword one means the name was taken
        return not (_UNKNOWN.search(str(exc)) and name in str(exc))
    return True


def generate() -> tuple[str, str, dict]:
    """(generation, Keras version, entry) for the Keras of this environment."""
    from lstm_atlas.case.allow import LAYER_CLASSES
    from lstm_atlas.engine import compat

    keras = compat.keras()
    classes = compat.layer_classes()
    base = keras.layers.Layer
    layers: dict[str, list[str] | None] = {}
    for class_name in LAYER_CLASSES:
        cls = classes[class_name]
        names, required = _candidates(cls, base)
        args = {name: _required(keras, name) for name in required}
        if _takes(cls, args, CANARY):
            layers[class_name] = None
            continue
        layers[class_name] = sorted(set(required) | {n for n in names - set(required) if _takes(cls, args, n)})
        compat.clear_session()
    generation = "keras3" if compat.is_keras3() else "keras2"
    entry = {"tensorflow": compat.tf().__version__, "flavor": compat.keras_flavor(), "layers": layers}
    return generation, compat.keras_version(), entry


def check(generation: str, version: str, entry: dict) -> str | None:
    """What differs between ``entry`` and the committed table, or None when they agree."""
    committed = table().get(generation, {}).get(version)
    if committed is None:
        return f"Keras {version} ({generation}) is not in {TABLE_FILE}; add it with --write"
    problems = []
    for class_name in sorted(set(committed["layers"]) | set(entry["layers"])):
        old, new = committed["layers"].get(class_name, []), entry["layers"].get(class_name, [])
        if old != new:
            if old is None or new is None:
                problems.append(f"{class_name}: committed {old}, generated {new}")
            else:
                gained, lost = sorted(set(new) - set(old)), sorted(set(old) - set(new))
                problems.append(f"{class_name}: generated has {gained} more and {lost} fewer")
    return "; ".join(problems) or None


def write(generation: str, version: str, entry: dict) -> Path:
    from lstm_atlas.files import write_bytes_atomic

    data = json.loads(table_path().read_text("utf-8")) if table_path().exists() else {}
    data.setdefault("about", "keywords each allow-listed layer accepts; python -m lstm_atlas.engine.signatures --write")
    data.setdefault(generation, {})[version] = entry
    data = {key: (dict(sorted(value.items())) if key in GENERATIONS else value) for key, value in data.items()}
    write_bytes_atomic(table_path(), _dumps(data).encode("utf-8"))
    table.cache_clear()
    return table_path()


def _dumps(data: dict) -> str:
    """Indented JSON with each class's names on one line, so a diff shows which class changed."""
    text = json.dumps(data, indent=1)
    one_line = re.sub(r"\[\n\s*([^\[\]{}]*?)\n\s*\]", lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)
    return one_line + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lstm_atlas.engine.signatures", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="record this Keras's half in the committed table")
    action.add_argument("--check", action="store_true", help="exit 1 when this Keras disagrees with the table")
    parser.add_argument("--new-ok", action="store_true",
                        help="with --check: a Keras the table does not record yet is a notice, not a failure "
                             "(CI's newest-Keras environment; a recorded one must still agree)")
    args = parser.parse_args(argv)
    generation, version, entry = generate()
    if args.write:
        print(f"{write(generation, version, entry)}: {generation} Keras {version}")
        return 0
    if args.new_ok and version not in table().get(generation, {}):
        print(f"{TABLE_FILE}: notice: Keras {version} ({generation}) is not recorded yet; "
              "record it with --write from that environment")
        return 0
    problem = check(generation, version, entry)
    if problem:
        print(f"{TABLE_FILE}: Keras {version}: {problem}", file=sys.stderr)
        return 1
    print(f"{TABLE_FILE}: Keras {version} ({generation}) agrees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
