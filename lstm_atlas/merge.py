"""Merge results files from many environments (tox envs, CI jobs) into one matrix.

Pure data: partial sets, missing environments and differing case lists are all fine;
a cell that was not run is simply absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .observe import message_core
from .record import now_iso, read_results

MERGED_SCHEMA = "lstm-atlas-merged"
MERGED_VERSION = 1
MESSAGE_CELL_CHARS = 600


def env_key(environment: dict) -> str:
    """A stable column name: the env name tox/CI gave, else tf<version>[-legacy]."""
    name = environment.get("env_name") or ""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", name) and name not in (".venv", "venv"):
        return name
    key = "tf" + environment["tensorflow"]
    return key + ("-legacy" if environment.get("legacy_keras") else "")


def _version_key(environment: dict):
    try:
        v = Version(Version(environment["tensorflow"]).base_version)
    except (InvalidVersion, KeyError):
        v = Version("0")
    return (v, environment.get("legacy_keras", False), environment.get("keras", ""))


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
        # reused from the result cache: the report shows when it was really observed
        "observed_at": item.get("observed_at") if item.get("cached") else None,
    }


@dataclass
class Matrix:
    environments: dict  # key -> environment, sorted by TF version
    cases: dict  # case id -> case summary
    cells: dict  # (case_id, variant, device_kind) -> {env key: cell}
    invalid: dict  # env key -> list of invalid-file items
    sources: dict  # env key -> results file path

    def to_json(self) -> dict:
        results: dict = {}
        for (case_id, variant, device), by_env in sorted(self.cells.items()):
            results.setdefault(case_id, {}).setdefault(variant, {})[device] = by_env
        return {"schema": MERGED_SCHEMA, "schema_version": MERGED_VERSION, "created": now_iso(),
                "environments": self.environments, "sources": self.sources, "cases": self.cases,
                "invalid": self.invalid, "results": results}

    def env_keys(self) -> list[str]:
        return list(self.environments)


def merge(documents: list[tuple[str, dict]]) -> Matrix:
    """Merge (path, results document) pairs; a later file for the same env replaces an earlier one."""
    by_env: dict[str, tuple[str, dict]] = {}
    for path, doc in documents:
        if doc.get("environment") is None:
            continue
        by_env[env_key(doc["environment"])] = (path, doc)
    ordered = sorted(by_env.items(), key=lambda kv: _version_key(kv[1][1]["environment"]))
    environments, cases, cells, invalid, sources = {}, {}, {}, {}, {}
    for key, (path, doc) in ordered:
        environments[key] = doc["environment"]
        sources[key] = path
        for case_id, summary in doc.get("cases", {}).items():
            cases.setdefault(case_id, summary)
        for item in doc["items"]:
            if item["verdict"] == "invalid":
                invalid.setdefault(key, []).append({"case_id": item["case_id"], "reason": item.get("reason")})
                continue
            cell_key = (item["case_id"], item["variant"], item.get("device_kind") or "cpu")
            slot = cells.setdefault(cell_key, {})
            # with logical CPUs split, keep the first device's cell per kind
            slot.setdefault(key, cell_of(item))
    return Matrix(environments, dict(sorted(cases.items())), cells, invalid, sources)


def merge_files(paths) -> Matrix:
    return merge([(str(p), read_results(p)) for p in paths])


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
