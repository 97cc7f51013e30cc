"""Merge results files from many environments (tox envs, CI jobs) into one matrix.

Pure data: partial sets and differing case lists are fine; a cell that was not run is
absent. What is never silent: a file without an environment (the run died before any item)
is listed in ``missing``, and an interrupted or incomplete run is marked ``partial`` with the
reason in ``runs`` (items it was running when it died become ``crash`` cells).

Inputs may be results files or a merged file (``reports/merged.json``, which holds every
environment's cells), so the committed report can be queried and extended on a fresh clone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.files import read_json_file
from lstm_atlas.matrix.results import RESULTS_SCHEMA_NAME, check_results, record_from_nodeid, run_state
from lstm_atlas.normalise import message_core
from lstm_atlas.versions import env_identity, env_key, env_sort_key, identity_tag

MERGED_SCHEMA = "lstm-atlas-merged"
MERGED_VERSION = 2
READABLE_MERGED_VERSIONS = (1, 2)
MESSAGE_CELL_CHARS = 600
#: Verdicts that hide nothing; another device of the same kind with a worse one wins the cell.
QUIET_VERDICTS = ("pass", "skip")


def cell_of(item: dict) -> dict:
    """The part of an item a report shows: verdict, what was raised where, claim verdict."""
    obs = item.get("observed") or {}
    exc = obs.get("exception") or {}
    # recomputed, so files written by older harness versions merge with the same wording
    message = message_core(exc["message"]) if exc.get("message") else ""
    return {
        "verdict": item["verdict"],
        "status": obs.get("status"),
        "stage": obs.get("stage"),
        "exception": f"{exc['module']}.{exc['type']}" if exc else None,
        "exception_type": exc.get("type"),
        "message": message[:MESSAGE_CELL_CHARS],
        "claim_verdict": item.get("claim_verdict"),
        "mismatches": item.get("mismatches", []),
        "expected": item.get("expected"),
        "unverified": item.get("unverified", False),
        "reason": item.get("reason"),
        "loss": (obs.get("outcome") or {}).get("loss"),
        "device": item.get("device"),
        # reused from the result cache: the report shows when it was really observed
        "observed_at": item.get("observed_at") if item.get("cached") else None,
    }


def _died_in(nodeid: str) -> dict | None:
    """A crash item for an item a dead run was running (its nodeid is all that is known)."""
    item = record_from_nodeid(nodeid, "crash", "the run died while this item was running (no result was written)")
    return item if item is not None and item["variant"] != "invalid" else None


@dataclass
class Matrix:
    environments: dict  # key -> environment, sorted by TF version
    cases: dict  # case id -> case summary
    cells: dict  # (case_id, variant, device_kind) -> {env key: cell}
    invalid: dict  # env key -> list of invalid-file items
    sources: dict  # env key -> results file path
    runs: dict = field(default_factory=dict)  # env key -> {"state": complete|partial, "reason", "exit_status"}
    missing: list = field(default_factory=list)  # [{"source", "reason"}]: files with no environment
    #: When the newest input was written (its ``created``), never the clock: regenerating from the
    #: same inputs writes the same bytes.
    created: str | None = None

    def to_json(self) -> dict:
        results: dict = {}
        for (case_id, variant, device), by_env in sorted(self.cells.items()):
            results.setdefault(case_id, {}).setdefault(variant, {})[device] = by_env
        return {"schema": MERGED_SCHEMA, "schema_version": MERGED_VERSION, "created": self.created,
                "environments": self.environments, "sources": self.sources, "runs": self.runs,
                "missing": self.missing, "cases": self.cases, "invalid": self.invalid, "results": results}

    def env_keys(self) -> list[str]:
        return list(self.environments)

    def problems(self) -> list[dict]:
        """Every environment that is missing or partial, with the reason, for the report."""
        out = [{"env": None, "state": "missing", "source": m["source"], "reason": m["reason"]} for m in self.missing]
        out += [{"env": key, "state": run["state"], "source": self.sources.get(key), "reason": run.get("reason")}
                for key, run in self.runs.items() if run.get("state") != "complete"]
        return out


@dataclass
class _EnvPart:
    """One environment's contribution to a matrix, from a results file or from a merged file."""

    key: str
    source: str
    environment: dict
    cases: dict
    cells: dict  # (case_id, variant, device_kind) -> cell
    invalid: list
    run: dict
    #: The file this part was read from (a merged file's parts keep their results file as ``source``).
    origin: str = ""

    def named(self) -> str:
        return self.source if not self.origin or self.origin == self.source else f"{self.source} (in {self.origin})"


