"""The query path: rank the library's cases for a pasted error.

A query is normalised by the same :func:`~lstm_atlas.normalise.message_template` the fuzz
map uses and scored against the index's documents by TF-IDF cosine over word uni/bigrams
blended with rapidfuzz's token-set ratio (tolerant of words a Keras release adds or drops).
The case's own ``expect.match`` patterns, exception-class agreement, the user's
version/device, and words from the traceback's frames adjust the score a little. Scores
fall into calibrated bands; below the lowest one the answer is "no known case" with the
nearest families. Imports neither TensorFlow nor YAML nor jsonschema: a query costs milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from lstm_atlas import versions
from lstm_atlas.explain.index import Index, features
from lstm_atlas.explain.wording import (
    dtypes_named,
    expected_rank,
    generation_of,
    generation_shown,
    layer_kind,
    mentions_recurrent,
    named_arguments,
    rank_direction,
    steps_shown,
    target_output_difference,
    unwrapped,
)
from lstm_atlas.normalise import message_template, split_traceback

MAX_QUERY_CHARS = 200_000

#: Score bands, re-derived on the wild corpus's tune split only, each report held out of the index
#: (benchmarks/explain_wild.py prints the table; wild/frozen is never used for it). LIKELY_AT is the lowest
#: threshold that maximises (reports with a case answered) + (unrelated reports rejected) on the 388 tune
#: reports (87/95 answered, 120/131 rejected). MATCH_AT marks where the right family came first in
#: 96% of answers (76/79), against 7/8 between the two. Re-derive both when the corpus grows.
MATCH_AT = 0.85
LIKELY_AT = 0.71
#: A case's regexes are tried only where the text already resembles one of its messages.
PATTERN_CANDIDATE_AT = 0.25

_RANK_TOKEN_RE = re.compile(r"((?:min_|max_)?)ndim=rank(\d)")
#: The word that says what a placeholder names ("class <name>", "function <name>", "layer <name>").
_NAMED_KIND_RE = re.compile(r"\b([a-z]+) <name>")
_ARG_RE = re.compile(r"(?:not understood:?,?\s*|[{,]\s*)([a-z_][a-z0-9_]*)(?=\s*[:)]|\s*$)|has no attribute (\w+)",
                     re.I)
#: Python's own wording, raised by any code: alone (without Keras/TF frames) it is weak evidence.
GENERIC_PYTHON = re.compile(r"^(?:list index out of range|\w+ object is not (?:subscriptable|iterable|callable)|"
                            r"\w+ object has no attribute \w+|too many values to unpack.*|"
                            r"not enough values to unpack.*|"
                            r"[\w.]+\(\) missing <num> required positional arguments?: <name>)$")
GENERIC_CAP = 0.8  # within 'likely', never 'match'
SYMPTOM_CAP = 1.0
#: Training that ran but diverged: progress lines with "loss: nan", which no exception explains.
_NAN_LOSS_RE = re.compile(r"\bloss: (?:nan|inf)\b", re.I)
_DIFF_RE = re.compile(r"<diff_(\w+)>")
_ROLE_RE = re.compile(r"checking (?:model )?(input|target)")
#: The Python type a builtin error names ("list object has no attribute shape"): the template keeps it, it is the cause.
_OBJECT_TYPE_RE = re.compile(r"(<dtype>|\b[A-Za-z_][\w.]*) object (?:has no attribute|is not)\b")


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
    #: other cases that raise this identical message: one answer, several variants of it
    variants: list = field(default_factory=list)
    variant_families: list = field(default_factory=list)
    public_reports: int = 0

    def to_json(self) -> dict:
        out = asdict(self)
        out["case"] = self.id  # the answer's case; "variants" names the others raising the identical message
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
    #: the Keras generation ('2' or '3') the message was taken to come from, None when not known
    generation: str | None = None
    #: a public report of this message whose failure mode has no case yet: family, reason, source, score
    uncased: dict | None = None

    @property
    def known(self) -> bool:
        return bool(self.matches) and self.matches[0].band in ("match", "likely")


_TRAILING_NUMBERS_RE = re.compile(r"(?:\s<num>)+$")


def same_wording(a: str, b: str) -> bool:
    """Two templates that are one message: equal, or equal but for trailing bare numbers (the flags some
    kernels print after a message, "... In[1]: [1,4] 0 0" from oneDNN's MatMul)."""
    return a == b or _TRAILING_NUMBERS_RE.sub("", a) == _TRAILING_NUMBERS_RE.sub("", b)

def band_of(score: float) -> str:
    return "match" if score >= MATCH_AT else "likely" if score >= LIKELY_AT else "guess"


def _version_ok(env: dict, tf: str | None, keras: str | None) -> bool:
    """Whether a matrix environment is within the versions the user gave (None: any)."""
    return versions.matches(env.get("tensorflow"), tf) and versions.matches(env.get("keras"), keras)


def _context_words(text: str, message: str) -> set[str]:
    """Lower-case words from everything in the paste except the message: frames, code lines."""
    rest = text.replace(message, " ") if message else text
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_]+", rest)}


