"""Stage 6: the results file, the unit that matrix jobs write and ``lstm-atlas report`` merges.

Schema: ``harness/lstm_atlas/matrix/results.schema.json`` (``schema_version`` 2; version 1 files,
which lack the run's exit status, are still read). Written atomically
(:func:`lstm_atlas.files.write_bytes_atomic`). The plugin rewrites it as items start, so
``run.interrupted`` is true until the session finishes and writes ``run.exit_status``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from functools import lru_cache
from importlib import resources

import jsonschema

from lstm_atlas.errors import InputError
from lstm_atlas.files import now_iso, read_json_file

SCHEMA_NAME = RESULTS_SCHEMA_NAME = "lstm-atlas-results"
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)


#: nodeids of atlas items: a YAML file, then ``<case id>[<variant>-<device>]`` or ``<stem>[invalid]``
NODEID_RE = re.compile(r"^(?P<file>.+\.ya?ml)::(?P<case>[^\[]+)"
                       r"\[(?P<variant>repro|fix|invalid)(?:-(?P<device>[^\]]+))?\]$")


@lru_cache(maxsize=None)
def results_schema() -> dict:
    return json.loads(resources.files("lstm_atlas.matrix").joinpath("results.schema.json").read_text("utf-8"))


def validate_results(data: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if ``data`` is not a valid results document."""
    jsonschema.Draft202012Validator(results_schema()).validate(data)


def device_kind(device: str | None) -> str | None:
    """``gpu`` for gpu, gpu0, ...; ``cpu`` for cpu, cpu0, ...; None for an item with no device."""
    if device is None:
        return None
    return "gpu" if device.startswith("gpu") else "cpu"


def item_record(nodeid: str, case_id: str, file: str | None, variant: str, device: str | None, **fields) -> dict:
    """One item of a results file, with every key the schema expects; ``fields`` fill or override.

    The one builder of item records: the plugin's items, stand-ins for items that left no record
    (a dead worker, a skip at setup) and the crash cells a merge makes for a dead run's items.
    """
    record = {"nodeid": nodeid, "case_id": case_id, "file": file, "variant": variant, "device": device,
              "device_kind": device_kind(device), "family": None, "tags": [], "claim": None,
              "claim_verdict": None, "expected": None, "observed": None, "mismatches": [], "reason": None}
    record.update(fields)
    return record


def record_from_nodeid(nodeid: str, verdict: str, reason: str) -> dict | None:
    """The record of an atlas item known only by its nodeid; None for a nodeid that is not one."""
    m = NODEID_RE.match(nodeid)
    if m is None:
        return None
    return item_record(nodeid, m.group("case"), m.group("file"), m.group("variant"), m.group("device"),
                       verdict=verdict, reason=reason)


def case_summary(case, file: str | None = None) -> dict:
    spec = case.spec
    claims = {}
    if spec.get("claim"):
        claims["repro"] = spec["claim"]
    if spec["fix"].get("claim"):
        claims["fix"] = spec["fix"]["claim"]
    return {"title": spec["title"], "family": spec["family"], "tags": list(spec.get("tags", [])),
            "symptom": spec.get("symptom"), "cause": spec.get("cause"),
            "fix_explanation": spec["fix"].get("explanation"), "source": spec.get("source", {}),
            "file": file or case.path, "claims": claims}


def build_results(environment: dict | None, items: list[dict], cases: dict, run: dict) -> dict:
    summary = Counter(item["verdict"] for item in items)
    claim_counts = Counter(item.get("claim_verdict") for item in items if item.get("claim_verdict"))
    summary.update({f"claim_{k}": v for k, v in claim_counts.items()})
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "created": now_iso(),
        "environment": environment,
        "run": run,
        "cases": cases,
        "items": sorted(items, key=lambda i: i["nodeid"]),
        "summary": dict(sorted(summary.items())),
    }


def results_text(environment: dict | None, items: list[dict], cases: dict, run: dict,
                 encoded: dict[str, str] | None = None) -> str:
    """The results document as JSON text, one line per item.

    ``encoded`` caches each item's text by nodeid, so rewriting the file after every item
    encodes each item once, not once per write (the caller drops an entry it replaces).
    """
    encoded = {} if encoded is None else encoded
    doc = build_results(environment, items, cases, run)
    texts = []
    for item in doc["items"]:
        text = encoded.get(item["nodeid"])
        if text is None:
            text = encoded[item["nodeid"]] = json.dumps(item, default=str)
        texts.append(text)
    placeholder = f"@@items-{uuid.uuid4().hex}@@"
    doc["items"] = placeholder
    head = json.dumps(doc, indent=1, default=str)
    body = "[\n" + ",\n".join(texts) + "\n ]" if texts else "[]"
    return head.replace(json.dumps(placeholder), body, 1) + "\n"


def check_results(data: dict, path: str | os.PathLike) -> dict:
    """``data`` if it is a results document this harness reads; otherwise :class:`InputError`."""
    if data.get("schema") != SCHEMA_NAME:
        raise InputError(f"{path}: not an lstm-atlas results file (schema {data.get('schema')!r})")
    if data.get("schema_version") not in READABLE_VERSIONS:
        raise InputError(f"{path}: results schema_version {data.get('schema_version')!r} is not supported "
                         f"(this harness reads {', '.join(map(str, READABLE_VERSIONS))})")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(results_schema()).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise InputError(f"{path}: does not follow the results schema at {where}: {error.message[:200]}")
    return data


def read_results(path: str | os.PathLike) -> dict:
    return check_results(read_json_file(path), path)


def run_state(data: dict) -> tuple[str, str | None]:
    """('complete' | 'partial', why) for a results document; version 1 files were written at the end."""
    run = data.get("run") or {}
    if data.get("schema_version", 1) < 2:
        return "complete", None
    if run.get("running"):
        return "partial", (f"the run died while running {', '.join(run['running'][:3])}"
                           + (" and more" if len(run["running"]) > 3 else ""))
    if run.get("interrupted"):
        status = run.get("exit_status")
        return "partial", "the run was interrupted" + (f" (exit status {status})" if status is not None else "")
    if not run.get("complete"):
        return "partial", (f"{run.get('recorded_items')} of {run.get('expected_items')} items have a result "
                           f"(exit status {run.get('exit_status')})")
    return "complete", None
