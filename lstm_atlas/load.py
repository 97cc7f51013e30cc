"""Stage 1: read a case file with safe YAML only, keeping the line of every field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CaseError, field_path

MAX_FILE_BYTES = 256 * 1024


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
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            out[prefix + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, prefix + (key,), out)
            out[prefix + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, prefix + (i,), out)


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which YAML silently lets the last one win."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        seen[key] = True
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeySafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_text(text: str, path: str = "<string>") -> LoadedDocument:
    """Parse one YAML document safely; errors carry the file and line."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise CaseError(f"case file is larger than {MAX_FILE_BYTES} bytes", path=path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        if "python/" in str(exc.problem or "") + str(exc.context or ""):
            problem = f"{problem} (cases are data: python tags are not allowed)"
        raise CaseError(f"invalid YAML: {problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise CaseError(f"invalid YAML: {exc}", path=path) from None
    if node is None:
        raise CaseError("the file is empty; a case is one YAML mapping", path=path, line=1)
    lines: dict[tuple, int] = {}
    _index_lines(node, (), lines)
    if not isinstance(data, dict):
        raise CaseError(f"a case is a YAML mapping, found {type(data).__name__}", path=path, line=1)
    return LoadedDocument(path=path, data=data, lines=lines)


def load_file(path: str | Path) -> LoadedDocument:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CaseError(f"cannot read: {exc.strerror}", path=str(p)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise CaseError(f"case file is larger than {MAX_FILE_BYTES} bytes", path=str(p))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(p)) from None
    return load_text(text, str(p))
