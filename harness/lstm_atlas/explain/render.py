"""How an :class:`~lstm_atlas.explain.score.Answer` reads: the text a user sees, and ``--json``.

Kept apart from scoring so wording can change without touching the ranking, and so the
"verified on" / "observed on" lines read the matrix as runs of versions, not one per env.
"""

from __future__ import annotations

from collections import defaultdict

from lstm_atlas import versions
from lstm_atlas.explain.index import Index
from lstm_atlas.explain.score import Answer


def _env_runs(index: Index | None, envs: list[str]) -> str:
    """'TF 2.12.1-2.15.1 (Keras 2.12.0-2.15.0), TF 2.21.0 + tf_keras 2.21.0': consecutive matrix envs as runs."""
    if index is None:
        return ", ".join(envs)
    order = sorted(index.envs, key=lambda e: (index.envs[e].get("legacy_keras", False),
                                              versions.release(index.envs[e].get("tensorflow"))))
    wanted = set(envs)
    runs: list[list[str]] = []
    for env in order:
        if env in wanted and runs and runs[-1][-1] == order[order.index(env) - 1] and \
                not index.envs[env].get("legacy_keras"):
            runs[-1].append(env)
        elif env in wanted:
            runs.append([env])
    parts = []
    for run in runs:
        first, last = index.envs[run[0]], index.envs[run[-1]]
        if first.get("legacy_keras"):
            parts.append(f"TF {first['tensorflow']} + tf_keras {first['keras']}")
            continue
        tf = first["tensorflow"] if len(run) == 1 else f"{first['tensorflow']}-{last['tensorflow']}"
        keras = first["keras"] if len(run) == 1 else f"{first['keras']}-{last['keras']}"
        parts.append(f"TF {tf} (Keras {keras})")
    return ", ".join(parts)


def versions_text(entries: list[dict], index: Index | None = None) -> str:
    """Matrix entries per device as version runs, then reported-only ones with their source."""
    by_device: dict = defaultdict(list)
    extra = []
    for e in entries:
        if e.get("env"):
            by_device[e["device"]].append(e["env"])
        else:
            bits = [e.get("versions") or "version unknown"] + ([e["device"]] if e.get("device") else [])
            extra.append(f"{', '.join(bits)} (reported, not run here: {e.get('source')})")
    parts = [f"{dev}: {_env_runs(index, sorted(set(envs)))}" for dev, envs in sorted(by_device.items())]
    return "; ".join(parts + extra) or "not observed in the matrix"


def render_text(answer: Answer, show: int = 3, index: Index | None = None) -> str:
    lines = []
    if not answer.known:
        lines.append("No known case matches this message (the best score is below the 'likely' band).")
        if answer.query_template:
            lines.append(f"  normalised: {answer.query_template[:200]}")
        if answer.nearest_families:
            lines.append("  nearest families: " + ", ".join(f"{f} ({s:.2f})" for f, s in answer.nearest_families))
        if answer.matches:
            lines.append(f"  closest case, a guess only: {answer.matches[0].id} ({answer.matches[0].score:.2f})")
        return "\n".join(lines) + "\n"
    shown = [m for m in answer.matches if m.band != "guess"][:show]
    if answer.generic:
        lines.append("Note: this is Python's own wording, which any code can raise; at most 'likely' without "
                     "Keras/TensorFlow frames. Paste the whole traceback to be sure.")
        lines.append("")
    for rank, m in enumerate(shown, 1):
        lines.append(f"{rank}. [{m.band} {m.score:.2f}] {m.id}  ({m.family})")
        lines.append(f"   {m.title}")
        if m.same_message_as:
            lines.append(f"   the same message also comes from: {', '.join(m.same_message_as)}")
        lines.append(f"   Cause: {m.cause}")
        lines.append(f"   Fix:   {m.fix}")
        if rank == 1:
            lines.append("   Fix as code (the variant the matrix ran):")
            lines += [f"     {line}" if line else "" for line in m.fix_snippet.rstrip().splitlines()]
        verified = versions_text(m.fix_verified_on, index) if m.fix_verified_on else "not run clean yet"
        if answer.narrowed and m.fix_verified_on and not any(e["asked_version"] for e in m.fix_verified_on):
            verified = f"not run on the version/device you gave; ran clean on {verified}"
        lines.append(f"   Fix verified on: {verified}")
        lines.append(f"   This message seen on: {versions_text(m.observed_on, index)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_json(answer: Answer) -> list[dict]:
    """The ``--json`` form: the matches (bands match and likely; no guesses, so a tool reading the first
    entry never takes a guess for an answer), each with id, family, score, band, cause, fix, observed_on."""
    return [m.to_json() for m in answer.matches if m.band != "guess"]
