"""The explain index: built from ``cases/``, ``reports/merged.json`` and ``wild/tune``, loaded as TF-IDF vectors.

Every message the matrix observed (each case, version and device), every known variant a
case records from public reports (``known_messages``), each wording a case's symptom lists and
every tune report of the wild corpus that names a case ("reported": as reported, not run here) are
documents, stored as their :func:`~lstm_atlas.normalise.message_template`. Tune reports that no
case explains yet only name their family (``family_messages``); frozen reports are never indexed. Building needs
the case library (YAML, jsonschema), so it runs only for ``lstm-atlas explain --build-index``;
a query only loads the committed JSON (``harness/lstm_atlas/explain/explain-index.json``),
and a test fails when that file is stale.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from functools import lru_cache
from importlib import resources
from pathlib import Path

import re2

from lstm_atlas import versions
from lstm_atlas.explain.wording import doc_generations, layer_kind, unwrapped
from lstm_atlas.normalise import message_template, split_traceback
from lstm_atlas.patterns import compile_pattern

INDEX_SCHEMA = "lstm-atlas-explain-index"
INDEX_VERSION = 1
DEFAULT_INDEX = "explain-index.json"

_WORD_RE = re.compile(r"<\w+>|[A-Za-z][A-Za-z0-9_]*")
_PLACEHOLDERS = {"<num>", "<shape>", "<name>", "<dtype>", "<path>", "<addr>", "<tensor>", "<object>",
                 "<class>", "<node>", "<loc>", "<value>", "<dataset>"}
_STOP = {"the", "a", "an", "of", "to", "is", "in", "for", "and", "or", "be", "with", "at", "by", "on", "was",
         "this", "that", "it", "as", "but", "are", "please"}


# --- building (needs the case library; not on the query path) -------------------------------

def _patterns(expect: dict) -> list[str]:
    """The case's message regexes and its warning regexes (users paste warnings too)."""
    blocks = [expect] + list(expect.get("overrides", []))
    found = [b[key] for b in blocks for key in ("match", "warns") if isinstance(b.get(key), str)]
    return list(dict.fromkeys(found))


def _case_words(spec: dict) -> list[str]:
    """Words a traceback of this case is likely to show in its frames: layer classes and steps."""
    words: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key[:1].isupper():
                    words.add(key.lower())
                if key == "class_name" and isinstance(value, str):
                    words.add(value.lower())
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec.get("model", {}))
    run = spec.get("run")
    words.update([run] if isinstance(run, str) else list(run or []))
    for key in ("initial_state", "states", "mask"):
        if key in (spec.get("call") or {}):
            words.add(key)
    return sorted(words)


#: A remark in a symptom about where it shows, "(Keras 3)", "(TF 2.15: ...)", "(GPU)": not part of the wording.
_REMARK_RE = re.compile(r"\s*\((?=[^()]*\b(?:Keras|TF|GPU|CPU|tf_keras|MatMul)\b)[^()]*\)")
_ALTERNATIVE_RE = re.compile(r";\s+(?=[A-Z]|no )")
_LABEL_RE = re.compile(r"^(?:Keras|TF) [\d.x+-]*:\s*")


def symptom_wordings(symptom: str) -> list[str]:
    """A case's symptom as the wordings a user would paste: "A (Keras 3) / B (Keras 2)" is A and B,
    without the remarks that say where each shows (those words are in no real message)."""
    text = _REMARK_RE.sub("", symptom.strip())
    halves = text.split(" / ")
    parts = halves if len(halves) > 1 and min(len(h) for h in halves) >= 24 else [text]
    parts = [_LABEL_RE.sub("", p).strip(" .") for part in parts for p in _ALTERNATIVE_RE.split(part)]
    return list(dict.fromkeys(p for p in parts if len(p) >= 8)) or ([symptom] if symptom.strip() else [])

#: The Keras generation a symptom's label or remark gives one of its wordings: "Keras 3: ...", "... (Keras 2 on GPU)".
_GENERATION_LABEL_RE = re.compile(r"^\s*(?:Keras|tf_keras) ([23])[\d.x+-]*:|\((?:[^()]*\s)?Keras ([23])\b[^()]*\)")


