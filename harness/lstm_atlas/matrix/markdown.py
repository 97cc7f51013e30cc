"""Text from case files and results, made inert in Markdown.

report.md is posted as a PR comment and docs/catalog.md is rendered by GitHub: both would
pass raw HTML through (``<img src=x onerror=...>`` in a title or a version string). Plain
text is HTML-escaped; code spans get a backtick fence longer than any run inside them and
no newline, so nothing closes them early; table cells also escape pipes.
"""

from __future__ import annotations

import re


class Markdown(str):
    """Text already rendered as Markdown: the report template prints it as is."""


def text(value) -> Markdown:
    """``value`` as plain Markdown text: ``&``, ``<``, ``>`` escaped, so no HTML tag or entity survives."""
    if isinstance(value, Markdown):
        return value
    out = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markdown(out)


def escape(value) -> Markdown:
    """``value`` as one line of inert prose: :func:`text`, and backticks as ``&#96;`` (no code span opens)."""
    if isinstance(value, Markdown):
        return value
    return Markdown(" ".join(text("" if value is None else value).replace("`", "&#96;").split()))


def cell(value) -> Markdown:
    """``value`` inside a table cell: :func:`escape`, and pipes escaped so it stays in its cell."""
    if isinstance(value, Markdown):
        return value
    return Markdown(escape(value).replace("|", "\\|"))


def code(value) -> Markdown:
    """``value`` as an inline code span that nothing inside it can close (CommonMark: a longer fence)."""
    body = re.sub(r"[\r\n]+", " ", str(value))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    if body.startswith("`") or body.endswith("`"):
        body = f" {body} "
    return Markdown(f"{fence}{body}{fence}")


def url(value) -> Markdown:
    """An autolink for a plain http(s) address; anything else as escaped text."""
    value = str(value)
    if re.fullmatch(r"https?://[^\s<>`\"'\\]+", value):
        return Markdown(f"<{value}>")
    return text(value)
