"""Stage 6: the results file, the unit that matrix jobs write and ``lstm-atlas report`` merges.

Schema: ``lstm_atlas/schema/results.schema.json`` (``schema_version`` 2; version 1 files,
which lack the run's exit status, are still read). Written atomically: a temporary file in the
same folder, fsynced, then renamed over the target. The plugin rewrites it as items start, so
``run.interrupted`` is true until the session finishes and writes ``run.exit_status``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import tempfile
import uuid
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema

from .errors import InputError

SCHEMA_NAME = RESULTS_SCHEMA_NAME = "lstm-atlas-results"
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)


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


def write_json_atomic(path: str | os.PathLike, data, durable: bool = True) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a torn one."""
    text = data if isinstance(data, str) else json.dumps(data, indent=1, sort_keys=False, default=str) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)  # encoding fails before any file exists


def write_or_check_generated(path: str | os.PathLike, text: str, remedy: str, check: bool = False) -> int:
    """Write a committed, generated file (atomically), or with ``check`` only say whether it is current.

    The exit status of the command that generates it: 1 when ``check`` finds it stale.
    """
    target = Path(path)
    if check:
        current = target.read_text("utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run `{remedy}` and commit it", file=sys.stderr)
            return 1
        print(f"{target} is current")
        return 0
    write_bytes_atomic(target, text.encode("utf-8"))
    print(f"wrote {target}")
    return 0


def write_bytes_atomic(path: str | os.PathLike, content: bytes, durable: bool = True) -> None:
    """Temporary file in the target's folder, fsynced, then renamed over the target.

    ``durable=False`` skips the fsync: still atomic for readers and for a crash of this
    process (the rename is), only not across a power cut; used for the per-item rewrites.
    """
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
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json_file(path: str | os.PathLike) -> dict:
    """A JSON object from ``path``; :class:`InputError` (one line) if it is missing or not JSON."""
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not an lstm-atlas file (a JSON {type(data).__name__}, not an object)")
    return data


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
