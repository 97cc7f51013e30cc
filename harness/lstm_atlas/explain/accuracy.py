"""How right explain is on the wild corpus: leave-one-report-out on tune, plain on frozen.

Kept in the package (not the benchmark script) so a test can check the arithmetic on a tiny
corpus. Rules, printed with the figures by ``benchmarks/explain_wild.py``:

- family top-k: the report's family is among the families of the first k answers; when the
  answer is "no known case", among its first k nearest families, but only for a report no case
  explains (``case: none`` with a family: proposed, or not reproducible on the matrix); for a report
  with a case, "no known case" is a miss.
- case top-k: the report's case is among the first k answers (an answer's variants count); a report
  no case explains (proposed, not reproducible) is a miss until its case exists.
- rejection: an unrelated report (``family: none``) must get "no known case".
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from lstm_atlas.explain.index import Index
from lstm_atlas.explain.score import Answer, explain


@dataclass
class Outcome:
    """One report's answer, reduced to what the figures count."""

    report_id: str
    case: str
    family: str
    era: str
    proposed: bool
    family_only: bool
    unrelated: bool
    known: bool
    top_score: float
    top_families: list[str]  # the first answer's family and its variants', whatever its band
    answer_cases: list[list[str]]  # per answer, its case and variants
    answer_families: list[list[str]]  # per answer, its family and its variants' families
    nearest_families: list[str]

    def family_at(self, k: int) -> bool:
        if self.known and any(self.family in fams for fams in self.answer_families[:k]):
            return True
        return not self.known and self.family_only and self.family in self.nearest_families[:k]

    def case_at(self, k: int) -> bool:
        return self.known and any(self.case in ids for ids in self.answer_cases[:k])


def query_text(report) -> str:
    """What a user would paste: the traceback when the report has one (ending in the message), else the message."""
    if not report.traceback:
        return report.message
    if report.message.strip()[:200] in report.traceback:
        return report.traceback
    return report.traceback.rstrip() + "\n" + report.message


def outcome(report, answer: Answer) -> Outcome:
    shown = [m for m in answer.matches if m.band != "guess"] if answer.known else []
    return Outcome(report_id=report.id, case=report.case, family=report.family, era=report.era,
                   proposed=report.proposed, family_only=report.family_only, unrelated=report.unrelated,
                   known=answer.known, top_score=answer.matches[0].score if answer.matches else 0.0,
                   top_families=[answer.matches[0].family] + list(answer.matches[0].variant_families)
                   if answer.matches else [],
                   answer_cases=[[m.id] + list(m.variants) for m in shown],
                   answer_families=[[m.family] + list(m.variant_families) for m in shown],
                   nearest_families=[f for f, _ in answer.nearest_families])


def without_report(data: dict, report_id: str, case: str | None = None, url: str | None = None) -> dict:
    """The index data with nothing derived from one report: its document, its family document, a case's
    known message quoted from the same post (``url``), and its count in its case's "seen in N public
    reports" (``case``: the report's case)."""
    cases = data["cases"]
    if case in cases and cases[case].get("public_reports"):
        cases = dict(cases, **{case: dict(cases[case], public_reports=cases[case]["public_reports"] - 1)})
    post = url.rstrip("/") if url else None

    def derived(m: dict) -> bool:
        return m.get("report") == report_id or bool(post and m["origin"] == "known"
                                                    and str(m.get("source", "")).rstrip("/") == post)

    return dict(data, cases=cases, messages=[m for m in data["messages"] if not derived(m)],
                family_messages=[m for m in data.get("family_messages", []) if m.get("report") != report_id])


def leave_one_out(data: dict, reports, **options) -> list[Outcome]:
    """Each report scored by an index rebuilt without that report's own documents (IDF included)."""
    return [outcome(r, explain(query_text(r), Index(without_report(data, r.id, r.case, r.url)), **options))
            for r in reports]


def plain(data: dict, reports, **options) -> list[Outcome]:
    """Each report scored by the whole index (frozen reports, which are never in it; or the tuned-on figure)."""
    index = Index(data)
    return [outcome(r, explain(query_text(r), index, **options)) for r in reports]


def _rates(rows: list[Outcome]) -> dict:
    with_family = [o for o in rows if o.family != "none"]
    with_case = [o for o in rows if not o.unrelated]  # proposed ones count, as misses
    unrelated = [o for o in rows if o.unrelated]
    cased = [o for o in rows if o.case != "none"]
    return {
        "cased_n": len(cased),
        "cased_top1": sum(o.case_at(1) for o in cased),
        "cased_top3": sum(o.case_at(3) for o in cased),
        "reports": len(rows),
        "family_n": len(with_family),
        "family_top1": sum(o.family_at(1) for o in with_family),
        "family_top3": sum(o.family_at(3) for o in with_family),
        "case_n": len(with_case),
        "case_top1": sum(o.case_at(1) for o in with_case),
        "case_top3": sum(o.case_at(3) for o in with_case),
        "proposed": sum(o.proposed for o in rows),
        "without_case": sum(o.family_only for o in rows),
        "unrelated_n": len(unrelated),
        "unrelated_rejected": sum(not o.known for o in unrelated),
    }


