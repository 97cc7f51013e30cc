"""``lstm-atlas explain``: from a pasted error to the known failure mode, its cause and a verified fix.

Retrieval over normalised message templates. Every message the matrix observed (each
case, version and device), every known variant a case records from public reports
(``known_messages``) and each case's symptom are documents; a query is normalised
by the same :func:`~lstm_atlas.normalise.message_template` the fuzz map uses and scored
against them by TF-IDF cosine over word uni/bigrams (distinctive words such as
"cardinality" outweigh "input" or "layer") blended with rapidfuzz's token-set ratio
(tolerant of words a Keras release adds or drops). The case's own ``expect.match``
patterns, exception-class agreement, the user's version/device, and words from the
traceback's frames adjust the score a little. Scores fall into calibrated bands;
below the lowest one the answer is "no known case" with the nearest families.

The query path reads one JSON index (``harness/lstm_atlas/explain/explain-index.json``) and imports
neither TensorFlow nor the YAML/jsonschema machinery, so a query costs milliseconds.
The index is generated from ``cases/`` and ``reports/merged.json`` by
``lstm-atlas explain --build-index``; a test fails when the committed one is stale.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lstm_atlas import versions
from lstm_atlas.normalise import message_template, split_traceback

INDEX_SCHEMA = "lstm-atlas-explain-index"
INDEX_VERSION = 1
DEFAULT_INDEX = "explain-index.json"
MAX_QUERY_CHARS = 200_000

#: Score bands, calibrated on self-explain, held-out versions, real reports and unrelated errors
#: (see tests/test_explain.py::test_bands_separate_known_from_unrelated).
MATCH_AT = 0.72
LIKELY_AT = 0.55
#: A case's regexes are tried only where the text already resembles one of its messages.
PATTERN_CANDIDATE_AT = 0.25

_RANK_TOKEN_RE = re.compile(r"ndim=rank(\d)")
_ARG_RE = re.compile(r"(?:not understood:?,?\s*|[{,]\s*)([a-z_][a-z0-9_]*)(?=\s*[:)]|\s*$)|has no attribute (\w+)",
                     re.I)
#: Python's own wording, raised by any code: alone (without Keras/TF frames) it is weak evidence.
GENERIC_PYTHON = re.compile(r"^(?:list index out of range|\w+ object is not (?:subscriptable|iterable|callable)|"
                            r"\w+ object has no attribute \w+|too many values to unpack.*|"
                            r"not enough values to unpack.*|"
                            r"[\w.]+\(\) missing <num> required positional arguments?: <name>)$")
GENERIC_CAP = 0.7
#: Training that ran but diverged: progress lines with "loss: nan", which no exception explains.
_NAN_LOSS_RE = re.compile(r"\bloss: (?:nan|inf)\b", re.I)
_DIFF_RE = re.compile(r"<diff_(\w+)>")
_ROLE_RE = re.compile(r"checking (?:model )?(input|target)")
_WORD_RE = re.compile(r"<\w+>|[A-Za-z][A-Za-z0-9_]*")
_PLACEHOLDERS = {"<num>", "<shape>", "<name>", "<dtype>", "<path>", "<addr>", "<tensor>", "<object>",
                 "<class>", "<node>", "<loc>", "<value>", "<dataset>"}
_STOP = {"the", "a", "an", "of", "to", "is", "in", "for", "and", "or", "be", "with", "at", "by", "on", "was",
         "this", "that", "it", "as", "but", "are", "please"}


# --- building the index (needs the case library; not on the query path) ----------------------

def _env_label(env: dict) -> str:
    flavour = " tf_keras" if env.get("legacy_keras") else ""
    return f"TF {env.get('tensorflow', '?')} / Keras {env.get('keras', '?')}{flavour}"


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


def build_index(cases_dir: str | Path = "cases", merged_path: str | Path = "reports/merged.json") -> dict:
    """The explain index from the case library and the merged matrix (deterministic, no timestamps)."""
    from lstm_atlas.case.library import load_library
    from lstm_atlas.explain.snippet import render_variant
    from lstm_atlas.matrix.merge import read_merged

    cases = load_library(cases_dir)
    merged = read_merged(merged_path, missing_ok=True) or {}
    envs = merged.get("environments", {})
    out_envs = {key: {"tensorflow": env.get("tensorflow"), "keras": env.get("keras"),
                      "keras_flavor": env.get("keras_flavor"), "legacy_keras": bool(env.get("legacy_keras")),
                      "label": _env_label(env)} for key, env in sorted(envs.items())}
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
        if spec.get("symptom"):
            messages.append({"case": case.id, "origin": "symptom", "exception": None,
                             "template": message_template(spec["symptom"]), "message": spec["symptom"]})
    return {"schema": INDEX_SCHEMA, "schema_version": INDEX_VERSION, "environments": out_envs,
            "cases": out_cases, "messages": messages}


def index_text(index: dict) -> str:
    return json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def default_index_path() -> Path:
    return Path(str(resources.files("lstm_atlas.explain").joinpath(DEFAULT_INDEX)))


# --- matching -------------------------------------------------------------------------------

def _features(template: str) -> Counter:
    words = [w.lower() for w in _WORD_RE.findall(template)]
    words = [w for w in words if w not in _PLACEHOLDERS and w not in _STOP]
    feats = Counter(words)
    feats.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return feats


class Index:
    """The loaded index with TF-IDF vectors of its message templates."""

    def __init__(self, data: dict):
        if data.get("schema") != INDEX_SCHEMA:
            raise ValueError("not an lstm-atlas explain index")
        self.data = data
        self.cases: dict = data["cases"]
        self.envs: dict = data["environments"]
        self.messages: list[dict] = data["messages"]
        docs = [_features(m["template"]) for m in self.messages]
        df: Counter = Counter()
        for feats in {m["template"]: f for m, f in zip(self.messages, docs, strict=False)}.values():
            df.update(feats.keys())
        n = len({m["template"] for m in self.messages}) or 1
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self.default_idf = math.log(1 + n) + 1.0
        self.vectors = [self._vector(f) for f in docs]
        self._patterns: dict[str, list] = {}

    def patterns(self, cid: str) -> list:
        """The case's own expect.match regexes, compiled on first use (compiling all costs 50 ms)."""
        if cid not in self._patterns:
            self._patterns[cid] = [re.compile(p, re.I | re.S) for p in self.cases[cid]["patterns"]]
        return self._patterns[cid]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Index":
        p = Path(path) if path else default_index_path()
        return cls(json.loads(p.read_text("utf-8")))

    def _vector(self, feats: Counter) -> dict:
        vec = {t: (1 + math.log(c)) * self.idf.get(t, self.default_idf) for t, c in feats.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def cosine(self, qvec: dict, i: int) -> float:
        dvec = self.vectors[i]
        if len(qvec) > len(dvec):
            qvec, dvec = dvec, qvec
        return sum(v * dvec.get(t, 0.0) for t, v in qvec.items())


@dataclass
class Match:
    id: str
    family: str
    title: str
    score: float
    band: str
    cause: str
    fix: str
    fix_snippet: str
    fix_verified_on: list
    observed_on: list
    matched_message: str
    matched_origin: str
    same_message_as: list = field(default_factory=list)

    def to_json(self) -> dict:
        out = asdict(self)
        out["fix"] = {"explanation": self.fix, "snippet": self.fix_snippet, "verified_on": self.fix_verified_on}
        for key in ("fix_snippet", "fix_verified_on"):
            out.pop(key)
        return out


@dataclass
class Answer:
    query_exception: str | None
    query_template: str
    matches: list[Match]
    nearest_families: list[tuple[str, float]]
    generic: bool = False
    narrowed: bool = False

    @property
    def known(self) -> bool:
        return bool(self.matches) and self.matches[0].band in ("match", "likely")


def band_of(score: float) -> str:
    return "match" if score >= MATCH_AT else "likely" if score >= LIKELY_AT else "guess"


def _version_ok(env: dict, tf: str | None, keras: str | None) -> bool:
    return versions.matches(env.get("tensorflow"), tf) and versions.matches(env.get("keras"), keras)


def _context_words(text: str, message: str) -> set[str]:
    """Lower-case words from everything in the paste except the message: frames, code lines."""
    rest = text.replace(message, " ") if message else text
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_]+", rest)}