def symptom_generations(symptom: str) -> dict[str, str]:
    """Each wording of :func:`symptom_wordings` whose label or remark names one Keras generation -> '2' or '3'
    ("A (Keras 3) / B (Keras 2)": A is '3', B is '2'); a wording labelled with both, or none, is left out."""
    text = symptom.strip()
    halves = text.split(" / ")
    parts = halves if len(halves) > 1 and min(len(_REMARK_RE.sub("", h)) for h in halves) >= 24 else [text]
    out: dict[str, str] = {}
    for part in parts:
        for piece in _ALTERNATIVE_RE.split(part):
            named = {a or b for a, b in _GENERATION_LABEL_RE.findall(piece)}
            for wording in symptom_wordings(piece) if len(named) == 1 else []:
                out.setdefault(wording, next(iter(named)))
    wordings = set(symptom_wordings(symptom))
    return {w: g for w, g in out.items() if w in wordings}

_GPU_RE = re.compile(r"\bGPU\b|cuDNN|CUDNN|cuda", re.I)


def reported_document(report) -> dict:
    """A tune report of the wild corpus as a document of its case: its wording, as reported, not run here."""
    exc, _ = split_traceback(report.message)
    return {"case": report.case, "origin": "reported", "exception": exc, "template": message_template(report.message),
            "message": report.message[:600], "source": report.url, "report": report.id,
            "versions": report.versions_text(), "era": report.era, "backend": report.backend or "",
            "device": "gpu" if _GPU_RE.search(report.message + " " + report.note) else ""}



def public_report_counts(reports) -> dict[str, int]:
    """Case id -> how many reports of the whole corpus (tune and frozen) it explains."""
    return dict(Counter(r.case for r in reports if r.case != "none"))


def build_index(cases_dir: str | Path = "cases", merged_path: str | Path = "reports/merged.json",
                wild_dir: str | Path | None = "wild", splits=("tune", "frozen")) -> dict:
    """The explain index from the case library, the merged matrix and the wild corpus's tune split
    (deterministic, no timestamps). The frozen split only counts towards "seen in N public reports";
    ``splits=("tune",)`` leaves it unread (what a tuning run does, so frozen stays unseen)."""
    from lstm_atlas.case.library import load_library
    from lstm_atlas.explain.snippet import render_variant
    from lstm_atlas.matrix.merge import read_merged
    from lstm_atlas.wild import load_corpus

    cases = load_library(cases_dir)
    reports = load_corpus(wild_dir, {c.id: c.spec["family"] for c in cases}, splits=splits) \
        if wild_dir is not None and Path(wild_dir).is_dir() else []
    counts = public_report_counts(reports)
    merged = read_merged(merged_path, missing_ok=True) or {}
    envs = merged.get("environments", {})
    out_envs = {key: {"tensorflow": env.get("tensorflow"), "keras": env.get("keras"),
                      "keras_flavor": env.get("keras_flavor"), "legacy_keras": bool(env.get("legacy_keras")),
                      "label": versions.env_label(env)} for key, env in sorted(envs.items())}
    results = merged.get("results", {})
    out_cases: dict = {}
    messages: list[dict] = []
    for case in sorted(cases, key=lambda c: c.id):
        spec = case.spec
        fix_passed = sorted({(env, device) for device, by_env in results.get(case.id, {}).get("fix", {}).items()
                             for env, cell in by_env.items() if cell.get("verdict") == "pass"})
        out_cases[case.id] = {
            "family": spec["family"], "title": spec["title"], "cause": " ".join(spec["cause"].split()),
            "fix": " ".join(spec["fix"]["explanation"].split()),
            "fix_snippet": render_variant(case.variants["fix"]),
            "fix_verified_on": [list(p) for p in fix_passed],
            "symptom": spec.get("symptom", ""),
            "patterns": _patterns(spec["expect"]),
            "words": _case_words(spec),
            "public_reports": counts.get(case.id, 0),
        }
        grouped: dict = defaultdict(lambda: {"seen": set(), "message": None})
        for device, by_env in results.get(case.id, {}).get("repro", {}).items():
            for env, cell in sorted(by_env.items()):
                if not cell.get("exception_type") or not cell.get("message"):
                    continue
                key = (cell["exception_type"], message_template(cell["message"]))
                grouped[key]["seen"].add((env, device))
                grouped[key]["message"] = grouped[key]["message"] or cell["message"]
        for (exc, template), info in sorted(grouped.items()):
            messages.append({"case": case.id, "origin": "observed", "exception": exc, "template": template,
                             "message": info["message"][:600], "seen": [list(p) for p in sorted(info["seen"])]})
        for known in spec.get("known_messages", []):
            exc, text = split_traceback(known["message"])
            messages.append({"case": case.id, "origin": "known", "exception": known.get("exception") or exc,
                             "template": message_template(known["message"]), "message": known["message"][:600],
                             "source": known["source"], "versions": known.get("versions", ""),
                             "device": known.get("device", ""), "unverified": bool(known.get("unverified", True))})
        labelled = symptom_generations(spec.get("symptom", ""))
        for wording in symptom_wordings(spec.get("symptom", "")):
            messages.append({"case": case.id, "origin": "symptom", "exception": None,
                             "template": message_template(wording), "message": wording,
                             **({"generation": labelled[wording]} if wording in labelled else {})})
        messages += [reported_document(r) for r in reports if r.case == case.id and r.split == "tune"]
    # a failure mode with no case (proposed, not reproducible here) still names its family among the nearest
    family_messages = [{"family": r.family, "template": message_template(r.message), "report": r.id,
                        "source": r.url, "reason": r.reason, "message": r.message[:600]}
                       for r in reports if r.split == "tune" and r.family_only]
    return {"schema": INDEX_SCHEMA, "schema_version": INDEX_VERSION, "environments": out_envs,
            "cases": out_cases, "messages": messages, "family_messages": family_messages}


