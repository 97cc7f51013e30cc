"""``lstm-atlas fuzz reattribute``: recompute every map's attribution from its stored outcomes.

Running the corpus on TensorFlow and deciding what explains each outcome are separate steps: a
replay keeps each example's raw outcome (status, stage, exception type and full message, detail;
:func:`~lstm_atlas.fuzz.errormap.raw_outcome`), so after a case, the allow file or the triage
record changes, the signatures, attributions, summaries, heatmaps, the index and its transitions
are rebuilt here from those outcomes, without TensorFlow and in seconds. The examples are the
folder's corpus: an outcome whose example the corpus no longer holds (dropped, with its reason, as
a harness artefact) is left out, and a corpus example the map has no outcome for is an error (that
map needs a replay). Only maps whose content changes are rewritten, each file atomically.
"""

from __future__ import annotations

from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.files import now_iso
from lstm_atlas.fuzz.corpus import CORPUS_FILE, read_corpus, replay_order
from lstm_atlas.fuzz.errormap import MAP_SCHEMA, FuzzMap, read_maps, write_index, write_map
from lstm_atlas.fuzz.oracle import ALLOW_FILE, TRIAGE_FILE, Oracle, outcome_signature
from lstm_atlas.fuzz.publish import PublishLock

#: Summary fields that describe the replay run itself (timings), kept from the map as it was.
RUN_FIELDS = ("models_reused", "wall_seconds", "examples_per_second", "by_step", "worker_restarts")
#: Top-level fields that describe the run, kept as they were.
KEPT_FIELDS = ("environment", "profile", "seed", "started", "updated", "complete", "interrupted", "attributed")


def reattribute_map(data: dict, entries: list[dict], corpus: str, oracle: Oracle,
                    candidates_dir: Path | None = None) -> dict:
    """The map ``data`` attributed again by ``oracle`` over the corpus ``entries`` (``[{id, example}]``).

    With ``candidates_dir``, each signature that some example leaves unexplained, and that the triage
    record does not name, gets a candidate case there (``<dir>/<env>/fuzz-*.yaml``, from its first
    example), written only when new or changed."""
    outcomes = data.get("outcomes") or {}
    missing = [e["id"] for e in entries if e["id"] not in outcomes]
    if missing:
        raise InputError(f"{data.get('env')}/map.json: outcomes: no outcome for {len(missing)} corpus examples "
                         f"(first {missing[0]}); replay this environment")
    fmap = FuzzMap(data["environment"], data.get("profile") or "replay", data.get("seed"), corpus=corpus,
                   family_of=oracle.family_of)
    first: dict[str, dict] = {}
    for entry in replay_order(entries):
        stored = outcomes[entry["id"]]
        if not isinstance(stored.get("raw"), dict):
            raise InputError(f"{data.get('env')}/map.json: outcomes.{entry['id']}: no raw outcome (the map "
                             f"predates them); replay this environment")
        outcome = dict(stored["raw"])
        outcome["signature"] = outcome_signature(outcome)
        record = fmap.add(entry["example"], outcome, oracle.explain(outcome, entry["example"]))
        if record["minimal_example"] is None:
            record["minimal_example"] = entry["example"]
            first[record["signature"]] = outcome
    if candidates_dir is not None:
        kept = set()
        for sig, record in fmap.signatures.items():
            if record["explained_count"] < record["count"] and record["status"] in ("raised", "crash", "timeout") \
                    and not oracle.is_triaged(sig):
                record["candidate"] = _write_candidate(candidates_dir, record, first[sig], data["environment"])
                kept.add(Path(record["candidate"]).name)
        _prune_candidates(Path(candidates_dir), data["environment"], kept)
    new = fmap.to_json()
    for key in KEPT_FIELDS:
        if key in data:
            new[key] = data[key]
    for key in RUN_FIELDS:
        if key in (data.get("summary") or {}):
            new["summary"][key] = data["summary"][key]
    return new


def _write_candidate(directory: Path, record: dict, outcome: dict, environment: dict) -> str:
    """The signature's candidate case file (unchanged files are left alone); returns its path."""
    from lstm_atlas.fuzz.candidates import build_candidate, write_candidate
    from lstm_atlas.versions import env_key

    case = build_candidate(record["signature"], record["first_example"], outcome, environment, record["count"])
    folder = Path(directory) / env_key(environment)
    path = folder / f"{case['id']}.yaml"
    if path.exists():
        return str(path)  # written before: its text may already carry a reviewer's notes
    return str(write_candidate(folder, case))


def _prune_candidates(directory: Path, environment: dict, kept: set[str]) -> None:
    """Remove this environment's candidate files whose signature every example now has explained: the folder
    keeps only what is untriaged (their disposition is the case, allow entry or triage row that explains them)."""
    from lstm_atlas.versions import env_key

    for path in (Path(directory) / env_key(environment)).glob("fuzz-*.yaml"):
        if path.name not in kept:
            path.unlink()


def _oracle_env(environment: dict) -> dict:
    """The environment as :func:`~lstm_atlas.engine.match.effective_expectation` reads it (a replay runs on CPU)."""
    return dict(environment, device_kind="cpu")


def reattribute(fuzz_dir: str | Path, cases_dir: str | Path = "cases", merged="reports/merged.json",
                allow=ALLOW_FILE, triage=None, candidates_dir: str | Path | None = None) -> dict:
    """Re-attribute every map under ``fuzz_dir``; returns ``{"changed": [env...], "unchanged": [...],
    "maps": [map...], "written": [path...]}``. The index is rebuilt when any map changed."""
    from lstm_atlas.case.library import load_library

    fuzz_dir = Path(fuzz_dir)
    corpus = read_corpus(fuzz_dir / CORPUS_FILE)
    library = load_library(cases_dir)
    triage = fuzz_dir / TRIAGE_FILE if triage is None else triage
    result: dict = {"changed": [], "unchanged": [], "maps": [], "written": []}
    with PublishLock(fuzz_dir):  # a replay publishing meanwhile waits, and is re-attributed next time
        maps = read_maps(fuzz_dir)
        if not maps:
            raise InputError(f"{fuzz_dir}: no {MAP_SCHEMA} maps (*/map.json) to re-attribute")
        for data in maps:
            oracle = Oracle.from_library(library, _oracle_env(data["environment"]), merged, allow, triage)
            new = reattribute_map(data, corpus["examples"], corpus["corpus"], oracle,
                                  Path(candidates_dir) if candidates_dir is not None else None)
            if new == data:
                result["unchanged"].append(data["env"])
                result["maps"].append(data)
                continue
            new["attributed"] = now_iso()
            result["written"] += [str(p) for p in write_map(new, fuzz_dir / data["env"])]
            result["changed"].append(data["env"])
            result["maps"].append(new)
        if result["changed"] or not (fuzz_dir / "index.md").exists():
            result["written"] += [str(p) for p in write_index(fuzz_dir)]
    return result