def _similarity(index: Index, qvec: dict, qtemplate: str, i: int) -> float:
    from rapidfuzz import fuzz  # imported here so other lstm-atlas commands do not pay for it

    doc = index.messages[i]["template"]
    cos = index.cosine(qvec, i)
    fuzzy = fuzz.token_set_ratio(qtemplate, doc) / 100.0
    if min(len(qtemplate), len(doc)) < 12:  # token sets of a few characters match too easily
        fuzzy = fuzz.ratio(qtemplate, doc) / 100.0
    return 0.55 * cos + 0.45 * fuzzy


def _disagreement(qtemplate: str, doc: str) -> float:
    """A factor below 1 where the texts name different causes in the same words (applied last)."""
    factor = 1.0
    qranks, dranks = _RANK_TOKEN_RE.findall(qtemplate), _RANK_TOKEN_RE.findall(doc)
    if qranks and dranks and qranks != dranks:  # "found ndim=4" is another cause than "found ndim=2"
        factor *= 0.9
    qargs = {a or b for a, b in _ARG_RE.findall(qtemplate)}
    dargs = {a or b for a, b in _ARG_RE.findall(doc)}
    if qargs and dargs and not qargs & dargs:  # another keyword argument is another API change
        factor *= 0.75
    qdiff, ddiff = _DIFF_RE.findall(qtemplate), _DIFF_RE.findall(doc)
    if qdiff and ddiff and qdiff != ddiff:  # a wrong feature count is not a wrong window length
        factor *= 0.85
    qrole, drole = _ROLE_RE.findall(qtemplate), _ROLE_RE.findall(doc)
    if qrole and drole and qrole != drole:  # Keras 2: "checking target" is the labels, "checking input" x
        factor *= 0.85
    return factor