def index_text(index: dict) -> str:
    """The committed form: stable key order, so a rebuild with nothing new is byte-identical."""
    return json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def default_index_path() -> Path:
    return Path(str(resources.files("lstm_atlas.explain").joinpath(DEFAULT_INDEX)))


# --- loading (the query path) ---------------------------------------------------------------

def _singular(word: str) -> str:
    """'kernels' and 'kernel', 'dimensions' and 'dimension' are one feature (releases reword plurals)."""
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def features(template: str) -> Counter:
    """Word uni- and bigrams of a template, without placeholders and stop words."""
    words = [w.lower() for w in _WORD_RE.findall(template)]
    words = [_singular(w) for w in words if w not in _PLACEHOLDERS and w not in _STOP]
    feats = Counter(words)
    feats.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return feats


#: Largest index read; the committed one is about 1 MB.
MAX_INDEX_BYTES = 64 * 1024 * 1024

_CASE_FIELDS = {"family": str, "title": str, "cause": str, "fix": str, "fix_snippet": str,
                "fix_verified_on": list, "patterns": list, "words": list}
_MESSAGE_FIELDS = {"case": str, "origin": str, "template": str, "message": str}


def check_index(data) -> None:
    """``ValueError`` (one line) unless ``data`` has the shape the query path reads; run before any use."""
    if not isinstance(data, dict) or data.get("schema") != INDEX_SCHEMA:
        raise ValueError("not an lstm-atlas explain index")
    for key, kind in (("cases", dict), ("environments", dict), ("messages", list)):
        if not isinstance(data.get(key), kind):
            raise ValueError(f"malformed explain index: '{key}' is not a JSON {kind.__name__}")
    for cid, case in data["cases"].items():
        for key, kind in _CASE_FIELDS.items():
            if not isinstance(case, dict) or not isinstance(case.get(key), kind):
                raise ValueError(f"malformed explain index: case {cid[:80]!r} lacks '{key}'")
        if not all(isinstance(p, str) for p in case["patterns"] + case["words"]):
            raise ValueError(f"malformed explain index: case {cid[:80]!r} has a pattern or word that is not text")
        if not all(isinstance(v, list) and len(v) == 2 for v in case["fix_verified_on"]):
            raise ValueError(f"malformed explain index: case {cid[:80]!r} has a malformed 'fix_verified_on'")
    for i, message in enumerate(data["messages"]):
        for key, kind in _MESSAGE_FIELDS.items():
            if not isinstance(message, dict) or not isinstance(message.get(key), kind):
                raise ValueError(f"malformed explain index: messages[{i}] lacks '{key}'")
        if message["case"] not in data["cases"]:
            raise ValueError(f"malformed explain index: messages[{i}] names an unknown case")
        if message["origin"] == "observed" and not all(
                isinstance(v, list) and len(v) == 2 for v in message.get("seen") or [None]):
            raise ValueError(f"malformed explain index: messages[{i}] has a malformed 'seen'")
    if not all(isinstance(env, dict) for env in data["environments"].values()):
        raise ValueError("malformed explain index: an environment is not a JSON object")
    family_messages = data.get("family_messages", [])
    if not isinstance(family_messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("family"), str) and isinstance(m.get("template"), str)
            for m in family_messages):
        raise ValueError("malformed explain index: 'family_messages' is not a list of {family, template}")


