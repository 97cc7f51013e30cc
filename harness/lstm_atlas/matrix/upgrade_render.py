"""The upgrade classification (``matrix/upgrade.py``) as text, Markdown and JSON."""

from __future__ import annotations

import json

from lstm_atlas.matrix.markdown import cell, escape
from lstm_atlas.matrix.upgrade import BLURBS, TITLES, summary_line

#: Characters of a message quoted per side in text and Markdown.
QUOTE_CHARS = 200


def _fix_text(fix: dict, env: str) -> str:
    if fix["verdict"] is None:
        state = "not run"
    elif fix["works"]:
        state = f"runs clean ({fix['outcome']})"
    else:
        state = f"does not run clean ({fix['outcome']}, verdict {fix['verdict']})"
    return f"fix on {env}: {state}" + (f". {' '.join(fix['explanation'].split())}" if fix["explanation"] else "")


def _quotes(change: dict) -> list[tuple[str, str]]:
    out = []
    for side in ("from", "to"):
        message = " ".join(change[side]["message"].split())
        if message:
            out.append((side, message[:QUOTE_CHARS] + ("…" if len(message) > QUOTE_CHARS else "")))
    return out


def render_text(result: dict) -> str:
    old, new = result["from"]["env"], result["to"]["env"]
    lines = [summary_line(result)]
    for group in result["groups"]:
        kind, changes = group["kind"], group["changes"]
        lines += ["", f"{TITLES[kind].upper()} ({len(changes)}): {BLURBS[kind].format(old=old, new=new)}"]
        if kind == "cosmetic":
            if changes:
                lines.append("  " + ", ".join(f"{c['case']} [{c['variant']}]" for c in changes))
            continue
        for c in changes:
            lines.append(f"  {c['case']} [{c['variant']}] ({c['family']}) {c['title']}")
            lines.append(f"      {old}: {c['from']['outcome']} -> {new}: {c['to']['outcome']}")
            for side, message in _quotes(c) if kind in ("exception_type", "message") else []:
                lines.append(f"      {old if side == 'from' else new}: {message}")
            lines.append(f"      {_fix_text(c['fix_on_to'], new)}")
    return "\n".join(lines) + "\n"


def render_markdown(result: dict) -> str:
    old, new = result["from"]["env"], result["to"]["env"]
    lines = [f"# Upgrading {escape(result['from']['label'])} to {escape(result['to']['label'])}", "",
             escape(summary_line(result))]
    for group in result["groups"]:
        kind, changes = group["kind"], group["changes"]
        heading = f"{TITLES[kind]} ({len(changes)})"
        blurb = escape(BLURBS[kind].format(old=old, new=new))
        if kind == "cosmetic":
            lines += ["", f"<details><summary>{heading}: {blurb}</summary>", ""]
            lines += [f"- {escape(c['case'])} [{escape(c['variant'])}] {escape(c['title'])}" for c in changes]
            lines += ["", "</details>"]
            continue
        lines += ["", f"## {heading}", "", blurb, ""]
        if not changes:
            lines.append("None.")
            continue
        lines += [f"| case | family | {cell(old)} | {cell(new)} | fix on {cell(new)} |", "|---|---|---|---|---|"]
        for c in changes:
            quotes = "".join(f"<br>{cell(old if side == 'from' else new)}: {cell(message)}"
                             for side, message in (_quotes(c) if kind in ("exception_type", "message") else []))
            fix = c["fix_on_to"]
            fix_text = cell(_fix_text(fix, new).split(": ", 1)[1])
            lines.append(f"| **{cell(c['case'])}** [{cell(c['variant'])}]<br>{cell(c['title'])}{quotes} "
                         f"| {cell(c['family'])} | {cell(c['from']['outcome'])} | {cell(c['to']['outcome'])} "
                         f"| {fix_text} |")
    return "\n".join(lines) + "\n"


def render_json(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=False) + "\n"


RENDERERS = {"text": render_text, "md": render_markdown, "json": render_json}
