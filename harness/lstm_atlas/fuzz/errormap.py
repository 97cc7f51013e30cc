"""The error map of one environment: signature table, outcome cells and their rendering.

Per environment, under ``reports/fuzz/<env>/``: ``map.json`` (everything), ``signatures.md``
(the table a person reads) and ``heatmap.png`` (input rank x dtype -> most frequent outcome
class, one panel per layer kind). ``reports/fuzz/index.md`` puts every environment's map
side by side and lists what moved between Keras 2 and Keras 3. All files are written
atomically, so an interrupted run leaves the last complete map.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from pathlib import Path

from lstm_atlas.files import now_iso, write_bytes_atomic, write_json_atomic
from lstm_atlas.fuzz.oracle import is_suspected_bug, outcome_class, outcome_signature
from lstm_atlas.fuzz.strategies import DTYPES, LAYER_KINDS, MAX_RANK, describe
from lstm_atlas.normalise import message_template
from lstm_atlas.versions import env_key

MAP_SCHEMA = "lstm-atlas-fuzz-map"


def cell_key(example: dict) -> str:
    return f"{example['layer']}|{len(example['input']['shape'])}|{example['input']['dtype']}"


class FuzzMap:
    """Accumulates outcomes; ``to_json`` is the whole state, written after every few examples."""

    def __init__(self, environment: dict, profile: str, seed: int | None):
        self.environment = environment
        self.profile = profile
        self.seed = seed
        self.started = now_iso()
        self.examples = 0
        self.reused = 0
        self.by_step: dict[str, dict] = {}
        self.signatures: dict[str, dict] = {}
        self.cells: dict[str, Counter] = {}
        self.wall_started = time.perf_counter()

    def add(self, example: dict, outcome: dict, reasons: list[str]) -> dict:
        sig = outcome.get("signature") or outcome_signature(outcome)
        cls = outcome_class(outcome)
        self.examples += 1
        self.reused += bool(outcome.get("reused"))
        step = self.by_step.setdefault(example["step"], {"examples": 0, "seconds": 0.0})
        step["examples"] += 1
        step["seconds"] = round(step["seconds"] + float(outcome.get("duration_s") or 0.0), 4)
        self.cells.setdefault(cell_key(example), Counter())[cls] += 1
        record = self.signatures.get(sig)
        if record is None:
            exc = outcome.get("exception") or {}
            record = self.signatures[sig] = {
                "signature": sig, "outcome": cls, "status": outcome["status"],
                "template": message_template(exc["message"]) if exc else "",
                "message": (exc.get("core") or outcome.get("stderr_tail") or outcome.get("detail") or "")[:600],
                "count": 0, "stages": Counter(), "layers": Counter(), "steps": Counter(),
                "explained_by": reasons, "suspected_bug": is_suspected_bug(outcome),
                "first_example": example, "minimal_example": None, "candidate": None,
            }
        record["count"] += 1
        record["stages"][outcome.get("stage") or "?"] += 1
        record["layers"][example["layer"]] += 1
        record["steps"][example["step"]] += 1
        return record

    def summary(self) -> dict:
        sigs = [s for s in self.signatures.values() if s["signature"] != "ok"]
        elapsed = time.perf_counter() - self.wall_started
        return {
            "examples": self.examples,
            "distinct_signatures": len(sigs),
            "explained": sum(1 for s in sigs if s["explained_by"]),
            "unexplained": sum(1 for s in sigs if not s["explained_by"]),
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
            "schema": MAP_SCHEMA, "schema_version": 1, "env": env_key(self.environment),
            "environment": self.environment, "profile": self.profile, "seed": self.seed,
            "started": self.started, "updated": now_iso(), "summary": self.summary(),
            "signatures": sorted(({**s, "stages": dict(s["stages"]), "layers": dict(s["layers"]),
                                   "steps": dict(s["steps"])} for s in self.signatures.values()),
                                 key=lambda s: (-s["count"], s["signature"])),
            "cells": {k: dict(v) for k, v in sorted(self.cells.items())},
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
    lines = [f"# Fuzz map: {data['env']} (TensorFlow {env.get('tensorflow')}, Keras {env.get('keras')})", "",
             f"Profile `{data['profile']}`, seed {data['seed']}, updated {data['updated']}.", "",
             f"{s['examples']} examples, {s['distinct_signatures']} distinct signatures, {s['explained']} explained, "
             f"{s['unexplained']} unexplained, {s['candidates']} candidates written, "
             f"{s['suspected_bugs']} suspected library bugs.", "",
             "![heatmap](heatmap.png)", "",
             "| # | signature | count | explained by | suspected bug | minimal example |",
             "|---|---|---|---|---|---|"]
    for i, sig in enumerate(data["signatures"], 1):
        example = sig.get("minimal_example") or sig["first_example"]
        explained = ", ".join(sig["explained_by"][:3]) + (" ..." if len(sig["explained_by"]) > 3 else "")
        lines.append(f"| {i} | `{_cell(sig['signature'][:220])}` | {sig['count']} | {_cell(explained) or '**no**'} | "
                     f"{'**yes**' if sig['suspected_bug'] else ''} | {_cell(describe(example))} |")
    return "\n".join(lines) + "\n"


#: Colours for the outcome classes that recur; anything else gets a colour from the tab20 cycle.
FIXED_COLOURS = {"ok": "#74c476", "ValueError": "#fdae6b", "TypeError": "#9ecae1", "InvalidArgumentError": "#bcbddc",
                 "crash": "#000000", "timeout": "#636363"}


def heatmap_png(data: dict) -> bytes:
    """One panel per layer kind: rows input rank 0..5, columns dtype, colour the most frequent outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    cells = data["cells"]
    classes = sorted({c for counts in cells.values() for c in counts})
    cycle = plt.get_cmap("tab20").colors
    colours = {c: FIXED_COLOURS.get(c, cycle[i % len(cycle)]) for i, c in enumerate(classes)}
    kinds = [k for k in LAYER_KINDS if any(key.startswith(k + "|") for key in cells)] or list(LAYER_KINDS[:1])
    cols = 3
    rows = (len(kinds) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 2.6 * rows + 1.0), dpi=90, squeeze=False)
    for ax in axes.flat[len(kinds):]:
        ax.axis("off")
    for ax, kind in zip(axes.flat, kinds, strict=False):
        for rank in range(MAX_RANK + 1):
            for j, dtype in enumerate(DTYPES):
                counts = cells.get(f"{kind}|{rank}|{dtype}")
                if not counts:
                    continue
                top, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
                total = sum(counts.values())
                ax.add_patch(plt.Rectangle((j, rank), 1, 1, color=colours[top], alpha=0.35 + 0.65 * n / total))
                ax.text(j + 0.5, rank + 0.5, str(total), ha="center", va="center", fontsize=6,
                        color="white" if top == "crash" else "black")
        ax.set_xlim(0, len(DTYPES))
        ax.set_ylim(0, MAX_RANK + 1)
        ax.set_xticks([j + 0.5 for j in range(len(DTYPES))], DTYPES, rotation=60, fontsize=6)
        ax.set_yticks([r + 0.5 for r in range(MAX_RANK + 1)], [str(r) for r in range(MAX_RANK + 1)], fontsize=7)
        ax.set_ylabel("input rank", fontsize=7)
        ax.set_title(kind, fontsize=9)
    env = data["environment"]
    fig.suptitle(f"{data['env']}: TF {env.get('tensorflow')}, Keras {env.get('keras')} — most frequent outcome per "
                 f"(rank, dtype); number = examples; paler = less dominant", fontsize=9)
    fig.legend(handles=[Patch(color=colours[c], label=c) for c in classes], loc="lower center",
               ncol=min(6, len(classes)), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def read_maps(fuzz_dir: str | Path) -> list[dict]:
    maps = []
    for path in sorted(Path(fuzz_dir).glob("*/map.json")):
        data = json.loads(path.read_text("utf-8"))
        if data.get("schema") == MAP_SCHEMA:
            maps.append(data)
    return maps


def _dominant(counts: dict) -> str:
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def moved(old: dict, new: dict) -> dict:
    """Signatures seen only on one side, and (layer, rank, dtype) cells whose main outcome changed."""
    old_sigs = {s["signature"] for s in old["signatures"]}
    new_sigs = {s["signature"] for s in new["signatures"]}
    cells = []
    for key in sorted(set(old["cells"]) & set(new["cells"])):
        a, b = _dominant(old["cells"][key]), _dominant(new["cells"][key])
        if a != b:
            layer, rank, dtype = key.split("|")
            cells.append({"layer": layer, "rank": int(rank), "dtype": dtype, "old": a, "new": b})
    return {"old": old["env"], "new": new["env"], "only_old": sorted(old_sigs - new_sigs),
            "only_new": sorted(new_sigs - old_sigs), "cells": cells}


def _keras_major(data: dict) -> str:
    return str(data["environment"].get("keras", "0")).split(".")[0]


SUMMARY_KEYS = ("examples", "distinct_signatures", "explained", "unexplained", "candidates", "suspected_bugs",
                "examples_per_second")


def keras_moves(maps: list[dict]) -> list[dict]:
    """:func:`moved` for every (Keras 2 map, Keras 3 map) pair."""
    olds = [m for m in maps if _keras_major(m) == "2"]
    news = [m for m in maps if _keras_major(m) == "3"]
    return [moved(old, new) for old in olds for new in news]


def index_html(maps: list[dict]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("lstm_atlas.fuzz", "templates"), autoescape=True)
    return env.get_template("fuzz.html.j2").render(maps=maps, keys=SUMMARY_KEYS, moves=keras_moves(maps))


def index_markdown(maps: list[dict]) -> str:
    """Every environment's map side by side, then what moved from each Keras 2 map to each Keras 3 map."""
    lines = ["# Fuzz maps", "",
             "Generated by `lstm-atlas fuzz` (see README, \"Fuzz map\"). One column per environment.", ""]
    if not maps:
        return "\n".join(lines + ["No maps yet: run `lstm-atlas fuzz`.", ""])
    header = "| | " + " | ".join(f"{m['env']} (TF {m['environment'].get('tensorflow')}, Keras "
                                  f"{m['environment'].get('keras')})" for m in maps) + " |"
    lines += [header, "|---" * (len(maps) + 1) + "|"]
    for key in SUMMARY_KEYS:
        lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(str(m["summary"].get(key)) for m in maps) + " |")
    lines.append("| map | " + " | ".join(f"![{m['env']}]({m['env']}/heatmap.png)" for m in maps) + " |")
    lines.append("| table | " + " | ".join(f"[signatures]({m['env']}/signatures.md)" for m in maps) + " |")
    for diff in keras_moves(maps):
        old, new = diff["old"], diff["new"]
        lines += ["", f"## What moved from {old} (Keras 2) to {new} (Keras 3)", "",
                  f"{len(diff['only_old'])} signatures only on {old}, {len(diff['only_new'])} only on "
                  f"{new}; {len(diff['cells'])} (layer, rank, dtype) cells changed their main outcome.", ""]
        if diff["cells"]:
            lines += ["| layer | rank | dtype | Keras 2 | Keras 3 |", "|---|---|---|---|---|"]
            lines += [f"| {c['layer']} | {c['rank']} | {c['dtype']} | {c['old']} | {c['new']} |" for c in diff["cells"]]
        for title, sigs in ((f"Only on {old}", diff["only_old"]), (f"Only on {new}", diff["only_new"])):
            if sigs:
                lines += ["", f"{title}:", ""] + [f"- `{_cell(s[:200])}`" for s in sigs]
    return "\n".join(lines) + "\n"


def write_index(fuzz_dir: str | Path) -> list[Path]:
    """reports/fuzz/index.md and index.html: the maps of every environment side by side."""
    maps = read_maps(fuzz_dir)
    paths = [Path(fuzz_dir) / "index.md", Path(fuzz_dir) / "index.html"]
    write_bytes_atomic(paths[0], index_markdown(maps).encode("utf-8"))
    write_bytes_atomic(paths[1], index_html(maps).encode("utf-8"))
    return paths
