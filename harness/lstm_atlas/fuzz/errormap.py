"""The error map of one environment: per-example outcomes, the signature table, cells and their rendering.

Per environment, ``map.json`` (everything), ``signatures.md`` (the table a person reads) and
``heatmap.png`` (input rank x dtype -> the most frequent cause: the family of the case that explains
it, ``unexplained``, or what was observed when it is not an error). A replayed map (``lstm-atlas fuzz
replay``) holds one outcome per corpus example, keyed by example id, so two environments' maps
pair up example by example (:mod:`lstm_atlas.fuzz.transitions`). ``index.md``/``index.html`` put every
environment side by side. All files are written atomically, so an interrupted run leaves the last
complete map.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from pathlib import Path

from lstm_atlas.files import now_iso, write_bytes_atomic, write_json_atomic
from lstm_atlas.fuzz.oracle import explaining_cases, is_failing, is_suspected_bug, outcome_class, outcome_signature
from lstm_atlas.fuzz.strategies import DTYPES, LAYER_KINDS, MAX_RANK, describe, example_key
from lstm_atlas.normalise import message_template
from lstm_atlas.versions import env_key

MAP_SCHEMA = "lstm-atlas-fuzz-map"
MAP_VERSION = 2
#: Causes that are not a case family, drawn in fixed colours (see :data:`FIXED_COLOURS`).
OBSERVED_CAUSES = ("ok", "nonfinite", "crash", "timeout", "allowed", "unexplained")


def cell_key(example: dict) -> str:
    return f"{example['layer']}|{len(example['input']['shape'])}|{example['input']['dtype']}"


def cause_of(outcome: dict, reasons: list[str], family_of=None) -> str:
    """What the map colours an example by: crash, timeout and NaN always show as such; else the family of
    the (first) case that explains it, ``allowed``, ``unexplained``, or ``ok``."""
    status = outcome["status"]
    if status in ("ok", "crash", "timeout", "nonfinite"):
        return status
    cases = explaining_cases(reasons)
    if cases:
        family = family_of(cases[0]) if family_of else None
        return family or "explained"
    if any(r.startswith("allow:") for r in reasons):
        return "allowed"
    return "unexplained"


#: The fields of a worker's outcome that attribution reads, kept per example so a map can be
#: re-attributed without TensorFlow (:mod:`lstm_atlas.fuzz.reattribute`).
RAW_FIELDS = ("status", "stage", "detail", "stderr_tail", "duration_s", "reused")
RAW_EXCEPTION_FIELDS = ("type", "module", "hierarchy", "message", "core")


def raw_outcome(outcome: dict) -> dict:
    """What the worker observed (status, stage, exception type and full message, detail), nothing derived."""
    raw = {k: outcome[k] for k in RAW_FIELDS if outcome.get(k) is not None}
    exc = outcome.get("exception")
    raw["exception"] = {k: exc[k] for k in RAW_EXCEPTION_FIELDS if k in exc} if exc else None
    return raw


class FuzzMap:
    """Accumulates outcomes; ``to_json`` is the whole state, written after every few examples."""

    def __init__(self, environment: dict, profile: str, seed: int | None, corpus: str | None = None,
                 family_of=None):
        self.environment = environment
        self.profile = profile
        self.seed = seed
        self.corpus = corpus
        self.family_of = family_of
        self.started = now_iso()
        self.examples = 0
        self.reused = 0
        self.by_step: dict[str, dict] = {}
        self.signatures: dict[str, dict] = {}
        self.cells: dict[str, Counter] = {}
        self.outcomes: dict[str, dict] = {}
        self.cases: Counter = Counter()
        self.wall_started = time.perf_counter()

    def add(self, example: dict, outcome: dict, reasons: list[str]) -> dict:
        sig = outcome.get("signature") or outcome_signature(outcome)
        cls = outcome_class(outcome)
        cause = cause_of(outcome, reasons, self.family_of)
        cases = explaining_cases(reasons)
        key = example_key(example)
        self.examples += 1
        self.reused += bool(outcome.get("reused"))
        step = self.by_step.setdefault(example["step"], {"examples": 0, "seconds": 0.0})
        step["examples"] += 1
        step["seconds"] = round(step["seconds"] + float(outcome.get("duration_s") or 0.0), 4)
        self.cells.setdefault(cell_key(example), Counter())[cause] += 1
        self.outcomes[key] = {"status": outcome["status"], "class": cls, "stage": outcome.get("stage"),
                              "signature": sig, "cause": cause, "cases": cases,
                              "allowed": any(r.startswith("allow:") for r in reasons),
                              "raw": raw_outcome(outcome)}
        for case_id in cases[:1]:  # an example is credited to the case that explains it first
            self.cases[case_id] += 1
        record = self.signatures.get(sig)
        if record is None:
            exc = outcome.get("exception") or {}
            record = self.signatures[sig] = {
                "signature": sig, "outcome": cls, "status": outcome["status"],
                "template": message_template(exc["message"]) if exc else "",
                "message": (exc.get("core") or outcome.get("stderr_tail") or outcome.get("detail") or "")[:600],
                "count": 0, "explained_count": 0, "stages": Counter(), "layers": Counter(), "steps": Counter(),
                "explained_by": [], "suspected_bug": is_suspected_bug(outcome),
                "first_example": example, "minimal_example": None, "candidate": None,
            }
        record["count"] += 1
        record["explained_count"] += bool(reasons)
        record["explained_by"] = sorted(set(record["explained_by"]) | set(reasons))
        record["stages"][outcome.get("stage") or "?"] += 1
        record["layers"][example["layer"]] += 1
        record["steps"][example["step"]] += 1
        return record

    def summary(self) -> dict:
        sigs = [s for s in self.signatures.values() if s["signature"] != "ok"]
        elapsed = time.perf_counter() - self.wall_started
        failing = [o for o in self.outcomes.values() if is_failing(o)]
        by_case = sum(1 for o in failing if o["cases"])
        by_allow = sum(1 for o in failing if not o["cases"] and o["allowed"])
        return {
            "corpus": self.corpus,
            "examples": self.examples,
            "failing_examples": len(failing),
            "explained_by_case": by_case,
            "explained_by_allow": by_allow,
            "unexplained_examples": len(failing) - by_case - by_allow,
            "explained_by_case_share": round(by_case / len(failing), 4) if failing else None,
            "nonfinite_examples": sum(1 for o in self.outcomes.values() if o["status"] == "nonfinite"),
            "ok_examples": sum(1 for o in self.outcomes.values() if o["status"] == "ok"),
            "distinct_signatures": len(sigs),
            "explained": sum(1 for s in sigs if s["explained_count"] == s["count"]),
            "unexplained": sum(1 for s in sigs if s["explained_count"] < s["count"]),
            "candidates": sum(1 for s in sigs if s["candidate"]),
            "suspected_bugs": sum(1 for s in sigs if s["suspected_bug"]),
            "models_reused": self.reused,
            "wall_seconds": round(elapsed, 1),
            "examples_per_second": round(self.examples / elapsed, 2) if elapsed else None,
            "by_step": {k: dict(v, per_second=round(v["examples"] / v["seconds"], 2) if v["seconds"] else None)
                        for k, v in sorted(self.by_step.items())},
        }

    def to_json(self) -> dict:
        return {
            "schema": MAP_SCHEMA, "schema_version": MAP_VERSION, "env": env_key(self.environment),
            "environment": self.environment, "profile": self.profile, "seed": self.seed,
            "started": self.started, "updated": now_iso(), "summary": self.summary(),
            "cases": {case_id: {"family": self.family_of(case_id) if self.family_of else None, "examples": n}
                      for case_id, n in sorted(self.cases.items(), key=lambda kv: (-kv[1], kv[0]))},
            "signatures": sorted(({**s, "stages": dict(s["stages"]), "layers": dict(s["layers"]),
                                   "steps": dict(s["steps"])} for s in self.signatures.values()),
                                 key=lambda s: (-s["count"], s["signature"])),
            "cells": {k: dict(v) for k, v in sorted(self.cells.items())},
            "outcomes": dict(sorted(self.outcomes.items())),
        }

    def write(self, out_dir: str | Path, heatmap: bool = True) -> list[Path]:
        data = self.to_json()
        return write_map(data, Path(out_dir) / data["env"], heatmap=heatmap)


def write_map(data: dict, directory: Path, heatmap: bool = True) -> list[Path]:
    """map.json and signatures.md; the heatmap (about a second to draw) at round ends and at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "map.json", directory / "signatures.md"]
    write_json_atomic(paths[0], data)
    write_bytes_atomic(paths[1], signatures_markdown(data).encode("utf-8"))
    if heatmap:
        paths.append(directory / "heatmap.png")
        write_bytes_atomic(paths[2], heatmap_png(data))
    return paths


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def signatures_markdown(data: dict) -> str:
    env, s = data["environment"], data["summary"]
    corpus = f", corpus `{s['corpus']}`" if s.get("corpus") else ""
    lines = [f"# Fuzz map: {data['env']} (TensorFlow {env.get('tensorflow')}, Keras {env.get('keras')})", "",
             f"Profile `{data['profile']}`{corpus}, updated {data['updated']}.", "",
             f"{s['examples']} examples: {s.get('ok_examples')} ok, {s.get('nonfinite_examples')} with NaN or inf, "
             f"{s.get('failing_examples')} failing (raised, crashed or hung), of which "
             f"{s.get('explained_by_case')} are explained by a case, {s.get('explained_by_allow')} allowed and "
             f"{s.get('unexplained_examples')} unexplained. {s['distinct_signatures']} distinct signatures, "
             f"{s['candidates']} candidates written, {s['suspected_bugs']} suspected library bugs.", "",
             "![heatmap](heatmap.png)", ""]
    if data.get("cases"):
        lines += ["| case | family | examples it explains |", "|---|---|---|"]
        lines += [f"| `{cid}` | {c.get('family') or ''} | {c['examples']} |" for cid, c in data["cases"].items()]
        lines.append("")
    lines += ["| # | signature | count | explained | explained by | suspected bug | minimal example |",
              "|---|---|---|---|---|---|---|"]
    for i, sig in enumerate(data["signatures"], 1):
        example = sig.get("minimal_example") or sig["first_example"]
        explained = ", ".join(sig["explained_by"][:3]) + (" ..." if len(sig["explained_by"]) > 3 else "")
        share = f"{sig.get('explained_count', sig['count'] if sig['explained_by'] else 0)}/{sig['count']}"
        lines.append(f"| {i} | `{_cell(sig['signature'][:220])}` | {sig['count']} | {share} | "
                     f"{_cell(explained) or '**no**'} | {'**yes**' if sig['suspected_bug'] else ''} | "
                     f"{_cell(describe(example))} |")
    return "\n".join(lines) + "\n"