def summarise(rows: list[Outcome]) -> dict:
    """Counts overall, per era and per family (the report's family; unrelated ones under 'none')."""
    by_era, by_family = defaultdict(list), defaultdict(list)
    for o in rows:
        by_era[o.era].append(o)
        by_family[o.family].append(o)
    return {"all": _rates(rows), "era": {k: _rates(v) for k, v in sorted(by_era.items())},
            "family": {k: _rates(v) for k, v in sorted(by_family.items())}}


def calibrate(rows: list[Outcome], grid=None) -> list[dict]:
    """Per candidate threshold: how many reports with a case would be answered (top score >= it), how many
    of those answers have the right family first, and how many unrelated reports would be rejected.
    MATCH_AT and LIKELY_AT are read off this table on the tune split, held out report by report."""
    grid = grid or [round(0.40 + 0.01 * i, 2) for i in range(46)]
    with_case = [o for o in rows if o.case != "none"]
    unrelated = [o for o in rows if o.unrelated]
    out = []
    for t in grid:
        answered = [o for o in with_case if o.top_score >= t]
        out.append({"threshold": t, "with_case": len(with_case), "answered": len(answered),
                    "right_family_first": sum(o.family in o.top_families for o in answered),
                    "unrelated": len(unrelated), "rejected": sum(o.top_score < t for o in unrelated)})
    return out


def pct(hit: int, n: int) -> str:
    return f"{hit}/{n} {100 * hit / n:3.0f}%" if n else "-"


def table(summary: dict, title: str) -> str:
    """A compact text table of :func:`summarise`'s counts."""
    head = f"{'':18} {'n':>4}  {'family top-1':>13} {'family top-3':>13}  {'case top-1':>13} {'case top-3':>13}" \
           f"  {'unrelated rejected':>18}"
    lines = [title, head]

    def row(name, r):
        lines.append(f"{name[:18]:18} {r['reports']:>4}  {pct(r['family_top1'], r['family_n']):>13} "
                     f"{pct(r['family_top3'], r['family_n']):>13}  {pct(r['case_top1'], r['case_n']):>13} "
                     f"{pct(r['case_top3'], r['case_n']):>13}  {pct(r['unrelated_rejected'], r['unrelated_n']):>18}")

    row("all", summary["all"])
    a = summary["all"]
    lines.append(f"{'':18} (of the {a['cased_n']} reports whose case exists: case top-1 "
                 f"{pct(a['cased_top1'], a['cased_n'])}, top-3 {pct(a['cased_top3'], a['cased_n'])})")
    for era, r in summary["era"].items():
        row(f"era {era}", r)
    for fam, r in summary["family"].items():
        row(f"  {fam}", r)
    return "\n".join(lines)


#: The recorded figures README states (written by ``benchmarks/explain_wild.py --record``).
RECORD_SCHEMA = "lstm-atlas-explain-accuracy"
#: The sources whose change may move the figures: the scoring, the index and the corpus reader, the normaliser.
_SOURCES = ("explain/accuracy.py", "wild.py", "explain/families.py", "explain/index.py",
            "explain/score.py", "explain/wording.py", "normalise.py", "patterns.py")


def inputs_digest(cases_dir, merged_path, wild_dir) -> str:
    """SHA-256 of what the tune figures are derived from: the cases, the merged matrix, ``wild/tune`` (never
    ``wild/frozen``) and the scoring sources. A recorded figure whose digest differs is stale."""
    package = Path(__file__).resolve().parent.parent
    files = sorted(Path(cases_dir).rglob("*.yaml")) + [Path(merged_path)] + \
        sorted(Path(wild_dir, "tune").rglob("*.yaml")) + [package / s for s in _SOURCES]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + (f.read_bytes() if f.is_file() else b"") + b"\0")
    return h.hexdigest()


def headline(summary: dict) -> dict:
    """The counts README states of a summary: family top-3 and unrelated rejected, each [hit, n]."""
    a = summary["all"]
    return {"family_top3": [a["family_top3"], a["family_n"]], "family_top1": [a["family_top1"], a["family_n"]],
            "cased_top1": [a["cased_top1"], a["cased_n"]],
            "unrelated_rejected": [a["unrelated_rejected"], a["unrelated_n"]]}
