"""Render a merged matrix as Markdown (fits a PR comment), static HTML with a picture, and JSON.

The HTML page answers "what breaks if I move from TF A to TF B": it embeds the upgrade
classification (``matrix/upgrade.py``) of every ordered pair of environments, and a grid of
behaviour (``ValueError@fit``, ``ok@fit``) coloured by outcome, transitions marked.
"""

from __future__ import annotations

import base64
import difflib
import html
import json
import re
from collections import Counter
from pathlib import Path

import jinja2
from markupsafe import Markup

from lstm_atlas.files import write_bytes_atomic, write_json_atomic
from lstm_atlas.matrix import markdown
from lstm_atlas.matrix.diff import strip_volatile
from lstm_atlas.matrix.merge import Matrix
from lstm_atlas.matrix.plot import DARK, TRANSITION_COLOURS, outcomes_png, palette, transitions
from lstm_atlas.matrix.upgrade import (
    BLURBS,
    KINDS,
    TITLES,
    first_keras3_pair,
    outcome,
    outcome_class,
    summary_line,
    upgrade,
)
from lstm_atlas.versions import env_label

#: The picture's file name next to the report.
PICTURE = "outcomes.png"


def short_cell(cell: dict | None) -> str:
    if cell is None:
        return "—"
    if cell["verdict"] == "skip":
        return "skip"
    if cell["status"] == "raised":
        text = f"{cell['exception_type']}@{cell['stage']}"
    elif cell["status"] == "ok":
        text = "ok"
    else:
        text = cell["status"] or cell["verdict"]
    return text if cell["verdict"] == "pass" else f"✗ {text}"


def word_diff_html(old: str, new: str) -> Markup:
    """Words removed and added, as HTML; the words themselves are escaped here."""
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(f'<span class="del">{html.escape(" ".join(a[i1:i2]))}</span>')
        if op in ("insert", "replace"):
            out.append(f'<span class="ins">{html.escape(" ".join(b[j1:j2]))}</span>')
    return Markup(" ".join(out))


def outcome_html(cell: dict | None) -> Markup:
    """``ValueError<wbr>@fit``, ``Invalid<wbr>Argument<wbr>Error<wbr>@fit``: long names wrap in a narrow column."""
    name, at, step = outcome(cell).partition("@")
    parts = re.split(r"(?<=[a-z])(?=[A-Z])", name) if len(name) > 12 else [name]
    return Markup("<wbr>".join(html.escape(part) for part in parts) + (f"<wbr>@{html.escape(step)}" if at else ""))


def _css_name(name: str) -> str:
    return "oc-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _rows(matrix: Matrix) -> list[dict]:
    envs = matrix.env_keys()
    rows = []
    for (case_id, variant, device), by_env in sorted(matrix.cells.items()):
        case = matrix.cases.get(case_id, {})
        marks = transitions(envs, by_env)
        cells = {k: dict(c, short=short_cell(c), outcome_html=outcome_html(c), css=_css_name(outcome_class(c)),
                         transition=marks.get(k)) for k, c in by_env.items()}
        present = [k for k in envs if k in by_env and by_env[k]["verdict"] != "skip"]
        diffs = []
        for old_key, new_key in zip(present, present[1:], strict=False):
            old, new = by_env[old_key], by_env[new_key]
            if old["message"] and new["message"] and \
                    strip_volatile(old["message"]) != strip_volatile(new["message"]):
                diffs.append({"old_env": old_key, "new_env": new_key,
                              "html": word_diff_html(strip_volatile(old["message"])[:600],
                                                     strip_volatile(new["message"])[:600])})
        rows.append({"case_id": case_id, "variant": variant, "device": device, "family": case.get("family", "?"),
                     "title": case.get("title", ""), "cells": cells, "changes": bool(marks), "diffs": diffs,
                     "short": {k: short_cell(by_env.get(k)) for k in envs}})
    return rows


def _devices(matrix: Matrix) -> list[str]:
    """Device kinds where something ran (GPU only when an environment saw one)."""
    ran = {device for (_, _, device), by_env in matrix.cells.items()
           if any(c["verdict"] != "skip" for c in by_env.values())}
    return [d for d in ("cpu", "gpu") if d in ran] or ["cpu"]


def upgrade_data(matrix: Matrix) -> dict:
    """The classification of every ordered pair of environments on every device that ran, for the page.

    Compact (the page holds 132 pairs for 12 environments): case text and messages once, each
    change as ``[case, variant, from outcome, to outcome, fix outcome on TO, fix runs clean,
    from message, to message]`` (messages as indexes into ``messages``).
    """
    envs = matrix.env_keys()
    messages: dict[str, int] = {}

    def message_index(text: str) -> int:
        return messages.setdefault(" ".join((text or "").split())[:400], len(messages))

    pairs = {}
    for device in _devices(matrix):
        for old in envs:
            for new in envs:
                if old == new:
                    continue
                result = upgrade(matrix, old, new, device=device)
                groups = [[g["kind"], [[c["case"], c["variant"], c["from"]["outcome"], c["to"]["outcome"],
                                        c["fix_on_to"]["outcome"], c["fix_on_to"]["works"],
                                        message_index(c["from"]["message"]), message_index(c["to"]["message"])]
                                       for c in g["changes"]]] for g in result["groups"]]
                pairs[f"{device}|{old}|{new}"] = {"summary": result["summary"], "line": summary_line(result),
                                                  "groups": groups}
    default = first_keras3_pair(matrix)
    return {"envs": envs, "labels": {k: env_label(e) for k, e in matrix.environments.items()},
            "devices": _devices(matrix), "default": list(default) if default else envs[:2],
            "kinds": list(KINDS), "titles": TITLES, "blurbs": BLURBS,
            "cases": {cid: {"title": c.get("title", ""), "family": c.get("family", "?"),
                            "fix": c.get("fix_explanation") or ""} for cid, c in matrix.cases.items()},
            "messages": list(messages), "pairs": pairs}