def _similarity(index: Index, qvec: dict, qtemplate: str, i: int) -> float:
    from rapidfuzz import fuzz  # imported here so other lstm-atlas commands do not pay for it

    doc = index.templates[i]
    cos = index.cosine(qvec, i)
    fuzzy = fuzz.token_set_ratio(qtemplate, doc) / 100.0
    if min(len(qtemplate), len(doc)) < 12:  # token sets of a few characters match too easily
        fuzzy = fuzz.ratio(qtemplate, doc) / 100.0
    return 0.55 * cos + 0.45 * fuzzy


#: Each mark :func:`_disagreement` compares, read off a template: ranks, keyword arguments, the differing axis,
#: the role, what a placeholder names, the Python type a builtin error names.
_MARKS = (
    lambda t: [a + b for a, b in _RANK_TOKEN_RE.findall(t)],
    lambda t: {a or b for a, b in _ARG_RE.findall(t)},
    lambda t: _DIFF_RE.findall(t),
    lambda t: _ROLE_RE.findall(t),
    lambda t: set(_NAMED_KIND_RE.findall(t)),
    lambda t: set(_OBJECT_TYPE_RE.findall(t)),
)


def _cause_marks(template: str) -> tuple:
    """What :func:`_disagreement` compares: ranks, keyword arguments, the differing axis, the role."""
    return tuple(mark(template) for mark in _MARKS)


def _remembered(cache: dict | None, key, compute):
    """``compute()``, kept in ``cache`` (an index's ``mark_cache``) under ``key``; no cache: computed each time."""
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _doc_marks(qmarks: tuple, doc: str, cache: dict | None) -> tuple:
    """The document's marks, only those the query has (an empty one compares to nothing): most queries
    have one or two, so a cold query scans each document once or twice, not six times. ``cache`` (per
    index) keeps them between queries."""
    return tuple(_remembered(cache, (k, doc), lambda mark=mark: mark(doc)) if qmarks[k] else None
                 for k, mark in enumerate(_MARKS))


def _disagreement(qtemplate: str | tuple, doc: str, cache: dict | None = None) -> float:
    """A factor below 1 where the texts name different causes in the same words (applied last).

    ``qtemplate`` may be its :func:`_cause_marks` already, so a query is scanned once, not once per document.
    """
    factor = 1.0
    qmarks = _cause_marks(qtemplate) if isinstance(qtemplate, str) else qtemplate
    if not any(qmarks):
        return factor
    qranks, qargs, qdiff, qrole, qnamed, qtype = qmarks
    dranks, dargs, ddiff, drole, dnamed, dtype = _doc_marks(qmarks, doc, cache)
    if qranks and dranks and qranks[0] != dranks[0]:  # the rank the layer expects differs (an LSTM's is 3,
        factor *= 0.55                                # exactly, not min_ndim): another layer
    elif qranks and dranks and qranks != dranks:  # "found ndim=4" is another cause than "found ndim=2"
        factor *= 0.9
    if qargs and dargs and not qargs & dargs:  # another keyword argument is another API change
        factor *= 0.75
    if qdiff and ddiff and qdiff != ddiff:  # a wrong feature count is not a wrong window length
        factor *= 0.85
    if qnamed and dnamed and not qnamed & dnamed:  # "could not locate class X" is not "... function Y"
        factor *= 0.8
    if qtype and dtype and not qtype & dtype:  # "'list' object has no attribute" is not "'float' object ...": the
        factor *= 0.75                         # type is the cause, as the argument is of an API change
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
    if doc["origin"] in ("known", "reported") and device and doc.get("device") and doc["device"] != device:
        factor *= 0.95
    return factor


