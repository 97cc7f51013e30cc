"""Family-level evidence: which families a paste's words belong to, for "no known case" answers.

A message no case explains still says much about its failure mode in words the templates hide
or that no single case's message holds: a dtype (``DT_HALF``, ``float16``), an API
(``reset_states``, ``TFLiteConverter``), a layer argument (``stateful=True``), a frame's
function (``convert``). Each family's profile is the words of its cases' titles, causes, fixes
and symptoms and of its documents, weighted by how few families use them (a word every
family uses says nothing). A paste's words are compared with each profile; the result only
reorders the nearest families, it never makes an answer known.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,}")
#: "File "/x/y.py", line 3, in fit": of a frame line only the function it names is evidence.
_FRAME_RE = re.compile(r"""^\s*File "(?P<path>[^"]*)", line \d+, in (?P<func>\w+)|"""
                       r"""^\s*(?P<path2>\S+\.py):?\s+in\s+(?P<func2>\w+)""")
#: A frame in an installed package: the code line under it is the library's, not the user's.
_LIBRARY_RE = re.compile(r"site-packages|dist-packages|[/\\]lib[/\\]python\d|[/\\]Lib[/\\]")
#: Words of paths, prose and Python that every kind of error shows.
_STOP = frozenset("""the and for with that this not are was but has have from you your use using when which than
into its can will must should could would one two all any may also been being other only such then there these
they what where while were does did shape shapes none true false self args kwargs return line file lib site
packages python dist local usr home users anaconda envs src error value type object received expected got""".split())
#: One spelling per dtype, so TF's names meet NumPy's and Keras's.
_ALIASES = {"half": "float16", "double": "float64", "float": "float32"}
#: Most words read from one text: a pasted log may be long, its evidence is not.
MAX_WORDS = 4000


def words(text: str) -> list[str]:
    """Lower-case words of a text; an identifier also gives its parts (``reset_states``: ``reset``, ``states``)."""
    out: list[str] = []
    for w in _WORD_RE.findall(text[:200_000]):
        w = w.lower().removeprefix("dt_")  # TF's DT_HALF is NumPy's float16
        w = _ALIASES.get(w, w)
        if w in _STOP:
            continue
        out.append(w)
        if "_" in w:
            out += [p for p in w.split("_") if len(p) > 2 and p not in _STOP]
        if len(out) >= MAX_WORDS:
            break
    return out


def paste_words(text: str) -> Counter:
    """A paste's words: its message and code lines whole, of each frame line only the function name."""
    kept = []
    library = False
    for line in text.splitlines()[-400:]:
        m = _FRAME_RE.match(line)
        if m:
            kept.append(m.group("func") or m.group("func2"))
            library = bool(_LIBRARY_RE.search(m.group("path") or m.group("path2") or ""))
        elif not (library and line.startswith((" ", "\t"))):
            kept.append(line)
            library = False
    return Counter(words("\n".join(kept)))


class FamilyProfiles:
    """TF-IDF profiles of the families, built from the loaded index (so a report held out is left out).

    A word counts once per case (its title, cause, fix and symptom) and once per distinct document wording.
    """

    def __init__(self, cases: dict, messages: list[dict], family_messages: list[dict]):
        bags: dict[str, Counter] = defaultdict(Counter)
        for case in cases.values():
            prose = " ".join(str(case.get(k, "")) for k in ("title", "cause", "fix", "symptom"))
            bags[case["family"]].update(set(words(prose)))
        seen: set = set()
        for doc in messages:
            key = (doc["case"], doc["message"])
            if doc["origin"] == "symptom" or key in seen or doc["case"] not in cases:
                continue
            seen.add(key)
            bags[cases[doc["case"]]["family"]].update(set(words(doc["message"])))
        for doc in family_messages:
            bags[doc["family"]].update(set(words(doc.get("message") or doc["template"])))
        n = len(bags) or 1
        df = Counter(w for bag in bags.values() for w in bag)
        self.idf = {w: math.log(n / c) for w, c in df.items()}
        self.vectors: dict[str, dict] = {}
        for fam, bag in bags.items():
            vec = {w: (1 + math.log(c)) * self.idf[w] for w, c in bag.items() if self.idf[w] > 0}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.vectors[fam] = {w: v / norm for w, v in vec.items()}

    def scores(self, paste: Counter) -> dict[str, float]:
        """Family -> cosine of the paste's words with its profile (0 when they share no distinctive word)."""
        qvec = {w: (1 + math.log(c)) * self.idf[w] for w, c in paste.items() if self.idf.get(w, 0) > 0}
        norm = math.sqrt(sum(v * v for v in qvec.values())) or 1.0
        return {fam: sum(v * vec.get(w, 0.0) for w, v in qvec.items()) / norm for fam, vec in self.vectors.items()}
