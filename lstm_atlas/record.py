"""Stage 6: the results file, the unit that matrix jobs write and ``lstm-atlas report`` merges.

Schema: ``lstm_atlas/schema/results.schema.json`` (``schema_version`` 1). Written atomically:
a temporary file in the same folder, fsynced, then renamed over the target.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema

SCHEMA_NAME = "lstm-atlas-results"
SCHEMA_VERSION = 1


@lru_cache(maxsize=None)
def results_schema() -> dict:
    return json.loads(resources.files("lstm_atlas").joinpath("schema/results.schema.json").read_text("utf-8"))


def validate_results(data: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if ``data`` is not a valid results document."""
    jsonschema.Draft202012Validator(results_schema()).validate(data)


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


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


def write_json_atomic(path: str | os.PathLike, data) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a torn one."""
    text = json.dumps(data, indent=1, sort_keys=False, default=str) + "\n"  # fails before any file exists
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, content: bytes) -> None:
    """Temporary file in the target's folder, fsynced, then renamed over the target."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_results(path: str | os.PathLike) -> dict:
    data = json.loads(Path(path).read_text("utf-8"))
    if data.get("schema") != SCHEMA_NAME:
        raise ValueError(f"{path}: not an lstm-atlas results file")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: results schema_version {data.get('schema_version')} is not supported "
                         f"(this harness reads {SCHEMA_VERSION})")
    validate_results(data)
    return data
