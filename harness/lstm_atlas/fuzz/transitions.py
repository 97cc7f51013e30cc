"""What changed between two versions, example by example: the transitions view of the fuzz index.

Two maps replayed from one corpus hold an outcome for the same example ids, so a change is exact:
"this input: ValueError on 2.15, ok on 2.16". :func:`transitions` pairs two maps and groups the
examples whose outcome changed by (from-outcome, to-outcome), with counts and a few examples each;
an outcome is its class (``ok``, ``nonfinite``, ``crash``, ``timeout`` or the exception class), and a
change of message within one class is its own group (``ValueError`` -> ``ValueError (other message)``).
Maps of different corpora are never paired: their examples differ.
"""

from __future__ import annotations

from collections import defaultdict

from lstm_atlas.fuzz.strategies import describe

#: Examples listed per (from, to) group.
EXAMPLES_PER_GROUP = 3


def _pairs(maps: list[dict]) -> list[tuple[dict, dict, str]]:
    """Consecutive versions (plain Keras envs in matrix order), then each tf_keras env against its TF's
    plain env (Keras 2 and Keras 3 on one TensorFlow)."""
    plain = [m for m in maps if not m["environment"].get("legacy_keras")]
    pairs = [(a, b, "next version") for a, b in zip(plain, plain[1:], strict=False)]
    for legacy in (m for m in maps if m["environment"].get("legacy_keras")):
        same_tf = [m for m in plain if m["environment"].get("tensorflow") == legacy["environment"].get("tensorflow")]
        if same_tf:
            pairs.append((legacy, same_tf[0], "tf_keras (Keras 2) to Keras 3 on one TensorFlow"))
    return [(a, b, why) for a, b, why in pairs
            if a["summary"].get("corpus") and a["summary"].get("corpus") == b["summary"].get("corpus")]


def _keras_major(data: dict) -> str:
    return str(data["environment"].get("keras", "0")).split(".")[0]


def transitions(old: dict, new: dict, examples: dict | None = None) -> dict:
    """The examples of two maps (one corpus) whose outcome changed, grouped by (from, to)."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    a_out, b_out = old.get("outcomes") or {}, new.get("outcomes") or {}
    common = sorted(set(a_out) & set(b_out))
    for key in common:
        a, b = a_out[key], b_out[key]
        if a["signature"] == b["signature"]:
            continue
        to = b["class"] if b["class"] != a["class"] else f"{b['class']} (other message)"
        groups[(a["class"], to)].append(key)
    rows = []
    for (frm, to), keys in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        listed = []
        for key in keys[:EXAMPLES_PER_GROUP]:
            example = (examples or {}).get(key)
            listed.append({"id": key, "example": describe(example) if example else None,
                           "from": a_out[key]["signature"][:300], "to": b_out[key]["signature"][:300]})
        rows.append({"from": frm, "to": to, "count": len(keys), "examples": listed})
    return {"old": old["env"], "new": new["env"],
            "old_label": f"TF {old['environment'].get('tensorflow')}, Keras {old['environment'].get('keras')}",
            "new_label": f"TF {new['environment'].get('tensorflow')}, Keras {new['environment'].get('keras')}",
            "keras_change": _keras_major(old) != _keras_major(new), "paired": len(common),
            "changed": sum(r["count"] for r in rows), "groups": rows}


def index_transitions(maps: list[dict], examples: dict | None = None) -> list[dict]:
    """The transitions of every pair of maps the index shows (see :func:`_pairs`), each with why it is paired."""
    return [dict(transitions(a, b, examples), why=why) for a, b, why in _pairs(maps)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def transitions_markdown(views: list[dict]) -> list[str]:
    lines = ["## Transitions: the same inputs on two versions", ""]
    if not views:
        return lines + ["No two maps replay the same corpus yet: run `lstm-atlas fuzz replay --publish` on "
                        "each environment (`tox -e fuzz-replay-<env>`).", ""]
    lines += ["| from | to | why paired | examples paired | changed |", "|---|---|---|---|---|"]
    lines += [f"| {v['old']} ({v['old_label']}) | {v['new']} ({v['new_label']}) | {v['why']}"
              f"{' (Keras major changes)' if v['keras_change'] else ''} | {v['paired']} | {v['changed']} |"
              for v in views]
    for v in views:
        if not v["groups"]:
            continue
        lines += ["", f"### {v['old']} -> {v['new']}{' (Keras 2 -> Keras 3)' if v['keras_change'] else ''}", "",
                  f"{v['changed']} of {v['paired']} examples changed their outcome.", "",
                  f"| on {v['old']} | on {v['new']} | examples | for instance |", "|---|---|---|---|"]
        for g in v["groups"]:
            first = g["examples"][0]
            instance = (f"{first['example'] or first['id']}: `{_cell(first['from'][:120])}` -> "
                        f"`{_cell(first['to'][:120])}`")
            lines.append(f"| {g['from']} | {g['to']} | {g['count']} | {_cell(instance)} |")
    return lines + [""]