#: Observed outcomes keep one colour on every map; families take tab20's colours in a fixed order, so
#: neighbouring families differ and a family has the same colour in every environment.
FIXED_COLOURS = {"ok": "#c7e9c0", "nonfinite": "#e7298a", "crash": "#000000", "timeout": "#636363",
                 "allowed": "#d9d9d9", "unexplained": "#d62728", "explained": "#9edae5"}
EMPTY_COLOUR = "#ffffff"


def family_colours() -> dict[str, tuple]:
    """Each of the 20 families (``case.schema.json``) its own tab20 colour, red and greys left to the fixed ones."""
    import matplotlib

    from lstm_atlas.case.schema import FAMILIES

    tab20 = matplotlib.colormaps["tab20"].colors
    taken = (3, 7, 6)  # red (unexplained), grey (timeout, allowed) and pink (NaN) pairs are the fixed causes'
    dark = [tab20[2 * i] for i in range(10) if i not in taken]
    light = [tab20[2 * i + 1] for i in range(10) if i not in taken]
    # strong hues first, so families that sit next to each other in the schema never share a hue's two shades
    dark2 = [c for i, c in enumerate(matplotlib.colormaps["Dark2"].colors) if i not in (3, 7)]  # pink, grey
    palette = dark + dark2 + light
    return {family: palette[i % len(palette)] for i, family in enumerate(FAMILIES)}


