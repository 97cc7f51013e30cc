"""Text from case files, TensorFlow and environment fields, made inert in Markdown.

Markdown renders raw HTML (a title ``<img src=x onerror=...>`` would run in a PR comment), so
every such field goes through :func:`escape`; table cells also through :func:`cell`.
"""

from __future__ import annotations

import html


def escape(text: object) -> str:
    """``&``, ``<``, ``>`` as entities and backticks as ``&#96;`` (no code span can open); one line."""
    value = "" if text is None else str(text)
    value = html.escape(value, quote=False).replace("`", "&#96;")
    return " ".join(value.split())


def cell(text: object) -> str:
    """:func:`escape`, and ``|`` escaped so the text stays in its table cell."""
    return escape(text).replace("|", "\\|")
