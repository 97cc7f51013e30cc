"""The fuzz map's oracle: is an outcome explained by the library, and is it a suspected bug?

Explained means one of: a case's expectation on this environment (``raises`` class and
``match`` regex, after its version overrides) fits the exception; a message the case runs
observed (``reports/merged.json``) has the same :func:`~lstm_atlas.normalise.signature`;
a triage record (``reports/fuzz/triage.yaml``) assigns the signature to a case (disposition
``case`` or ``duplicate``); or an entry of the allow file matches the signature (with the reason it
is allowed). A case
counts only for an example of its kind (:mod:`lstm_atlas.fuzz.kinds`: the same run step, and
every trait of the case, such as stateful, Masking or a list input, present in the example).
Python's own internal errors, crashes and hangs are suspected library bugs whatever
explains them: users should never see them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lstm_atlas.engine.match import effective_expectation
from lstm_atlas.errors import InputError
from lstm_atlas.fuzz.kinds import case_stage, case_traits, example_traits, fits, same_step
from lstm_atlas.matrix.merge import read_merged
from lstm_atlas.normalise import signature
from lstm_atlas.patterns import search as pattern_search

#: Exceptions that mean the library's own code went wrong, not that the input was refused.
INTERNAL_ERRORS = frozenset({"UnboundLocalError", "AttributeError", "KeyError", "IndexError", "NameError",
                             "RecursionError"})
ALLOW_FILE = Path(__file__).with_name("allow.yaml")
TRIAGE_FILE = "triage.yaml"
#: The published triage record, read by a replay run from the repository root.
PUBLISHED_TRIAGE = Path("reports") / "fuzz" / TRIAGE_FILE
#: Triage dispositions that name the case explaining the signature.
CASE_DISPOSITIONS = ("case", "duplicate")


def outcome_class(outcome: dict) -> str:
    """ok, nonfinite, crash, timeout, or the exception class."""
    if outcome["status"] == "raised":
        return outcome["exception"]["type"]
    return outcome["status"]


def outcome_signature(outcome: dict) -> str:
    if outcome["status"] == "raised":
        exc = outcome["exception"]
        return signature(exc["type"], exc["message"])
    if outcome["status"] in ("crash", "nonfinite"):  # the detail names the signal or where, which is stable
        return f"{outcome['status']}: {outcome.get('detail') or ''}".strip()
    return outcome["status"]  # ok, timeout (its detail holds timings, which are not)


def is_failing(outcome: dict) -> bool:
    """Raised, crashed or hung: what the map's ``failing_examples`` counts (a NaN is counted apart)."""
    return outcome["status"] in ("raised", "crash", "timeout")


def is_suspected_bug(outcome: dict) -> bool:
    """Python internal errors, crashes and hangs: what users should never see, explained or not."""
    if outcome["status"] in ("crash", "timeout"):
        return True
    return outcome["status"] == "raised" and outcome["exception"]["type"] in INTERNAL_ERRORS


def load_allow(path: str | Path | None = ALLOW_FILE) -> list[dict]:
    """Allow entries: ``{pattern: <regex on the signature>, reason: <why it needs no case>}``."""
    if path is None or not Path(path).exists():
        return []
    entries = yaml.safe_load(Path(path).read_text("utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of {{pattern, reason}} entries")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("pattern") or not entry.get("reason"):
            raise ValueError(f"{path}: entry {i} needs a 'pattern' and a 'reason'")
        try:
            out.append({"pattern": re.compile(entry["pattern"]), "reason": str(entry["reason"])})
        except re.error as exc:
            raise ValueError(f"{path}: entry {i}: pattern does not compile: {exc}") from None
    return out


_LOOSE_PARTS_RE = re.compile(r"<[^<>]*>|\[Op:\w+\]|\{\{[^{}]*\}\}")
_NON_LETTERS_RE = re.compile(r"[^A-Za-z]+")


def triage_key(sig: str) -> str:
    """A signature's words alone: the placeholders, op names and punctuation a normaliser change may
    spell differently (``int<shape> argument`` then, ``int() argument`` now) are left out, so a triage
    row written with an older normaliser still finds its signature."""
    return " ".join(_NON_LETTERS_RE.sub(" ", _LOOSE_PARTS_RE.sub(" ", sig)).split())


def read_triage(path: str | Path | None = PUBLISHED_TRIAGE) -> tuple[dict[str, set[str]], frozenset[str]]:
    """The triage record, read once: :func:`triage_key` of a signature -> case ids, from the rows whose
    disposition names a case; and the key of every triaged signature, whatever its disposition (a person has
    judged it, so it is no longer a candidate; its examples still count as unexplained where no case of their
    kind explains them)."""
    if path is None or not Path(path).exists():
        return {}, frozenset()
    rows = yaml.safe_load(Path(path).read_text("utf-8")) or []
    if not isinstance(rows, list):
        raise InputError(f"{path}: expected a list of triage rows")
    cases: dict[str, set[str]] = {}
    judged: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("signature"), str):
            raise InputError(f"{path}: [{i}]: signature: expected a string")
        key = triage_key(row["signature"])
        judged.add(key)
        if row.get("disposition") in CASE_DISPOSITIONS:
            if not isinstance(row.get("case"), str) or not row["case"]:
                raise InputError(f"{path}: [{i}]: case: a {row['disposition']} row names its case")
            cases.setdefault(key, set()).add(row["case"])
    return cases, frozenset(judged)