def colour_of(cause: str, families: dict) -> object:
    return FIXED_COLOURS.get(cause) or families.get(cause) or FIXED_COLOURS["explained"]


def heatmap_png(data: dict) -> bytes:
    """One panel per layer kind: rows input rank 0..5, columns dtype, colour the most frequent cause.

    A white hatched cell had no example (nothing was generated there), which is not ``ok`` (pale green).
    The number is how many examples the cell holds; a cell whose dominant cause holds less than all of
    them is drawn paler, with the share in the corner.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    cells = data["cells"]
    families = family_colours()
    seen = sorted({c for counts in cells.values() for c in counts},
                  key=lambda c: (c in OBSERVED_CAUSES, OBSERVED_CAUSES.index(c) if c in OBSERVED_CAUSES else 0, c))
    kinds = [k for k in LAYER_KINDS if any(key.startswith(k + "|") for key in cells)] or list(LAYER_KINDS[:1])
    cols = 2
    rows = (len(kinds) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(8.5 * cols, 3.6 * rows + 1.6), dpi=100, squeeze=False)
    for ax in axes.flat[len(kinds):]:
        ax.axis("off")
    dominant_seen = set()
    marked = False
    for ax, kind in zip(axes.flat, kinds, strict=False):
        for rank in range(MAX_RANK + 1):
            for j, dtype in enumerate(DTYPES):
                counts = cells.get(f"{kind}|{rank}|{dtype}")
                if not counts:
                    ax.add_patch(plt.Rectangle((j, rank), 1, 1, facecolor=EMPTY_COLOUR, edgecolor="#bdbdbd",
                                               hatch="///", linewidth=0.3))
                    continue
                top, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
                dominant_seen.add(top)
                total = sum(counts.values())
                colour = colour_of(top, families)
                ax.add_patch(plt.Rectangle((j, rank), 1, 1, facecolor=colour, edgecolor="white", linewidth=0.8,
                                           alpha=0.6 + 0.4 * n / total))
                dark = top in ("crash", "timeout", "unexplained", "nonfinite")
                ax.text(j + 0.5, rank + 0.5, str(total), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
                if top not in ("crash", "timeout") and (counts.get("crash") or counts.get("timeout")):
                    # a crash or hang among the cell's examples, though not its commonest cause: never hidden
                    ax.add_patch(plt.Polygon([(j + 0.72, rank + 1), (j + 1, rank + 1), (j + 1, rank + 0.72)],
                                             facecolor="black", edgecolor="white", linewidth=0.5))
                    marked = True
        ax.set_xlim(0, len(DTYPES))
        ax.set_ylim(0, MAX_RANK + 1)
        ax.set_xticks([j + 0.5 for j in range(len(DTYPES))], DTYPES, rotation=45, fontsize=8)
        ax.set_yticks([r + 0.5 for r in range(MAX_RANK + 1)], [str(r) for r in range(MAX_RANK + 1)], fontsize=8)
        ax.set_ylabel("input rank", fontsize=8)
        ax.set_title(kind, fontsize=10)
    env = data["environment"]
    corpus = data["summary"].get("corpus")
    fig.suptitle(f"{data['env']}: TF {env.get('tensorflow')}, Keras {env.get('keras')}"
                 f"{f' (corpus {corpus})' if corpus else ''}: the most frequent cause per (rank, dtype); "
                 f"number = examples; paler = that cause holds fewer of them", fontsize=10)
    legend = [Patch(facecolor=colour_of(c, families), label=_legend_label(c)) for c in seen if c in dominant_seen]
    legend.append(Patch(facecolor=EMPTY_COLOUR, edgecolor="#bdbdbd", hatch="///", label="no example generated"))
    if marked:
        legend.append(Patch(facecolor="black", label="black corner: the cell also holds a crash or hang"))
    fig.legend(handles=legend, loc="lower center", ncol=min(5, len(legend)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(legend) + 4) // 5), 1, 0.95))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _legend_label(cause: str) -> str:
    return {"ok": "ok (no error)", "nonfinite": "NaN or inf (no error)", "crash": "crash (interpreter died)",
            "timeout": "timeout (hang)", "allowed": "allowed (allow.yaml)", "unexplained": "unexplained",
            "explained": "explained (case of no family)"}.get(cause, f"case family: {cause}")


def read_maps(fuzz_dir: str | Path) -> list[dict]:
    """Every environment's map under ``fuzz_dir``, in matrix order (by TensorFlow, then Keras)."""
    from lstm_atlas.versions import env_sort_key

    maps = []
    for path in sorted(Path(fuzz_dir).glob("*/map.json")):
        data = json.loads(path.read_text("utf-8"))
        if data.get("schema") == MAP_SCHEMA:
            maps.append(data)
    return sorted(maps, key=lambda m: (env_sort_key(m.get("environment") or {}), m["env"]))


