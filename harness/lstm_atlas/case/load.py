"""Stage 1: read a case file with safe YAML only, keeping the line of every field.

A case is plain data: mappings with string keys, lists and scalars. Aliases (which
let a kilobyte expand to gigabytes), explicit tags and nesting deeper than
:data:`MAX_DEPTH` are refused while the document is composed, before anything is
expanded or recursed into, so a hostile file costs no more than its own size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lstm_atlas.errors import CaseError, InputError, field_path
from lstm_atlas.files import read_bounded

#: Largest case file, in bytes; the biggest case in the library is under 4 kB.
MAX_FILE_BYTES = 256 * 1024

#: Deepest nesting of lists and mappings; the library needs 7, recursion trouble starts near 1000.
MAX_DEPTH = 64

#: The only YAML tags a case may carry explicitly (plain scalars, lists and mappings).
ALLOWED_TAGS = frozenset({None, "!"} | {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null",
                                                                             "seq", "map")})


@dataclass
class LoadedDocument:
    """The plain data of a case file plus a map from field path to 1-based line."""

    path: str
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, parts) -> int | None:
        """Line of the deepest existing prefix of ``parts`` (the field itself if present)."""
        parts = tuple(parts)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get((), None)

    def error(self, message: str, parts=()) -> CaseError:
        return CaseError(message, path=self.path, line=self.line_of(parts),
                         field=field_path(parts) or None)


def _index_lines(node: yaml.Node, prefix: tuple, out: dict[tuple, int]) -> None:
    out.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[prefix + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, prefix + (key,), out)
            out[prefix + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, prefix + (i,), out)


class _PlainData:
    """Composer and constructor rules for plain data: no aliases, no explicit tags, bounded depth, unique string keys.

    Mixed in before PyYAML's own classes, so every node passes through ``compose_node`` here.
    """

    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, f"found alias *{event.anchor} (cases are plain data: YAML aliases are not allowed; "
                "write the value out)", event.start_mark)
        tag = getattr(event, "tag", None)
        if tag not in ALLOWED_TAGS:
            what = "python tags are not allowed" if "python/" in tag else "explicit YAML tags are not allowed"
            raise yaml.composer.ComposerError(None, None, f"found tag {tag!r} (cases are data: {what})",
                                              event.start_mark)
        if not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"lists and mappings nested deeper than {MAX_DEPTH} levels", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        """Refuse duplicate keys (YAML lets the last one win silently) and keys that are not strings."""
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found key {key!r} of type {type(key).__name__}; keys are strings (quote it)", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _PyCaseLoader(_PlainData, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader with the rules above."""


try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