def load_triage(path: str | Path | None = PUBLISHED_TRIAGE) -> dict[str, set[str]]:
    """:func:`triage_key` of a signature -> case ids, from the triage rows whose disposition names a case."""
    return read_triage(path)[0]


def merged_signatures(path: str | Path | None) -> dict[str, set[str]]:
    """signature -> case ids, from every message the committed case runs observed."""
    out: dict[str, set[str]] = {}
    merged = read_merged(path, missing_ok=True) if path is not None else None
    if merged is None:
        return out
    for case_id, variants in (merged.get("results") or {}).items():
        for devices in variants.values():
            for envs in devices.values():
                for cell in envs.values():
                    if cell.get("status") == "raised" and cell.get("exception_type"):
                        sig = signature(cell["exception_type"], cell.get("message") or "")
                        out.setdefault(sig, set()).add(case_id)
    return out


@dataclass(frozen=True)
class CaseKind:
    """What attribution needs of a case: its family (the map's colour), step and traits."""

    family: str
    stage: str | None
    traits: frozenset[str]


@dataclass
class Oracle:
    """Built once per run from the library, the merged matrix and the allow file."""

    expectations: list[tuple[str, dict]] = field(default_factory=list)
    by_signature: dict[str, set[str]] = field(default_factory=dict)
    allow: list[dict] = field(default_factory=list)
    kinds: dict[str, CaseKind] = field(default_factory=dict)
    triaged: dict[str, set[str]] = field(default_factory=dict)
    judged: frozenset[str] = frozenset()  # every triaged signature's key (read_triage)

    @classmethod
    def from_library(cls, cases: list, env: dict, merged: str | Path | None = None,
                     allow: str | Path | None = ALLOW_FILE,
                     triage: str | Path | None = PUBLISHED_TRIAGE) -> "Oracle":
        """``cases``: validated :class:`~lstm_atlas.case.validate.Case` objects; ``env`` as match wants it."""
        env = dict(env, device_kind=env.get("device_kind", "cpu"))
        expectations, kinds = [], {}
        for case in cases:
            variant = case.variants["repro"]
            expect = effective_expectation(variant.get("expect", {}), env)
            kinds[case.id] = CaseKind(case.family, case_stage(variant), case_traits(variant))
            if "raises" in expect or expect.get("crash"):
                expectations.append((case.id, expect))
        triaged, judged = read_triage(triage)
        return cls(expectations, merged_signatures(merged), load_allow(allow), kinds, triaged, judged)

    def is_triaged(self, sig: str) -> bool:
        """Whether a person has triaged this signature (a row of the triage record names it)."""
        return triage_key(sig) in self.judged

    def family_of(self, case_id: str) -> str | None:
        kind = self.kinds.get(case_id)
        return kind.family if kind else None

    def _of_kind(self, case_id: str, outcome: dict, traits: frozenset[str] | None) -> bool:
        kind = self.kinds.get(case_id)
        if traits is None or kind is None:
            return True
        return same_step(kind.stage, outcome.get("stage")) and fits(kind.traits, traits)

    def explain(self, outcome: dict, example: dict | None = None) -> list[str]:
        """Why this outcome needs no new case: ``case:<id>``, ``observed:<id>``, ``triage:<id>``,
        ``allow:<reason>``.

        With ``example``, a case counts only when the example is of its kind (module docstring).
        """
        if outcome["status"] == "ok":
            return ["ok"]
        traits = example_traits(example) if example is not None else None
        reasons: list[str] = []
        sig = outcome_signature(outcome)
        if outcome["status"] == "crash":
            reasons.extend(f"case:{case_id}" for case_id, expect in self.expectations if expect.get("crash"))
        if outcome["status"] == "raised":
            exc = outcome["exception"]
            for case_id, expect in self.expectations:
                if expect.get("raises") != exc["type"]:
                    continue
                if expect.get("match") and not pattern_search(expect["match"], exc["message"]):
                    continue
                reasons.append(f"case:{case_id}")
            reasons.extend(f"observed:{c}" for c in sorted(self.by_signature.get(sig, ())))
        # a triaged signature names the case a person judged it to be (crash and timeout rows too);
        # a case that is gone from the library explains nothing
        reasons.extend(f"triage:{c}" for c in sorted(self.triaged.get(triage_key(sig), ())) if c in self.kinds)
        reasons = [r for r in reasons if self._of_kind(r.split(":", 1)[1], outcome, traits)]
        reasons.extend(f"allow:{a['reason']}" for a in self.allow if a["pattern"].search(sig))
        return sorted(set(reasons))


def explaining_cases(reasons: list[str]) -> list[str]:
    """The case ids among an outcome's reasons (``case:``, ``observed:``, ``triage:``), first the expectations."""
    ids = [r.split(":", 1)[1] for r in reasons if r.startswith("case:")]
    ids += [r.split(":", 1)[1] for r in reasons if r.startswith("observed:")]
    ids += [r.split(":", 1)[1] for r in reasons if r.startswith("triage:")]
    return list(dict.fromkeys(ids))
