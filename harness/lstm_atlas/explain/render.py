"""How an :class:`~lstm_atlas.explain.score.Answer` reads: the text a user sees, and ``--json``.

Kept apart from scoring so wording can change without touching the ranking, and so the
"verified on" / "observed on" lines read the matrix as runs of versions, not one per env.
"""

from __future__ import annotations

import textwrap
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
        elif e.get("reported"):
            continue  # public reports are counted on their own line ("seen in N public reports")
        else:
            bits = [e.get("versions") or "version unknown"] + ([e["device"]] if e.get("device") else [])
            extra.append(f"{', '.join(bits)} (reported, not run here: {e.get('source')})")
    parts = [f"{dev}: {_env_runs(index, sorted(set(envs)))}" for dev, envs in sorted(by_device.items())]
    return "; ".join(parts + extra) or "not observed in the matrix"


#: Width of the compact answer's wrapped lines, and how many lines cause and fix get there.
WIDTH = 100
PROSE_LINES = 2


def _prose(label: str, text: str) -> list[str]:
    """``text`` wrapped after ``label`` to at most PROSE_LINES lines (cut with '...', --full has it all)."""
    indent = " " * (3 + len(label))
    return textwrap.wrap(text, WIDTH, initial_indent=f"   {label}", subsequent_indent=indent,
                         max_lines=PROSE_LINES, placeholder=" ...")


def _reports_line(m) -> str | None:
    if not m.public_reports:
        return None
    shown = [o for o in m.observed_on if o.get("reported")][:2]
    where = "; e.g. " + ", ".join(o["source"] for o in shown) if shown else ""
    plural = "s" if m.public_reports != 1 else ""
    return f"   Seen in {m.public_reports} public report{plural} (reported, not run here{where})"


def _verified_text(answer: Answer, m, index) -> str:
    verified = versions_text(m.fix_verified_on, index) if m.fix_verified_on else "not run clean yet"
    if answer.narrowed and m.fix_verified_on and not any(e["asked_version"] for e in m.fix_verified_on):
        verified = f"not run on the version/device you gave; ran clean on {verified}"
    return verified


def render_compact(answer: Answer, index: Index | None = None, show: int = 3) -> str:
    """The top answer's cause, fix, verified versions and public reports in at most 15 lines; runners-up one each."""
    shown = [m for m in answer.matches if m.band != "guess"][:show]
    top = shown[0]
    lines = []
    if answer.generic:
        lines.append("Note: Python's own wording, which any code raises; paste the whole traceback to be sure.")
    lines.append(f"1. [{top.band} {top.score:.2f}] {top.id}  ({top.family})")
    lines.append(f"   {top.title}"[:WIDTH + 20])
    if top.variants:
        lines += textwrap.wrap("The same message also comes from: " + ", ".join(top.variants), WIDTH,
                               initial_indent="   ", subsequent_indent="     ", max_lines=2,
                               placeholder=" ...")
    lines += _prose("Cause: ", top.cause)
    lines += _prose("Fix:   ", top.fix)
    lines += textwrap.wrap(f"Fix verified on: {_verified_text(answer, top, index)}", WIDTH, initial_indent="   ",
                           subsequent_indent="     ", max_lines=2, placeholder=" ...")
    seen = versions_text(top.observed_on, index)
    lines += textwrap.wrap(f"This message seen on: {seen}", WIDTH, initial_indent="   ", subsequent_indent="     ",
                           max_lines=2, placeholder=" ...")
    reports = _reports_line(top)
    if reports:
        lines.append(reports[:2 * WIDTH])
    for rank, m in enumerate(shown[1:], 2):
        more = f" (+{len(m.variants)} same message)" if m.variants else ""
        lines.append(f"{rank}. [{m.band} {m.score:.2f}] {m.id}  ({m.family}){more}: {m.title}"[:WIDTH + 40])
    lines.append("(--full: the fix as code and every version and source)")
    return "\n".join(lines) + "\n"


def render_text(answer: Answer, show: int = 3, index: Index | None = None, full: bool = False) -> str:
    """The answer as the user reads it: compact by default, everything with ``full``."""
    lines = []
    if not answer.known:
        lines.append("No known case matches this message (the best score is below the 'likely' band).")
        if answer.query_template:
            lines.append(f"  normalised: {answer.query_template[:200]}")
        if answer.nearest_families:
            lines.append("  nearest families: " + ", ".join(f"{f} ({s:.2f})" for f, s in answer.nearest_families))
        if answer.uncased:
            u = answer.uncased
            why = u.get("reason", "").split(":", 1)[-1].strip()
            said = (f"a known failure mode of family {u['family']} without a case yet ({u['score']:.2f}): {why} "
                    f"(public report: {u['source']})")
            lines += textwrap.wrap(said, WIDTH, initial_indent="  ", subsequent_indent="    ", max_lines=3,
                                   placeholder=" ...")
        if answer.matches:
            lines.append(f"  closest case, a guess only: {answer.matches[0].id} ({answer.matches[0].score:.2f})")
        return "\n".join(lines) + "\n"
    if not full:
        return render_compact(answer, index, show)
    shown = [m for m in answer.matches if m.band != "guess"][:show]
    if answer.generic:
        lines.append("Note: this is Python's own wording, which any code can raise; at most 'likely' without "
                     "Keras/TensorFlow frames. Paste the whole traceback to be sure.")
        lines.append("")
    for rank, m in enumerate(shown, 1):
        lines.append(f"{rank}. [{m.band} {m.score:.2f}] {m.id}  ({m.family})")
        lines.append(f"   {m.title}")
        if m.variants:
            lines.append(f"   the same message also comes from: {', '.join(m.variants)}")
        lines.append(f"   Cause: {m.cause}")
        lines.append(f"   Fix:   {m.fix}")
        if rank == 1:
            lines.append("   Fix as code (the variant the matrix ran):")
            lines += [f"     {line}" if line else "" for line in m.fix_snippet.rstrip().splitlines()]
        lines.append(f"   Fix verified on: {_verified_text(answer, m, index)}")
        lines.append(f"   This message seen on: {versions_text(m.observed_on, index)}")
        reports = [o for o in m.observed_on if o.get("reported")]
        if m.public_reports:
            lines.append(f"   Seen in {m.public_reports} public reports (reported, not run here):")
            lines += [f"     {o['source']}" + (f" ({versions_text([dict(o, reported=False)])})"
                                               if o.get("versions") else "") for o in reports]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_json(answer: Answer) -> list[dict]:
    """The ``--json`` form: the matches (bands match and likely; no guesses, so a tool reading the first
    entry never takes a guess for an answer), each with id, family, score, band, cause, fix, observed_on."""
    return [m.to_json() for m in answer.matches if m.band != "guess"]
