"""The report's picture: each changing case variant's outcome across environments, transitions marked.

``outcomes.png`` replaces a bar chart of verdicts (every bar green: the harness's verdict says
whether a case's expectation held, not what TensorFlow did). Colours are the HTML grid's.
"""

from __future__ import annotations

import io

from lstm_atlas.matrix.merge import Matrix
from lstm_atlas.matrix.upgrade import KINDS, TITLES, classify, outcome_class

#: Fills for the outcome classes an ``except`` would tell apart, in the HTML grid and the picture.
FIXED_COLOURS = {"ok": "#c7e9c0", "ValueError": "#9ecae1", "TypeError": "#fdb863", "InvalidArgumentError": "#bcbddc",
                 "crash": "#67000d", "timeout": "#636363", "error": "#252525", "skip": "#f0f0f0", "none": "#ffffff"}
OTHER_COLOURS = ("#fff176", "#f4a6d7", "#80cdc1", "#d9ef8b", "#c2a5cf", "#fdd0a2", "#a6bddb", "#e7d4e8",
                 "#ffd92f", "#b3de69", "#fccde5", "#bf812d")
#: Border colour of a cell whose outcome differs from the environment before it, by impact.
TRANSITION_COLOURS = {"breaks": "#d7191c", "exception_type": "#f46d43", "now_works": "#1a9641",
                      "message": "#7b3294", "cosmetic": "#969696"}
DARK = ("crash", "timeout", "error")


def palette(matrix: Matrix) -> dict[str, str]:
    """Outcome class -> fill, for every class in the matrix: fixed ones, others by frequency."""
    counts: dict[str, int] = {}
    for by_env in matrix.cells.values():
        for cell in by_env.values():
            name = outcome_class(cell)
            counts[name] = counts.get(name, 0) + 1
    others = sorted((n for n in counts if n not in FIXED_COLOURS), key=lambda n: (-counts[n], n))
    colours = {n: c for n, c in FIXED_COLOURS.items() if n in counts or n in ("ok", "none")}
    for i, name in enumerate(others):
        colours[name] = OTHER_COLOURS[i % len(OTHER_COLOURS)]
    return colours


def transitions(envs: list[str], by_env: dict) -> dict[str, str]:
    """env key -> impact kind, for each environment whose outcome differs from the previous one run."""
    present = [k for k in envs if k in by_env and by_env[k].get("verdict") != "skip"]
    out = {}
    for old, new in zip(present, present[1:], strict=False):
        kind = classify(by_env[old], by_env[new])
        if kind:
            out[new] = kind
    return out


def outcomes_png(matrix: Matrix, device: str = "cpu") -> bytes:
    """Case variants whose outcome changes somewhere (rows) x environments (columns), plus a bar per
    upgrade step counting its changes by impact."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    envs = matrix.env_keys()
    colours = palette(matrix)
    rows = []
    for (case_id, variant, kind), by_env in sorted(matrix.cells.items(),
                                                   key=lambda kv: (matrix.cases.get(kv[0][0], {}).get("family", ""),
                                                                   kv[0])):
        if kind == device and (marks := transitions(envs, by_env)):
            rows.append((f"{case_id} [{variant}]", [outcome_class(by_env.get(k)) for k in envs], marks))
    height = max(1, len(rows))
    fig, (top, ax) = plt.subplots(2, 1, figsize=(max(8.0, 3 + 0.75 * len(envs)), 2.6 + 0.16 * height), dpi=100,
                                  gridspec_kw={"height_ratios": [1.6, max(1.6, 0.16 * height)]})
    image = [[to_rgb(colours.get(name, "#ffffff")) for name in classes] for _, classes, _ in rows] or \
            [[to_rgb("#ffffff")] * len(envs)]
    ax.imshow(image, aspect="auto", interpolation="nearest")
    for y, (_, _, marks) in enumerate(rows):
        for key, kind in marks.items():
            x = envs.index(key) - 0.5
            ax.plot([x, x], [y - 0.5, y + 0.5], color=TRANSITION_COLOURS[kind], linewidth=3.5, solid_capstyle="butt")
    ax.set_yticks(range(len(rows)), [label for label, _, _ in rows], fontsize=6)
    ax.set_xticks(range(len(envs)), [f"{k}\nTF {matrix.environments[k].get('tensorflow')}\n"
                                     f"Keras {matrix.environments[k].get('keras')}" for k in envs], fontsize=7)
    ax.set_xlim(-0.5, len(envs) - 0.5)
    present = sorted({name for _, classes, _ in rows for name in classes}, key=list(colours).index)
    ax.legend(handles=[Patch(color=colours[n], label=n) for n in present], fontsize=7, ncol=min(6, len(present) or 1),
              loc="upper center", bbox_to_anchor=(0.5, -0.6 / max(1, height) ** 0.5 - 0.02), frameon=False)
    # top: per upgrade step (between two adjacent columns), its changes stacked by impact
    steps = list(range(1, len(envs)))
    bottom = [0] * len(steps)
    for kind in KINDS:
        values = [sum(1 for _, _, marks in rows if marks.get(envs[i]) == kind) for i in steps]
        top.bar([i - 0.5 for i in steps], values, bottom=bottom, width=0.5, color=TRANSITION_COLOURS[kind],
                label=TITLES[kind])
        bottom = [b + v for b, v in zip(bottom, values, strict=False)]
    top.set_xlim(-0.5, len(envs) - 0.5)
    top.set_xticks([])
    top.set_ylabel("changes", fontsize=8)
    top.legend(fontsize=7, ncol=len(KINDS), loc="upper left", frameon=False)
    top.set_ylim(0, max(bottom + [1]) * 1.35)
    top.set_title(f"What each upgrade step changes ({device.upper()}): {len(rows)} case variants whose outcome "
                  "changes (thick edge: changed from the column before)", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