#: A document whose message names another kind of layer than the pasted one (conv2d vs an LSTM); also a case
#: whose model has no layer of the kind the message names when nothing in the paste names a recurrent layer.
OTHER_LAYER = 0.7
#: The identical wording naming another missing or unexpected argument ('states' vs 'units') is another cause:
#: on wording alone it stays below the 'likely' band.
OTHER_ARGUMENT = 0.65
#: The same for another pair of dtypes ("float16 does not match float32" is not "float32 does not match int32");
#: lists of allowed dtypes (more than three) are not compared.
OTHER_DTYPE = 0.65
#: Labels with another number of axes than the output (return_sequences) against another last axis (classes).
OTHER_TARGET_SHAPE = 0.65
#: Keras 2's "expected X to have N dimensions, but got array with shape S" with an axis too many against one too
#: few (labels one-hot encoded twice is not a sequence output against per-sample labels).
OTHER_RANK_DIRECTION = 0.65
#: An input check expecting another number of axes ("expected shape=(None, 2)" against "(None, 5, 3)"): another model.
OTHER_EXPECTED_RANK = 0.65
#: How much a step the traceback shows failing (convert, save, load, predict) adds to a case whose run has it,
#: times the step's rarity among cases (fit, in most cases, adds next to nothing).
STEP_EVIDENCE = 0.08
#: A document of the other Keras generation than the message's (asked, or read off its best documents).
OTHER_GENERATION = 0.96
#: How much the paste's words (family profiles, lstm_atlas.explain.families) add to a family's nearness
#: when no case is known; derived on wild/tune held out report by report.
FAMILY_WORDS_WEIGHT = 0.45
#: The same where the paste itself shows its generation (tf.keras's logging prefix, Keras 2 or 3 package paths in
#: its frames): the matrix ran the case on that generation too, and it raised something else there. Also applied
#: to a case whose own pattern matches, when its closest wording is the other generation's (a Keras 3 UserWarning
#: pasted as tf.keras's "WARNING:tensorflow:" log line). Set on wild/tune held out report by report: the largest
#: value of 0.96/0.9/0.85/0.8 that moves anything (4 unrelated "ran out of data" reports rejected, nothing lost).
OTHER_GENERATION_SHOWN = 0.8
#: Documents this close to the best one decide the message's generation when none was asked.
GENERATION_BAND = 0.03


def _doc_fact(index: Index, read, i: int):
    """``read(message)`` of the index's i-th message, worked out on first use and kept with the index."""
    return _remembered(index.mark_cache, (read, i), lambda: read(index.messages[i]["message"]))


def _query_generation(index: Index, sims: dict, tf, keras) -> str | None:
    """The Keras generation the message comes from: ``--keras``/``--tf``, else the one all its best documents share."""
    asked = generation_of(keras, tf)
    if asked or not sims:
        return asked
    top = max(sims.values())
    gens = set()
    for i, sim in sims.items():
        if sim >= top - GENERATION_BAND and index.messages[i]["origin"] != "symptom":
            gens |= index.generations[i]
    return next(iter(gens)) if len(gens) == 1 else None


def _family_scores(index: Index, qvec: dict, qtemplate: str, qmarks) -> tuple[dict[str, float], dict | None]:
    """(family -> best similarity among reports of failure modes that have no case yet, the best such report)."""
    from rapidfuzz import fuzz

    out: dict[str, float] = {}
    best, best_sim = None, 0.0
    for i, doc in enumerate(index.family_messages):
        cos = index.cosine(qvec, i, index.family_vectors)
        sim = (0.55 * cos + 0.45 * fuzz.token_set_ratio(qtemplate, index.family_templates[i]) / 100.0) \
            * _disagreement(qmarks, doc["template"], index.mark_cache)
        out[doc["family"]] = max(out.get(doc["family"], 0.0), sim)
        if sim > best_sim:
            best, best_sim = doc, sim
    return out, (dict(best, score=round(best_sim, 3)) if best is not None and best_sim >= LIKELY_AT else None)