def _context_factor(index: Index, doc: dict, qexc: str | None, tf, keras, device) -> float:
    """Small discounts for another exception class, and for messages not seen on the asked version/device."""
    factor = 0.93 if qexc and doc.get("exception") and doc["exception"] != qexc else 1.0
    if doc["origin"] == "observed" and (tf or keras or device):
        seen = [(index.envs.get(env, {}), dev) for env, dev in doc["seen"]]
        in_range = any(_version_ok(e, tf, keras) for e, _ in seen)
        matrix_has_it = any(_version_ok(e, tf, None) or _version_ok(e, None, keras) for e in index.envs.values())
        if (tf or keras) and not in_range and matrix_has_it:
            factor *= 0.9
        if device and not any(d == device for _, d in seen):
            factor *= 0.97
    if doc["origin"] == "known" and device and doc.get("device") and doc["device"] != device:
        factor *= 0.95
    return factor


def explain(text: str, index: Index, tf: str | None = None, keras: str | None = None,
            device: str | None = None, limit: int = 5) -> Answer:
    """Rank the library's cases for a pasted message or traceback."""
    from rapidfuzz import fuzz

    text = (text or "")[:MAX_QUERY_CHARS]
    qexc, qmessage = split_traceback(text)
    if qexc is None and _NAN_LOSS_RE.search(text):
        text = qmessage = "no error, loss: nan"  # a Keras progress line: the symptom, not a message
    qtemplate = message_template(text)
    qvec = index._vector(_features(qtemplate))
    context = _context_words(text, qmessage) if "\n" in text.strip() else set()
    narrowing = bool(tf or keras or device)
    generic = bool(GENERIC_PYTHON.match(qtemplate)) and not {"keras", "tensorflow", "tf_keras"} & context
    best: dict[str, tuple[float, int, float]] = {}  # case -> (similarity, document, disagreement factor)
    sims: dict[int, float] = {}
    for i, doc in enumerate(index.messages):
        sim = _similarity(index, qvec, qtemplate, i) * _context_factor(index, doc, qexc, tf, keras, device)
        factor = _disagreement(qtemplate, doc["template"])
        sims[i] = sim * factor
        cid = doc["case"]
        if cid not in best or sim * factor > best[cid][0] * best[cid][2]:
            best[cid] = (sim, i, factor)
    scored = []
    for cid, (sim, i, factor) in best.items():
        score = sim
        if sim >= PATTERN_CANDIDATE_AT and any(p.search(qmessage) for p in index.patterns(cid)):
            score = max(score, 0.75 + 0.25 * sim)
        score *= factor
        words = set(index.cases[cid]["words"])
        score += 0.005 * min(len(words & context), 3)
        # tie-break on the raw text (numbers, names) without moving a score between bands
        tie = 0.004 * fuzz.ratio(qmessage[:600], index.messages[i]["message"][:600]) / 100.0
        score = min(score, GENERIC_CAP if generic else 1.0)
        scored.append((score + tie, score, cid, i))
    scored.sort(key=lambda t: (-t[0], t[2]))
    families: dict[str, float] = {}
    for _, score, cid, _ in scored:
        fam = index.cases[cid]["family"]
        families[fam] = max(families.get(fam, 0.0), score)
    nearest = sorted(families.items(), key=lambda kv: -kv[1])[:3]
    matches = []
    for _, score, cid, i in scored[:limit]:
        case = index.cases[cid]
        doc = index.messages[i]
        same = [c for _, s, c, j in scored if c != cid and index.messages[j]["template"] == doc["template"]
                and abs(s - score) < 0.01]
        matches.append(Match(
            id=cid, family=case["family"], title=case["title"], score=round(score, 3), band=band_of(score),
            cause=case["cause"], fix=case["fix"], fix_snippet=case["fix_snippet"],
            fix_verified_on=_verified(index, case, tf, keras, device),
            observed_on=_observed_on(index, cid, sims),
            matched_message=doc["message"], matched_origin=doc["origin"], same_message_as=same))
    return Answer(query_exception=qexc, query_template=qtemplate, matches=matches, nearest_families=
                  [(f, round(s, 3)) for f, s in nearest], generic=generic, narrowed=narrowing)


