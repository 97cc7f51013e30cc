"""What breaks when moving from one environment to another: each changed cell classified by impact.

Pure logic over a merged :class:`~lstm_atlas.matrix.merge.Matrix`. ``diff`` lists every raw
change; this module answers the upgrade question, the most harmful first: code that ran clean
and now raises (``breaks``), an exception of another class (an ``except ValueError`` stops
catching), code that now runs (``now_works``), the same class with a message that means
something else or at another step (``message``), and wording only (``cosmetic``). The CLI
(`lstm-atlas upgrade`) and the HTML report both render this one classification.
"""

from __future__ import annotations

import functools

from lstm_atlas.matrix.diff import same_message
from lstm_atlas.matrix.merge import MESSAGE_CELL_CHARS, Matrix, pick_env
from lstm_atlas.normalise import message_template
from lstm_atlas.versions import env_label

#: Impact groups, most harmful first; every output lists them all, in this order.
KINDS = ("breaks", "exception_type", "now_works", "message", "cosmetic")
TITLES = {"breaks": "Breaks", "exception_type": "Exception type changes", "now_works": "Now works",
          "message": "Message changes", "cosmetic": "Cosmetic wording changes"}
BLURBS = {"breaks": "ran clean on {old}, raises on {new}",
          "exception_type": "raises on both, another class on {new} (an `except` for the old class stops catching)",
          "now_works": "raised on {old}, runs clean on {new}",
          "message": "same class, a message that means something else or another step",
          "cosmetic": "same class and meaning, different wording"}
COUNTED = {"breaks": "breaks", "exception_type": "exception type changes", "now_works": "now work",
           "message": "message changes", "cosmetic": "cosmetic"}
#: Statuses that are TensorFlow's behaviour; ``error`` is a harness fault and is not compared.
BEHAVIOURS = ("ok", "raised", "crash", "timeout")


def outcome(cell: dict | None) -> str:
    """``ValueError@fit``, ``ok@save``, ``crash``, ``timeout``; ``skip`` or ``—`` when nothing ran."""
    if cell is None:
        return "—"
    if cell.get("verdict") == "skip":
        return "skip"
    status = cell.get("status") or cell.get("verdict") or "?"
    name = cell.get("exception_type") if status == "raised" else status
    return f"{name}@{cell['stage']}" if cell.get("stage") else str(name)


def outcome_class(cell: dict | None) -> str:
    """What an ``except`` would see: the exception class, or ok, crash, timeout, error, skip, none."""
    if cell is None:
        return "none"
    if cell.get("verdict") == "skip":
        return "skip"
    status = cell.get("status") or cell.get("verdict") or "error"
    return (cell.get("exception_type") or "Exception") if status == "raised" else status


@functools.lru_cache(maxsize=4096)
def _template(message: str | None) -> str:
    # the report classifies every ordered pair of environments: each message is normalised once
    return message_template(message or "")


def same_meaning(old: str | None, new: str | None) -> bool:
    """Equal normalised templates; a message cut at MESSAGE_CELL_CHARS is compared as far as both go."""
    a, b = _template(old), _template(new)
    if max(len(old or ""), len(new or "")) >= MESSAGE_CELL_CHARS:
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
    return a == b


def classify(old: dict | None, new: dict | None) -> str | None:
    """The impact group of one cell from ``old`` to ``new``; None when unchanged or not comparable."""
    if old is None or new is None or old.get("status") not in BEHAVIOURS or new.get("status") not in BEHAVIOURS:
        return None
    if "skip" in (old.get("verdict"), new.get("verdict")):
        return None
    old_ok, new_ok = old["status"] == "ok", new["status"] == "ok"
    if old_ok and not new_ok:
        return "breaks"
    if new_ok and not old_ok:
        return "now_works"
    if outcome_class(old) != outcome_class(new):
        return "exception_type"
    if old.get("stage") != new.get("stage"):
        return "message"  # a stage move changes what the error means to the code around it
    if old_ok:
        return None
    if not same_meaning(old.get("message"), new.get("message")):
        return "message"
    if not same_message(old.get("message"), new.get("message")):
        return "cosmetic"
    return None