def json_for_script(data: dict) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` or ``<!--`` can form)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def _attention(matrix: Matrix, rows: list[dict]) -> list[dict]:
    """Failing cells, each labelled: an override to add (passes elsewhere) or a broken case."""
    out = []
    for row in rows:
        verdicts = {k: c["verdict"] for k, c in row["cells"].items()}
        for key, cell in row["cells"].items():
            if cell["verdict"] in ("pass", "skip"):
                continue
            passes_elsewhere = any(v == "pass" for k, v in verdicts.items() if k != key)
            if cell["verdict"] in ("crash", "timeout", "error"):
                kind = f"{cell['verdict']} (harness or interpreter failure)"
            elif passes_elsewhere:
                kind = "behaviour differs on this version: add a version override, or report a regression"
            else:
                kind = "the case fails everywhere it ran: the case is wrong"
            where = f"{key} ({cell['device']})" if len(cell.get("per_device") or {}) > 1 else key
            out.append({"case_id": row["case_id"], "variant": row["variant"], "env": where, "kind": kind,
                        "detail": "; ".join(cell["mismatches"])[:400]})
    return out


def _totals(matrix: Matrix) -> dict:
    totals = {k: Counter() for k in matrix.env_keys()}
    for by_env in matrix.cells.values():
        for key, cell in by_env.items():
            bucket = cell["verdict"] if cell["verdict"] in ("pass", "fail") else "other"
            if cell["verdict"] != "skip":
                totals[key][bucket] += 1
            if cell.get("claim_verdict") == "false":
                totals[key]["claim_false"] += 1
    return {k: {n: c.get(n, 0) for n in ("pass", "fail", "other", "claim_false")} for k, c in totals.items()}


def _templates() -> jinja2.Environment:
    # the templates are named *.html.j2: escape those (titles and messages come from case
    # files and TensorFlow), not the Markdown one
    return jinja2.Environment(loader=jinja2.PackageLoader("lstm_atlas.matrix", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=False),
                              trim_blocks=False, keep_trailing_newline=True)


def _default_upgrade(matrix: Matrix) -> dict | None:
    pair = first_keras3_pair(matrix)
    return upgrade(matrix, *pair) if pair else None


def _markdown_templates() -> jinja2.Environment:
    """report.md is posted as a PR comment: every value it prints is escaped (matrix/markdown.py)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("lstm_atlas.matrix", "templates"),
                             finalize=markdown.cell, keep_trailing_newline=True)
    env.filters["code"] = markdown.code
    env.filters["md"] = markdown.cell
    return env


def render(matrix: Matrix) -> dict[str, str | bytes]:
    rows = _rows(matrix)
    totals = _totals(matrix)
    envs = matrix.env_keys()
    png = outcomes_png(matrix)
    default = _default_upgrade(matrix)
    context = {"cases": matrix.cases, "envs": envs, "environments": matrix.environments, "rows": rows,
               "labels": {k: env_label(e) for k, e in matrix.environments.items()},
               "totals": totals, "attention": _attention(matrix, rows), "invalid": matrix.invalid,
               "problems": matrix.problems(),
               "created": matrix.created or "from inputs without a date",
               "families": sorted({r["family"] for r in rows}),
               "plot_png": base64.b64encode(png).decode("ascii"), "picture": PICTURE,
               "colours": palette(matrix), "dark": DARK, "transition_colours": TRANSITION_COLOURS,
               "titles": TITLES, "kinds": KINDS, "css_name": _css_name,
               "upgrade": default, "upgrade_line": summary_line(default) if default else "",
               "upgrade_json": json_for_script(upgrade_data(matrix)),
               "gpu_ran": "gpu" in _devices(matrix)}
    env = _templates()
    md_rows = [r for r in rows if r["device"] == "cpu"]
    return {"report.md": _markdown_templates().get_template("report.md.j2").render(dict(context, rows=md_rows)),
            "report.html": env.get_template("report.html.j2").render(context),
            PICTURE: png}


def write_report(matrix: Matrix, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render(matrix).items():
        path = out / name
        write_bytes_atomic(path, content if isinstance(content, bytes) else content.encode("utf-8"))
        written.append(path)
    merged = out / "merged.json"
    write_json_atomic(merged, matrix.to_json())
    written.append(merged)
    return written