SUMMARY_KEYS = ("corpus", "examples", "ok_examples", "nonfinite_examples", "failing_examples", "explained_by_case",
                "explained_by_allow", "unexplained_examples", "distinct_signatures", "candidates", "suspected_bugs",
                "examples_per_second")


def index_html(maps: list[dict], examples: dict | None = None) -> str:
    import jinja2

    from lstm_atlas.fuzz.transitions import index_transitions

    env = jinja2.Environment(loader=jinja2.PackageLoader("lstm_atlas.fuzz", "templates"), autoescape=True)
    return env.get_template("fuzz.html.j2").render(maps=maps, keys=SUMMARY_KEYS,
                                                   views=index_transitions(maps, examples))


def index_markdown(maps: list[dict], examples: dict | None = None) -> str:
    """Every environment's map side by side, then what changed between versions, example by example."""
    from lstm_atlas.fuzz.transitions import index_transitions, transitions_markdown

    lines = ["# Fuzz maps", "",
             "Generated by `lstm-atlas fuzz replay` (see README, \"Fuzz map\"). One column per environment; every "
             "map replays the same corpus, so each example has one outcome per version.", ""]
    if not maps:
        return "\n".join(lines + ["No maps yet: run `lstm-atlas fuzz replay --publish`.", ""])
    header = "| | " + " | ".join(f"{m['env']} (TF {m['environment'].get('tensorflow')}, Keras "
                                  f"{m['environment'].get('keras')})" for m in maps) + " |"
    lines += [header, "|---" * (len(maps) + 1) + "|"]
    for key in SUMMARY_KEYS:
        lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(str(m["summary"].get(key)) for m in maps) + " |")
    lines.append("| table | " + " | ".join(f"[signatures]({m['env']}/signatures.md)" for m in maps) + " |")
    lines += ["", "## Maps", ""]
    for m in maps:
        lines += [f"### {m['env']}", "", f"![{m['env']}]({m['env']}/heatmap.png)", ""]
    lines += transitions_markdown(index_transitions(maps, examples))
    return "\n".join(lines) + "\n"


def write_index(fuzz_dir: str | Path) -> list[Path]:
    """index.md and index.html: the maps of every environment side by side, and the transitions."""
    from lstm_atlas.fuzz.corpus import CORPUS_FILE, read_corpus

    maps = read_maps(fuzz_dir)
    corpus = read_corpus(Path(fuzz_dir) / CORPUS_FILE, missing_ok=True)
    examples = {e["id"]: e["example"] for e in corpus["examples"]} if corpus else {}
    paths = [Path(fuzz_dir) / "index.md", Path(fuzz_dir) / "index.html"]
    write_bytes_atomic(paths[0], index_markdown(maps, examples).encode("utf-8"))
    write_bytes_atomic(paths[1], index_html(maps, examples).encode("utf-8"))
    return paths