def _side(cell: dict) -> dict:
    return {"outcome": outcome(cell), "status": cell.get("status"), "exception": cell.get("exception"),
            "stage": cell.get("stage"), "message": cell.get("message") or "", "verdict": cell.get("verdict")}


def fix_on(matrix: Matrix, case_id: str, device: str, env: str) -> dict:
    """The fix variant on ``env``: its outcome, whether it ran clean with its expectation held, the explanation."""
    cell = matrix.cells.get((case_id, "fix", device), {}).get(env)
    ran = cell is not None and cell.get("verdict") != "skip"
    return {"outcome": outcome(cell), "verdict": cell.get("verdict") if ran else None,
            "works": bool(ran and cell.get("verdict") == "pass" and cell.get("status") == "ok"),
            "explanation": matrix.cases.get(case_id, {}).get("fix_explanation") or ""}


def _summary(counts: dict, compared: int, not_compared: int) -> dict:
    changed = sum(counts.values())
    return dict(counts, compared=compared, unchanged=compared - changed, not_compared=not_compared)


def upgrade(matrix: Matrix, old_selector: str, new_selector: str, device: str = "cpu") -> dict:
    """``{"from", "to", "summary", "groups": [{"kind", "changes": [...]}, ...]}``, groups in KINDS order.

    ``KeyError`` (from ``pick_env``) when an environment is not in the matrix.
    """
    old_key, new_key = pick_env(matrix, old_selector), pick_env(matrix, new_selector)
    groups: dict[str, list] = {kind: [] for kind in KINDS}
    compared = not_compared = 0
    for (case_id, variant, kind), by_env in sorted(matrix.cells.items()):
        if kind != device:
            continue
        old, new = by_env.get(old_key), by_env.get(new_key)
        if old is None and new is None:
            continue
        if old is None or new is None or "skip" in (old.get("verdict"), new.get("verdict")):
            not_compared += old is None or new is None  # a skip on both sides (no GPU) is no gap
            continue
        if old.get("status") not in BEHAVIOURS or new.get("status") not in BEHAVIOURS:
            not_compared += 1
            continue
        compared += 1
        impact = classify(old, new)
        if impact is None:
            continue
        case = matrix.cases.get(case_id, {})
        groups[impact].append({"case": case_id, "variant": variant, "title": case.get("title", ""),
                               "family": case.get("family", "?"), "from": _side(old), "to": _side(new),
                               "fix_on_to": fix_on(matrix, case_id, device, new_key)})
    counts = {kind: len(changes) for kind, changes in groups.items()}
    return {"from": {"env": old_key, "label": env_label(matrix.environments[old_key])},
            "to": {"env": new_key, "label": env_label(matrix.environments[new_key])},
            "device": device, "summary": _summary(counts, compared, not_compared),
            "groups": [{"kind": kind, "changes": groups[kind]} for kind in KINDS]}


def summary_line(result: dict) -> str:
    """One line of counts: ``TF 2.15.1 / Keras 2.15.0 -> TF 2.16.2 / Keras 3.3.3 (cpu): 7 breaks, ...``."""
    s = result["summary"]
    counts = ", ".join(f"{s[kind]} {COUNTED[kind]}" for kind in KINDS)
    return (f"{result['from']['label']} ({result['from']['env']}) -> {result['to']['label']} ({result['to']['env']}), "
            f"{result['device']}: {counts}; {s['compared']} case variants compared, {s['unchanged']} unchanged"
            + (f", {s['not_compared']} not run on both" if s["not_compared"] else ""))


def first_keras3_pair(matrix: Matrix) -> tuple[str, str] | None:
    """Either side of the Keras 3 switch: the last Keras 2 environment and the first Keras 3 one."""
    envs = [(k, e) for k, e in matrix.environments.items() if not e.get("legacy_keras")]
    for (old_key, old), (new_key, new) in zip(envs, envs[1:], strict=False):
        if str(old.get("keras", "")).startswith("2") and str(new.get("keras", "")).startswith("3"):
            return old_key, new_key
    keys = [k for k, _ in envs] or list(matrix.environments)
    return (keys[0], keys[-1]) if len(keys) > 1 else None