def _verified(index: Index, case: dict, tf, keras, device) -> list[dict]:
    """Where the fix ran clean: on the asked version/device if the matrix has it, else everywhere it
    did (each entry says whether it is the asked version, so nobody mistakes one for the other)."""
    everywhere, asked = [], []
    for env, dev in case["fix_verified_on"]:
        info = index.envs.get(env, {})
        entry = {"env": env, "tensorflow": info.get("tensorflow"), "keras": info.get("keras"), "device": dev}
        everywhere.append(entry)
        if (not device or dev == device) and (not (tf or keras) or _version_ok(info, tf, keras)):
            asked.append(entry)
    if asked or not (tf or keras or device):
        return [dict(e, asked_version=bool(tf or keras or device)) for e in asked]
    return [dict(e, asked_version=False) for e in everywhere]


def _observed_on(index: Index, cid: str, sims: dict) -> list[dict]:
    """Where this message was seen: the case's recorded messages about as close to it as its closest one."""
    docs = [i for i, doc in enumerate(index.messages) if doc["case"] == cid and doc["origin"] != "symptom"]
    top = max((sims[i] for i in docs), default=0.0)
    out: list[dict] = []
    for i in docs:
        doc = index.messages[i]
        if sims[i] < max(top - 0.2, 0.5):  # other wordings of the same error count; unrelated ones do not
            continue
        if doc["origin"] == "observed":
            for env, dev in doc["seen"]:
                info = index.envs.get(env, {})
                out.append({"env": env, "tensorflow": info.get("tensorflow"), "keras": info.get("keras"),
                            "device": dev, "verified": True})
        elif doc["origin"] == "known":
            out.append({"versions": doc.get("versions", ""), "device": doc.get("device", ""),
                        "source": doc.get("source"), "verified": not doc.get("unverified", True)})
    return out