def explain(text: str, index: Index, tf: str | None = None, keras: str | None = None,
            device: str | None = None, limit: int = 5) -> Answer:
    """Rank the library's cases for a pasted message or traceback.

    Cases whose closest document is the identical message at the same score are one answer (the first
    case, its ``variants`` the others). Among near-equal scores, a case observed on the message's Keras
    generation, then a case whose own pattern matches more of the message, ranks first.
    """
    from rapidfuzz import fuzz

    # lone surrogates (undecodable bytes a caller kept) cannot reach RE2 or the output: U+FFFD-like '?'
    text = (text or "")[:MAX_QUERY_CHARS].encode("utf-8", "replace").decode("utf-8")
    qexc, qmessage = split_traceback(text)
    if qexc is None and _NAN_LOSS_RE.search(text):
        text = qmessage = "no error, loss: nan"  # a Keras progress line: the symptom, not a message
    qtemplate = unwrapped(message_template(text))
    qvec = index.vector(features(qtemplate))
    context = _context_words(text, qmessage) if "\n" in text.strip() else set()
    narrowing = bool(tf or keras or device)
    generic = bool(GENERIC_PYTHON.match(qtemplate)) and not {"keras", "tensorflow", "tf_keras"} & context
    qmarks = _cause_marks(qtemplate)
    qsteps = steps_shown(text) if STEP_EVIDENCE else frozenset()
    sims: dict[int, float] = {}
    for i, doc in enumerate(index.messages):
        sim = _similarity(index, qvec, qtemplate, i) * _context_factor(index, doc, qexc, tf, keras, device)
        sims[i] = sim * _disagreement(qmarks, doc["template"], index.mark_cache)
    qkind = layer_kind(qmessage)
    if qkind and qkind != "model":
        # the message is about a layer of another kind and nothing in the paste names a recurrent one
        foreign = OTHER_LAYER if qkind != "recurrent" and not mentions_recurrent(text) else 1.0
        for i, kind in enumerate(index.layer_kinds):
            # a Conv2D's rank check is not an LSTM's (a model's input check may be either: only for non-LSTM)
            if kind and kind != qkind and (qkind != "recurrent" or kind != "model"):
                sims[i] *= OTHER_LAYER
            elif not kind and foreign < 1.0 and qkind not in index.cases[index.messages[i]["case"]]["words"]:
                sims[i] *= foreign
    qargs, qdtypes, qtarget = named_arguments(qmessage), dtypes_named(qmessage), target_output_difference(qmessage)
    qdtypes = qdtypes if len(qdtypes) <= 3 else frozenset()
    qdirection, qrank = rank_direction(qmessage), expected_rank(qmessage)
    if qdirection or qrank:
        for i in range(len(index.messages)):
            ddirection = _doc_fact(index, rank_direction, i) if qdirection else None
            if ddirection and ddirection != qdirection:
                sims[i] *= OTHER_RANK_DIRECTION
            drank = _doc_fact(index, expected_rank, i) if qrank else None
            if drank and drank != qrank:
                sims[i] *= OTHER_EXPECTED_RANK
    if qargs or qdtypes or qtarget:
        for i in range(len(index.messages)):
            dargs = _doc_fact(index, named_arguments, i) if qargs else None
            if dargs and not dargs & qargs:
                sims[i] *= OTHER_ARGUMENT
            ddtypes = _doc_fact(index, dtypes_named, i) if qdtypes else None
            if ddtypes and len(ddtypes) <= 3 and ddtypes != qdtypes:
                sims[i] *= OTHER_DTYPE
            dtarget = _doc_fact(index, target_output_difference, i) if qtarget else None
            if dtarget and dtarget != qtarget:
                sims[i] *= OTHER_TARGET_SHAPE
    shown = None if (tf or keras) else generation_shown(text)
    generation = generation_of(keras, tf) or shown or _query_generation(index, sims, tf, keras)
    if generation:
        other = OTHER_GENERATION_SHOWN if shown else OTHER_GENERATION
        for i, gens in enumerate(index.generations):
            if gens and generation not in gens:
                sims[i] *= other
    best: dict[str, int] = {}  # case -> its closest document
    for i, doc in enumerate(index.messages):
        cid = doc["case"]
        if cid not in best or sims[i] > sims[best[cid]]:
            best[cid] = i
    scored = []
    for cid, i in best.items():
        sim = score = sims[i]
        # compiled on first use, and only for a case whose closest wording is near enough to be tried
        matched = [p for p in index.patterns(cid) if p.search(qmessage)] if sim >= PATTERN_CANDIDATE_AT else []
        if matched:
            score = max(score, 0.75 + 0.25 * sim)
            if shown and index.generations[i] and shown not in index.generations[i]:
                score *= OTHER_GENERATION_SHOWN  # the pattern is the case's, its wording another generation's
        words = set(index.cases[cid]["words"])
        score += 0.005 * min(len(words & context), 3)
        score += STEP_EVIDENCE * max((index.step_rarity(st) for st in qsteps & words), default=0.0)
        score = min(score, GENERIC_CAP if generic else 1.0)
        if index.messages[i]["origin"] == "symptom":
            score = min(score, SYMPTOM_CAP)
        # tie-breaks that never move a score between bands: the more specific pattern, the closer raw text
        specific = 0.006 * min(max((len(p.pattern) for p in matched), default=0), 120) / 120
        tie = 0.004 * fuzz.ratio(qmessage[:600], index.messages[i]["message"][:600]) / 100.0
        scored.append((score + specific + tie, score, cid, i, specific))
    scored.sort(key=lambda t: (-t[0], t[2]))
    families: dict[str, float] = {}
    for _, score, cid, _, _ in scored:
        fam = index.cases[cid]["family"]
        families[fam] = max(families.get(fam, 0.0), score)
    family_scores, uncased = _family_scores(index, qvec, qtemplate, qmarks)
    for fam, sim in family_scores.items():
        families[fam] = max(families.get(fam, 0.0), sim)
    top_score = max((s[1] for s in scored), default=0.0)
    if top_score < LIKELY_AT:  # "no known case": the paste's words weigh in on which families are nearest
        from lstm_atlas.explain.families import paste_words

        profile = index.family_profiles().scores(paste_words(text))
        families = {f: min(1.0, families.get(f, 0.0) + FAMILY_WORDS_WEIGHT * profile.get(f, 0.0))
                    for f in set(families) | set(profile)}
    nearest = sorted(families.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    groups: list[list[tuple]] = []
    for entry in scored:
        _, score, cid, i, _ = entry
        home = next((g for g in groups if abs(g[0][1] - score) < 0.01
                     and same_wording(index.messages[g[0][3]]["template"], index.messages[i]["template"])), None)
        if home is not None:
            home.append(entry)
        elif len(groups) < limit:
            groups.append([entry])
    matches = []
    for group in groups:
        # the identical message's leader: the case whose own pattern is most specific, then the most
        # common cause (the case most public reports name); sort is stable, so then the ranking's order
        group.sort(key=lambda e: (-round(e[4], 4), -int(index.cases[e[2]].get("public_reports", 0))))
        _, score, cid, i, _ = group[0]
        case = index.cases[cid]
        doc = index.messages[i]
        variants = [e[2] for e in group[1:]]
        matches.append(Match(
            id=cid, family=case["family"], title=case["title"], score=round(score, 3), band=band_of(score),
            cause=case["cause"], fix=case["fix"], fix_snippet=case["fix_snippet"],
            fix_verified_on=_verified(index, case, tf, keras, device),
            observed_on=_observed_on(index, cid, sims),
            matched_message=doc["message"], matched_origin=doc["origin"], same_message_as=variants,
            variants=variants, variant_families=[index.cases[c]["family"] for c in variants],
            public_reports=int(case.get("public_reports", 0))))
    return Answer(query_exception=qexc, query_template=qtemplate, matches=matches, nearest_families=
                  [(f, round(s, 3)) for f, s in nearest], generic=generic, narrowed=narrowing, generation=generation,
                  uncased=uncased)


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
        elif doc["origin"] == "reported":
            out.append({"versions": doc.get("versions", ""), "device": doc.get("device", ""),
                        "backend": doc.get("backend", ""), "source": doc.get("source"), "verified": False,
                        "reported": True})
    return out