if CParser is not None:
    class _CCaseLoader(_PlainData, yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor,
                       yaml.resolver.Resolver):
        """libyaml's parser (ten times faster) feeding PyYAML's composer, so the same rules apply."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)

LOADERS = (_PyCaseLoader,) + ((_CCaseLoader,) if CParser is not None else ())
_CaseLoader = LOADERS[-1]

#: Numbers as both YAML 1.1 and 1.2 read them: decimal (and hex) integers, floats with a dot and a signed exponent.
_INT = re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NUMBERS = {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}

#: Plain scalars that look like numbers but mean different things to YAML 1.1, YAML 1.2 and the reader: base 60
#: (``1:30`` is 90 in YAML 1.1), leading-zero octal and binary (``017`` is 15, ``0o17`` is text in YAML 1.1),
#: an exponent without a dot or sign (``1e26`` is text in YAML 1.1, a float in 1.2). Refused wherever they stand.
_AMBIGUOUS = (
    (re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$"),
     "{text} is a base-60 number in YAML 1.1 (1:30 is 90)"),
    (re.compile(r"^[-+]?0(?:o?[0-7_]+|b[01_]+)$"),
     "{text} is an octal or binary number in some YAML versions and text in others"),
    (re.compile(r"^[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9_]+)[eE][-+]?[0-9]+$"),
     "{text} is text in YAML 1.1 (an exponent needs a dot and a sign there) and a float in YAML 1.2"),
)
_AMBIGUOUS_TAG = "tag:lstm-atlas,2026:ambiguous-number"
_AMBIGUOUS_RE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _AMBIGUOUS))


class AmbiguousNumber(str):
    """A plain scalar from :data:`_AMBIGUOUS`; :func:`load_text` refuses it with its field and line."""


# A plain 2024-13-45 would otherwise become a date (or a ValueError); in a case it is just text.
_PlainData.yaml_implicit_resolvers = {
    first: [(tag, _NUMBERS.get(tag, regexp)) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    + ([(_AMBIGUOUS_TAG, _AMBIGUOUS_RE)] if first in "0123456789+-." else [])
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_PlainData.yaml_constructors = dict(yaml.constructor.SafeConstructor.yaml_constructors, **{
    _AMBIGUOUS_TAG: lambda loader, node: AmbiguousNumber(loader.construct_scalar(node))})


def number_hint(value) -> str | None:
    """Why a string that looks like a number is not read as one (``1:30``, ``017``, ``1e26``), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    for pattern, hint in _AMBIGUOUS:
        if pattern.match(value):
            return hint.format(text=value) + ": write the number in decimal digits (a float as 1.0e+26), " \
                "or quote it if it is text"
    return None


def _ambiguous(value, prefix=()):
    """The path of the first :class:`AmbiguousNumber` in ``value``, or None."""
    if isinstance(value, AmbiguousNumber):
        return prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _ambiguous(item, prefix + (key,))
        if found is not None:
            return found
    return None


def _compose(text: str, loader_class):
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _own_limit_first(exc: yaml.YAMLError) -> bool:
    """libyaml's own depth limit fired before ours (libyaml 0.2.5 as bundled by PyYAML 6.0.3+).

    Its message names neither the project's limit nor the rule, so the document is composed
    again by the pure-Python parser, which stops at :data:`MAX_DEPTH` with the project's words.
    Both parsers stream, so the second pass also stops early and costs little.
    """
    return "maximum nesting depth" in str(getattr(exc, "problem", None) or exc)


def load_text(text: str, path: str = "<string>") -> LoadedDocument:
    """Parse one YAML document safely; errors carry the file and line."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise CaseError(f"case file is larger than {MAX_FILE_BYTES} bytes", path=path)
    try:
        try:
            node, data = _compose(text, _CaseLoader)
        except yaml.YAMLError as exc:
            if _CaseLoader is _PyCaseLoader or not _own_limit_first(exc):
                raise
            node, data = _compose(text, _PyCaseLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise CaseError(f"invalid YAML: {exc.problem or exc}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise CaseError(f"invalid YAML: {exc}", path=path) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar the safe constructors cannot convert
        raise CaseError(f"invalid YAML value: {exc}", path=path) from None
    if node is None:
        raise CaseError("the file is empty; a case is one YAML mapping", path=path, line=1)
    if not isinstance(data, dict):
        raise CaseError(f"a case is a YAML mapping, found {type(data).__name__}", path=path, line=1)
    lines: dict[tuple, int] = {}
    _index_lines(node, (), lines)
    doc = LoadedDocument(path=path, data=data, lines=lines)
    where = _ambiguous(data)
    if where is not None:
        value = data
        for part in where:
            value = value[part]
        raise doc.error(number_hint(value) or f"{value} is an ambiguous number", where)
    return doc


def load_file(path: str | Path) -> LoadedDocument:
    p = Path(path)
    try:  # size checked before reading; FIFOs and devices refused without blocking
        raw = read_bounded(p, MAX_FILE_BYTES)
    except InputError as exc:
        why = str(exc).removeprefix(f"{p}: ")
        raise CaseError(why if why.startswith("cannot read") else f"cannot read: {why}", path=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(p)) from None
    return load_text(text, str(p))