def _worse(existing: dict, new: dict) -> dict:
    """Two devices of one kind (logical CPUs cpu0, cpu1): a failure on either must show."""
    chosen = new if existing["verdict"] in QUIET_VERDICTS and new["verdict"] not in QUIET_VERDICTS else existing
    per_device = dict(existing.get("per_device") or {existing.get("device"): existing["verdict"]})
    per_device[new.get("device")] = new["verdict"]
    return dict(chosen, per_device=per_device)


def _part_from_results(path: str, doc: dict) -> _EnvPart | dict:
    """An :class:`_EnvPart`, or a ``missing`` entry when the file has no environment."""
    state, reason = run_state(doc)
    if doc.get("environment") is None:
        why = "no item ran, so the file names no environment"
        return {"source": path, "reason": why + (f"; {reason}" if reason else "")}
    key = env_key(doc["environment"])
    cells: dict = {}
    invalid = []
    items = list(doc["items"])
    items += [i for i in map(_died_in, (doc.get("run") or {}).get("running", [])) if i is not None]
    for item in items:
        if item["verdict"] == "invalid":
            invalid.append({"case_id": item["case_id"], "reason": item.get("reason")})
            continue
        cell_key = (item["case_id"], item["variant"], item.get("device_kind") or "cpu")
        cell = cell_of(item)
        cells[cell_key] = _worse(cells[cell_key], cell) if cell_key in cells else cell
    run = {"state": state, "reason": reason, "exit_status": (doc.get("run") or {}).get("exit_status")}
    return _EnvPart(key, path, doc["environment"], doc.get("cases", {}), cells, invalid, run)


def _parts_from_merged(path: str, doc: dict) -> tuple[list[_EnvPart], list[dict]]:
    parts = {key: _EnvPart(key, doc.get("sources", {}).get(key, path), env, doc.get("cases", {}), {},
                           doc.get("invalid", {}).get(key, []),
                           doc.get("runs", {}).get(key, {"state": "complete", "reason": None, "exit_status": None}),
                           origin=path)
             for key, env in doc.get("environments", {}).items()}
    for case_id, variants in doc.get("results", {}).items():
        for variant, devices in variants.items():
            for device, by_env in devices.items():
                for key, cell in by_env.items():
                    if key in parts:
                        parts[key].cells[(case_id, variant, device)] = cell
    return list(parts.values()), list(doc.get("missing", []))


def _place(by_env: dict, part: _EnvPart, replace: bool) -> None:
    """Put ``part`` under its key: never silently over another environment's results.

    The same key and the same identity (:func:`env_identity`) is two runs of one environment:
    an error naming both files unless ``replace`` asks for the later one. The same key for
    another identity (two venvs both named ``.venv`` on TF 2.21 with another numpy) is another
    environment: it gets the key plus a tag of its identity.
    """
    held = by_env.get(part.key)
    if held is None:
        by_env[part.key] = part
        return
    if env_identity(held.environment) == env_identity(part.environment):
        if not replace:
            raise InputError(f"{held.named()} and {part.named()} both hold environment {part.key} "
                             "(same versions and devices); pass --replace to keep the later one")
        by_env[part.key] = part
        return
    part.key = f"{part.key}-{identity_tag(part.environment)}"
    _place(by_env, part, replace)


def combine(parts: list[_EnvPart], missing: list[dict] | None = None, replace: bool = False,
            created: str | None = None) -> Matrix:
    """Environments into one matrix; one environment twice is an error unless ``replace`` (the later wins)."""
    by_env: dict[str, _EnvPart] = {}
    for part in parts:
        _place(by_env, part, replace)
    ordered = sorted(by_env.values(), key=lambda part: env_sort_key(part.environment))
    environments, cases, cells, invalid, sources, runs = {}, {}, {}, {}, {}, {}
    for part in ordered:
        environments[part.key] = part.environment
        sources[part.key] = part.source
        runs[part.key] = part.run
        for case_id, summary in part.cases.items():
            cases.setdefault(case_id, summary)
        if part.invalid:
            invalid[part.key] = part.invalid
        for cell_key, cell in part.cells.items():
            cells.setdefault(cell_key, {})[part.key] = cell
    return Matrix(environments, dict(sorted(cases.items())), cells, invalid, sources, runs, list(missing or []),
                  created=created)


def merge(documents: list[tuple[str, dict]], replace: bool = False) -> Matrix:
    """Merge (path, document) pairs: results documents and merged documents alike, in order.

    ``replace``: a later file for an environment already read replaces it (else an error).
    """
    parts: list[_EnvPart] = []
    missing: list[dict] = []
    for path, doc in documents:
        if doc.get("schema") == MERGED_SCHEMA:
            more, gone = _parts_from_merged(path, doc)
            parts += more
            missing += gone
            continue
        part = _part_from_results(path, doc)
        if isinstance(part, dict):
            missing.append(part)
        else:
            parts.append(part)
    return combine(parts, missing, replace, created=newest_created(doc for _, doc in documents))


