"""Errors about case files, located by file, line and field so a user can fix them."""

from __future__ import annotations

import re

#: Longest word (run without spaces) of a message, or field path, shown as is; a case file may hold a 250 kB value.
MAX_SHOWN = 200
#: Longest message shown as is: room for an allow-list's names, not for a long list value.
MAX_MESSAGE = 1000


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` itself when short, else its start and end around an ellipsis that says how long it was.

    Keeps both ends: a schema message starts with the value and ends with the verdict
    (``'aaa…' is not of type 'integer'``).
    """
    if len(text) <= limit:
        return text
    head, tail = (limit * 2) // 3, limit // 3
    return f"{text[:head]}…[{len(text):,} characters]…{text[-tail:]}"


def shorten_message(message: str) -> str:
    """Every long word of ``message`` shortened, then the whole message if it is still too long."""
    message = re.sub(r"\S{%d,}" % (MAX_SHOWN + 1), lambda m: shorten(m.group()), message)
    return shorten(message, MAX_MESSAGE)


class CaseError(Exception):
    """A case file is malformed or names something that does not exist.

    Carries where: the file, the 1-based line (when known) and the field path
    (``data.x.shape``), so the message can point at the exact spot.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.message = shorten_message(message)
        self.path = path
        self.line = line
        self.field = shorten(field) if field else field
        super().__init__(self.located())

    def located(self) -> str:
        where = self.path or "<case>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": field '{self.field}'"
        return f"{where}: {self.message}"

    def with_location(self, *, path: str | None = None, line: int | None = None,
                      field: str | None = None) -> "CaseError":
        return CaseError(self.message, path=path or self.path,
                         line=line if line is not None else self.line,
                         field=field or self.field)


def field_path(parts) -> str:
    """Render a JSON path like ('data', 'x', 'shape', 0) as data.x.shape[0]."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class InputError(ValueError):
    """A results or merged file given to the CLI cannot be used; the message is one line."""


def one_line(text, limit: int = 400) -> str:
    """``text`` on one line and at most about ``limit`` characters: an error never repeats a 300 KB value."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return f"{text[:limit - 60]} ... ({len(text) - limit + 60} characters left out) ... {text[-40:]}"