class Index:
    """The loaded index with TF-IDF vectors of its message templates: distinctive words such as
    "cardinality" outweigh "input" or "layer"."""

    def __init__(self, data: dict):
        check_index(data)
        self.data = data
        self.cases: dict = data["cases"]
        self.envs: dict = data["environments"]
        self.messages: list[dict] = data["messages"]
        #: what is compared: each template without the wrapping pasted in front of a message (logging prefixes)
        self.templates = [unwrapped(m["template"]) for m in self.messages]
        docs = [features(t) for t in self.templates]
        df: Counter = Counter()
        for feats in dict(zip(self.templates, docs, strict=False)).values():
            df.update(feats.keys())
        n = len(set(self.templates)) or 1
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self.default_idf = math.log(1 + n) + 1.0
        self.vectors = [self.vector(f) for f in docs]
        #: reports of a failure mode that has no case yet: they only name a family among the nearest
        self.family_messages: list[dict] = data.get("family_messages") or []
        self.family_templates = [unwrapped(m["template"]) for m in self.family_messages]
        self.family_vectors = [self.vector(features(t)) for t in self.family_templates]
        self.generations = [doc_generations(m, self.envs) for m in self.messages]
        self.layer_kinds = [layer_kind(m["message"]) for m in self.messages]
        self._patterns: dict[str, list] = {}
        #: what score.py reads off each message (cause marks, ranks, arguments, dtypes): on first use, then kept
        self.mark_cache: dict = {}
        self._profiles = None
        self._step_counts: Counter | None = None

    def step_rarity(self, step: str) -> float:
        """How rare a run step is among the cases, 0 (all have it) to 1 (one has it): log(N/n) / log(N)."""
        if self._step_counts is None:
            self._step_counts = Counter(w for c in self.cases.values() for w in set(c["words"]))
        n, total = self._step_counts.get(step, 0), len(self.cases)
        return math.log(total / n) / math.log(total) if n and total > 1 else 0.0

    def family_profiles(self):
        """The families' word profiles (built on first use: only a "no known case" answer reads them)."""
        if self._profiles is None:
            from lstm_atlas.explain.families import FamilyProfiles

            self._profiles = FamilyProfiles(self.cases, self.messages, self.family_messages)
        return self._profiles

    def patterns(self, cid: str) -> list:
        """The case's own expect.match regexes, compiled by RE2 on first use (compiling all costs 50 ms).

        RE2 matches in time linear in the pasted text; a pattern it cannot compile (the library's
        rule forbids them) is a malformed index.
        """
        if cid not in self._patterns:
            try:
                self._patterns[cid] = [compile_pattern(p, ignore_case=True, dot_all=True)
                                       for p in self.cases[cid]["patterns"]]
            except re2.error:
                raise ValueError(f"malformed explain index: case {cid[:80]!r} has a pattern RE2 cannot compile") \
                    from None
        return self._patterns[cid]

    @classmethod
    def load(cls, path: str | Path | None = None) -> Index:
        from lstm_atlas.files import loads_json, read_bounded

        p = Path(path) if path else default_index_path()
        return cls(loads_json(read_bounded(p, MAX_INDEX_BYTES), str(p)))

    def vector(self, feats: Counter) -> dict:
        """The unit TF-IDF vector of a document's (or a query's) features."""
        vec = {t: (1 + math.log(c)) * self.idf.get(t, self.default_idf) for t, c in feats.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def cosine(self, qvec: dict, i: int, vectors: list | None = None) -> float:
        dvec = (vectors or self.vectors)[i]
        if len(qvec) > len(dvec):
            qvec, dvec = dvec, qvec
        return sum(v * dvec.get(t, 0.0) for t, v in qvec.items())


@lru_cache(maxsize=4)
def load_index(path: str | None = None) -> Index:
    """The index, loaded once per path (building the vectors is most of a query's cost)."""
    return Index.load(path)