# --- presentation ---------------------------------------------------------------------------

def _env_runs(index: "Index | None", envs: list[str]) -> str:
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


def _versions_text(entries: list[dict], index: "Index | None" = None) -> str:
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


def render_text(answer: Answer, show: int = 3, index: "Index | None" = None) -> str:
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
        verified = _versions_text(m.fix_verified_on, index) if m.fix_verified_on else "not run clean yet"
        if answer.narrowed and m.fix_verified_on and not any(e["asked_version"] for e in m.fix_verified_on):
            verified = f"not run on the version/device you gave; ran clean on {verified}"
        lines.append(f"   Fix verified on: {verified}")
        lines.append(f"   This message seen on: {_versions_text(m.observed_on, index)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_json(answer: Answer) -> list[dict]:
    """The ``--json`` form: the matches (bands match and likely; no guesses, so a tool reading the first
    entry never takes a guess for an answer), each with id, family, score, band, cause, fix, observed_on."""
    return [m.to_json() for m in answer.matches if m.band != "guess"]


def run_cli(args) -> int:
    if args.build_index:
        from lstm_atlas.files import write_or_check_generated  # not on the query path: it imports jsonschema

        path = Path(args.index) if args.index else default_index_path()
        text = index_text(build_index(args.cases, args.merged))
        return write_or_check_generated(path, text, "lstm-atlas explain --build-index", check=args.check)
    if args.file:
        try:
            raw = Path(args.file).read_bytes()[:MAX_QUERY_CHARS * 4]
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
        text = raw.decode("utf-8", "replace")
    elif args.message:
        text = " ".join(args.message)
    elif not sys.stdin.isatty():
        text = sys.stdin.read(MAX_QUERY_CHARS)
    else:
        print("paste an error: lstm-atlas explain 'message', --file traceback.txt, or pipe it in", file=sys.stderr)
        return 2
    if not text.strip():
        print("the message is empty", file=sys.stderr)
        return 2
    try:
        index = load_index(args.index)
    except (OSError, ValueError) as exc:
        print(f"cannot read the explain index: {exc}", file=sys.stderr)
        return 2
    answer = explain(text, index, tf=args.tf, keras=args.keras, device=args.device, limit=args.limit)
    if args.json:
        print(json.dumps(answer_json(answer), indent=1))
        if not answer.known:
            print("no known case; nearest families: " + ", ".join(f"{f} ({v:.2f})" for f, v in
                                                                answer.nearest_families), file=sys.stderr)
    else:
        sys.stdout.write(render_text(answer, index=index))
    return 0 if answer.known else 1


@lru_cache(maxsize=4)
def load_index(path: str | None = None) -> Index:
    return Index.load(path)


def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="which known failure mode a pasted error is, why, and a verified fix")
    p.add_argument("message", nargs="*", help="the message or traceback (default: --file or stdin)")
    p.add_argument("--file", help="read the traceback from this file")
    p.add_argument("--tf", help="your TensorFlow version, e.g. 2.15")
    p.add_argument("--keras", help="your Keras version, e.g. 3.x or 2.15")
    p.add_argument("--device", choices=["cpu", "gpu"])
    p.add_argument("--json", action="store_true", help="machine-readable list of matches")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--index", help="explain index JSON (default: the one shipped in the package)")
    p.add_argument("--build-index", action="store_true", help="regenerate the index from --cases and --merged")
    p.add_argument("--check", action="store_true", help="with --build-index: exit 1 if the index is stale")
    p.add_argument("--cases", default="cases")
    p.add_argument("--merged", default="reports/merged.json")
    p.set_defaults(func=run_cli)