def newest_created(documents) -> str | None:
    """The latest ``created`` time of the inputs (ISO 8601 in UTC, so the strings sort as times)."""
    stamps = [doc["created"] for doc in documents if isinstance(doc.get("created"), str)]
    return max(stamps) if stamps else None


def _check_merged(doc: dict, path) -> None:
    """:class:`InputError` (one line) where a merged file is not shaped as the readers expect."""
    def bad(where: str, what: str):
        return InputError(f"{path}: malformed merged file at {where}: {what}")

    for key in ("sources", "runs", "invalid", "cases"):
        if not isinstance(doc.get(key, {}), dict):
            raise bad(key, "not a JSON object")
    for key, env in doc["environments"].items():
        if not isinstance(env, dict) or not isinstance(env.get("tensorflow"), str):
            raise bad(f"environments/{key[:80]}", "not an environment with a 'tensorflow' version")
    for key, run in doc.get("runs", {}).items():
        if not isinstance(run, dict):
            raise bad(f"runs/{key[:80]}", "not a JSON object")
    for key, entries in doc.get("invalid", {}).items():
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise bad(f"invalid/{key[:80]}", "not a list of objects")
    missing = doc.get("missing", [])
    if not isinstance(missing, list) or not all(isinstance(m, dict) for m in missing):
        raise bad("missing", "not a list of objects")
    for case_id, variants in doc["results"].items():
        levels = [(f"results/{case_id[:80]}", variants)]
        for _depth in range(2):  # case -> variant -> device -> env -> cell
            nxt = []
            for where, node in levels:
                if not isinstance(node, dict):
                    raise bad(where, "not a JSON object")
                nxt += [(f"{where}/{k[:40]}", v) for k, v in node.items()]
            levels = nxt
        for where, by_env in levels:
            if not isinstance(by_env, dict):
                raise bad(where, "not a JSON object")
            for env, cell in by_env.items():
                if not isinstance(cell, dict) or not isinstance(cell.get("verdict"), str):
                    raise bad(f"{where}/{env[:40]}", "not a cell with a 'verdict'")


def read_input(path: str | Path) -> dict:
    """A results or merged document from ``path``; :class:`InputError` (one line) for anything else."""
    doc = read_json_file(path)
    if doc.get("schema") == MERGED_SCHEMA:
        if doc.get("schema_version") not in READABLE_MERGED_VERSIONS:
            raise InputError(f"{path}: merged schema_version {doc.get('schema_version')!r} is not supported "
                             f"(this harness reads {', '.join(map(str, READABLE_MERGED_VERSIONS))})")
        if not isinstance(doc.get("environments"), dict) or not isinstance(doc.get("results"), dict):
            raise InputError(f"{path}: merged file lacks its 'environments' or 'results' object")
        _check_merged(doc, path)
        return doc
    if doc.get("schema") == RESULTS_SCHEMA_NAME:
        return check_results(doc, path)
    raise InputError(f"{path}: not an lstm-atlas results or merged file (schema {doc.get('schema')!r})")


def read_merged(path: str | Path, missing_ok: bool = False) -> dict | None:
    """The merged matrix at ``path`` (``reports/merged.json``), checked like any input.

    The one reader of merged files: the report, the catalogue, the explain index and the fuzz
    oracle all read it here. ``missing_ok``: None when the file does not exist (a fresh
    project has no matrix yet); anything else that is wrong is :class:`InputError`.
    """
    if missing_ok and not Path(path).exists():
        return None
    doc = read_input(path)
    if doc.get("schema") != MERGED_SCHEMA:
        raise InputError(f"{path}: a results file, not a merged matrix (run `lstm-atlas report` on it first)")
    return doc


def merge_files(paths, replace: bool = False) -> Matrix:
    return merge([(str(p), read_input(p)) for p in paths], replace)


def pick_env(matrix: Matrix, selector: str) -> str:
    """An env key by exact name (tf215) or TF version prefix (2.15, 2.15.1); non-legacy preferred."""
    if selector in matrix.environments:
        return selector
    hits = [k for k, env in matrix.environments.items()
            if env["tensorflow"] == selector or env["tensorflow"].startswith(selector + ".")]
    hits.sort(key=lambda k: matrix.environments[k].get("legacy_keras", False))
    if not hits:
        known = ", ".join(f"{k} (TF {e['tensorflow']})" for k, e in matrix.environments.items())
        raise KeyError(f"no results for '{selector}'; have: {known or 'none'}")
    return hits[0]
