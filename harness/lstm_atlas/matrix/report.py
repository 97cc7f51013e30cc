"""Render a merged matrix as Markdown (fits a PR comment), static HTML with a plot, and JSON."""

from __future__ import annotations

import base64
import difflib
import html
import io
from collections import Counter
from pathlib import Path

import jinja2
from markupsafe import Markup

from lstm_atlas.files import now_iso, write_bytes_atomic, write_json_atomic
from lstm_atlas.matrix import markdown
from lstm_atlas.matrix.diff import cell_changes, strip_volatile
from lstm_atlas.matrix.merge import Matrix


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


def _rows(matrix: Matrix) -> list[dict]:
    envs = matrix.env_keys()
    rows = []
    for (case_id, variant, device), by_env in sorted(matrix.cells.items()):
        case = matrix.cases.get(case_id, {})
        cells = {k: dict(c, short=short_cell(c)) for k, c in by_env.items()}
        present = [k for k in envs if k in by_env and by_env[k]["verdict"] != "skip"]
        changes, diffs = False, []
        for old_key, new_key in zip(present, present[1:], strict=False):
            old, new = by_env[old_key], by_env[new_key]
            if cell_changes(old, new, variant):
                changes = True
            if old["message"] and new["message"] and \
                    strip_volatile(old["message"]) != strip_volatile(new["message"]):
                diffs.append({"old_env": old_key, "new_env": new_key,
                              "html": word_diff_html(strip_volatile(old["message"])[:600],
                                                     strip_volatile(new["message"])[:600])})
        rows.append({"case_id": case_id, "variant": variant, "device": device, "family": case.get("family", "?"),
                     "title": case.get("title", ""), "cells": cells, "changes": changes, "diffs": diffs,
                     "short": {k: short_cell(by_env.get(k)) for k in envs}})
    return rows


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


def verdict_plot_png(matrix: Matrix, totals: dict) -> bytes:
    """A stacked bar per environment: items passing, failing, other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = matrix.env_keys()
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(envs) + 2), 3.2), dpi=100)
    bottom = [0] * len(envs)
    for name, color in (("pass", "#74c476"), ("fail", "#fb6a4a"), ("other", "#bdbdbd")):
        values = [totals[k][name] for k in envs]
        ax.bar(envs, values, bottom=bottom, color=color, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=False)]
    ax.set_ylabel("items (CPU + GPU)")
    ax.set_title("Case items per environment")
    ax.legend(loc="lower right", fontsize=8)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _templates() -> jinja2.Environment:
    # the templates are named *.html.j2: escape those (titles and messages come from case
    # files and TensorFlow), not the Markdown one
    return jinja2.Environment(loader=jinja2.PackageLoader("lstm_atlas.matrix", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=False),
                              trim_blocks=False, keep_trailing_newline=True)


def _markdown_templates() -> jinja2.Environment:
    """report.md is posted as a PR comment: every value it prints is escaped (matrix/markdown.py)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("lstm_atlas.matrix", "templates"),
                             finalize=markdown.cell, keep_trailing_newline=True)
    env.filters["code"] = markdown.code
    return env


def render(matrix: Matrix) -> dict[str, str | bytes]:
    rows = _rows(matrix)
    totals = _totals(matrix)
    envs = matrix.env_keys()
    png = verdict_plot_png(matrix, totals)
    context = {"cases": matrix.cases, "envs": envs, "environments": matrix.environments, "rows": rows,
               "totals": totals, "attention": _attention(matrix, rows), "invalid": matrix.invalid,
               "problems": matrix.problems(),
               "created": now_iso(), "families": sorted({r["family"] for r in rows}),
               "plot_png": base64.b64encode(png).decode("ascii"),
               "gpu_ran": any(c["verdict"] != "skip" for (_, _, device), by_env in matrix.cells.items()
                              if device == "gpu" for c in by_env.values())}
    env = _templates()
    md_rows = [r for r in rows if r["device"] == "cpu"]
    return {"report.md": _markdown_templates().get_template("report.md.j2").render(dict(context, rows=md_rows)),
            "report.html": env.get_template("report.html.j2").render(context),
            "verdicts.png": png}


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
