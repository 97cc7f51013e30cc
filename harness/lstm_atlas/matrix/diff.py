"""What changes in each case's behaviour when upgrading from one environment to another."""

from __future__ import annotations

import re

from lstm_atlas.matrix.merge import MESSAGE_CELL_CHARS, Matrix, pick_env

_VOLATILE = [(re.compile(r"0x[0-9a-f]+"), "0x…"), (re.compile(r"\b(lstm|dense|sequential|lstm_cell|bidirectional|"
                                                             r"time_distributed|masking|input_layer)_\d+\b"), r"\1_N"),
             # the per-item working directory engine/execute.py creates (tempfile, prefix "atlas-")
             (re.compile(r"[\\/][^\s'\"`]*?atlas-[a-z0-9_]+(?=[\\/])"), "<workdir>"),
             # TensorFlow numbers each traced function (__inference_function_2074) per process
             (re.compile(r"(__inference_\w+?_)\d+\b"), r"\1N"),
             (re.compile(r"\s+"), " ")]


def strip_volatile(message: str | None) -> str:
    """Drop what changes between two runs of the same outcome (addresses, auto-numbered layer
    and traced-function names, the per-item temporary directory, spacing).

    Not the message normaliser (``normalise.message_template``): an upgrade diff must still
    see a changed shape or number, which the normaliser abstracts away.
    """
    text = message or ""
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text.strip()


def same_message(old: str | None, new: str | None) -> bool:
    """Equal once normalised; a message cut at MESSAGE_CELL_CHARS is compared as far as both go."""
    a, b = strip_volatile(old), strip_volatile(new)
    if max(len(old or ""), len(new or "")) >= MESSAGE_CELL_CHARS:
        a, b = a[:min(len(a), len(b))], b[:min(len(a), len(b))]
    return a == b


def _outcome(cell: dict) -> str:
    if cell.get("status") == "raised":
        return f"{cell['exception_type']} at {cell['stage']}"
    return cell.get("status") or cell["verdict"]


def cell_changes(old: dict, new: dict, variant: str) -> list[str]:
    out = []
    old_raised, new_raised = old.get("status") == "raised", new.get("status") == "raised"
    if old_raised and not new_raised and new.get("status") == "ok":
        out.append(f"stopped raising (was {old['exception_type']} at {old['stage']})")
    elif new_raised and not old_raised and old.get("status") == "ok":
        out.append(f"started raising {new['exception_type']} at {new['stage']}")
    elif old_raised and new_raised:
        if old["exception_type"] != new["exception_type"]:
            out.append(f"exception class changed: {old['exception']} -> {new['exception']}")
        if old["stage"] != new["stage"]:
            out.append(f"stage moved: {old['stage']} -> {new['stage']}")
        if not same_message(old["message"], new["message"]):
            out.append("message changed")
    elif old.get("status") != new.get("status") and "skip" not in (old["verdict"], new["verdict"]):
        # a crash or a hang on either side (ConverterError -> crash is a change too)
        out.append(f"outcome changed: {_outcome(old)} -> {_outcome(new)}")
    if variant == "fix" and old["verdict"] == "pass" and new["verdict"] != "pass":
        out.append(f"fix stopped working ({new['verdict']})")
    if variant == "fix" and old["verdict"] != "pass" and new["verdict"] == "pass":
        out.append("fix started working")
    # a cell without a claim verdict (a crash, no claim on that version) is not a change of verdict
    if None not in (old.get("claim_verdict"), new.get("claim_verdict")) and \
            old.get("claim_verdict") != new.get("claim_verdict"):
        out.append(f"claim verdict changed: {old.get('claim_verdict')} -> {new.get('claim_verdict')}")
    if old["verdict"] == "pass" and new["verdict"] != "pass" and variant == "repro":
        out.append(f"expectation no longer holds ({new['verdict']}): {'; '.join(new['mismatches'])[:300]}")
    return out


def upgrade_diff(matrix: Matrix, old_selector: str, new_selector: str, device: str = "cpu") -> dict:
    """{(case_id, variant): {"changes": [...], "old": cell, "new": cell}} for every cell that changed."""
    old_key, new_key = pick_env(matrix, old_selector), pick_env(matrix, new_selector)
    out = {}
    for (case_id, variant, kind), by_env in sorted(matrix.cells.items()):
        if kind != device or old_key not in by_env or new_key not in by_env:
            continue
        old, new = by_env[old_key], by_env[new_key]
        if "skip" in (old["verdict"], new["verdict"]):
            continue
        changes = cell_changes(old, new, variant)
        if changes:
            out[(case_id, variant)] = {"changes": changes, "old": old, "new": new}
    return {"old": old_key, "new": new_key, "changed": out}


def render_diff_text(matrix: Matrix, diff: dict) -> str:
    old_env, new_env = matrix.environments[diff["old"]], matrix.environments[diff["new"]]
    lines = [f"Upgrading {diff['old']} (TF {old_env['tensorflow']}, Keras {old_env['keras']}) -> "
             f"{diff['new']} (TF {new_env['tensorflow']}, Keras {new_env['keras']}): "
             f"{len(diff['changed'])} case variants change"]
    for (case_id, variant), entry in diff["changed"].items():
        title = matrix.cases.get(case_id, {}).get("title", "")
        lines.append("")
        lines.append(f"{case_id} [{variant}] {title}")
        for change in entry["changes"]:
            lines.append(f"  - {change}")
        old, new = entry["old"], entry["new"]
        if "message changed" in entry["changes"] and old["message"] and new["message"]:
            lines.append(f"    old: {strip_volatile(old['message'])[:240]}")
            lines.append(f"    new: {strip_volatile(new['message'])[:240]}")
    return "\n".join(lines) + "\n"
