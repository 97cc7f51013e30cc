"""The wild corpus: public error reports under ``wild/{tune,frozen}/*.yaml`` (format: ``wild/README.md``),
read by explain, its accuracy benchmark and the catalogue.

Read with the case files' safe YAML rules (no aliases, no tags, bounded depth, unique keys, size
checked before reading), validated against ``wild/report.schema.json``; every error is one line
located as ``path:line: field``. Across files, ids and URLs are unique, and a report's ``case``
exists and has the family the report gives. ``tune`` reports may become index documents; ``frozen``
ones never do (they measure explain on what it was not tuned on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from lstm_atlas.case import load as case_load
from lstm_atlas.errors import CaseError, InputError
from lstm_atlas.files import read_bounded

SPLITS = ("tune", "frozen")
#: Largest corpus file: 1000 reports (the schema's cap) of a few kB each.
MAX_CORPUS_FILE_BYTES = 8 * 1024 * 1024
SCHEMA_NAME = "report.schema.json"


@dataclass(frozen=True)
class Report:
    """One public report, with where it was read (for error messages and leave-one-out)."""

    id: str
    url: str
    date: str
    tf: str | None
    keras: str | None
    backend: str | None
    era: str
    recurrent: bool
    message: str
    case: str
    family: str
    split: str
    path: str
    line: int | None
    traceback: str = ""
    reason: str = ""
    note: str = ""

    @property
    def proposed(self) -> bool:
        """A failure mode the library lacks a case for yet (``reason: proposed: ...``)."""
        return self.case == "none" and self.reason.startswith("proposed")

    @property
    def family_only(self) -> bool:
        """No case explains it (proposed, not reproducible here), but it belongs to a family of the library."""
        return self.case == "none" and self.family != "none"

    @property
    def unrelated(self) -> bool:
        """Outside the library's scope: explain must answer "no known case"."""
        return self.case == "none" and self.family == "none"

    def versions_text(self) -> str:
        """'TF 2.4, Keras 2.4.3, jax' as the reporter gave them ('' when nothing was stated)."""
        bits = [f"TF {self.tf}" if self.tf else "", f"Keras {self.keras}" if self.keras else "",
                self.backend if self.backend and self.backend != "tensorflow" else ""]
        return ", ".join(b for b in bits if b)


def _load_list(path: Path) -> case_load.LoadedDocument:
    """A YAML list under the case loader's rules (its composer refuses aliases, tags and deep nesting)."""
    try:
        raw = read_bounded(path, MAX_CORPUS_FILE_BYTES)
    except InputError as exc:
        raise CaseError(str(exc).removeprefix(f"{path}: "), path=str(path)) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise CaseError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(path)) from None
    try:
        try:
            node, data = case_load._compose(text, case_load._CaseLoader)
        except yaml.YAMLError as exc:
            if case_load._CaseLoader is case_load._PyCaseLoader or not case_load._own_limit_first(exc):
                raise
            node, data = case_load._compose(text, case_load._PyCaseLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise CaseError(f"invalid YAML: {exc.problem or exc}", path=str(path),
                        line=mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        raise CaseError(f"invalid YAML: {exc}", path=str(path)) from None
    if node is None:
        data = []
    if not isinstance(data, list):
        raise CaseError(f"a corpus file is a YAML list of reports, found {type(data).__name__}", path=str(path), line=1)
    lines: dict[tuple, int] = {}
    if node is not None:
        case_load._index_lines(node, (), lines)
    return case_load.LoadedDocument(path=str(path), data=data, lines=lines)


def _validator(root: Path):
    import jsonschema

    schema = json.loads((root / SCHEMA_NAME).read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_error(doc: case_load.LoadedDocument, validator) -> CaseError | None:
    errors = list(validator.iter_errors(doc.data))
    if not errors:
        return None
    err = max(errors, key=lambda e: len(e.absolute_path))
    parts = tuple(err.absolute_path)
    message = err.message
    if err.validator == "additionalProperties":
        extra = [k for k in (doc.data[parts[0]] if parts and isinstance(parts[0], int) else {}) if isinstance(k, str)]
        unknown = [k for k in extra if k not in validator.schema["items"]["properties"]]
        if unknown:
            parts, message = parts + (unknown[0],), f"unknown field '{unknown[0]}'"
    elif err.validator == "required":
        missing = message.split("'")[1] if "'" in message else ""
        parts, message = parts + ((missing,) if missing else ()), f"missing required field '{missing}'"
    if len(message) > 200:
        message = message[:200] + "..."
    return doc.error(f"schema: {message}", parts)


def corpus_files(root: str | Path = "wild", splits=SPLITS) -> list[tuple[str, Path]]:
    """(split, file) for every ``*.yaml``/``*.yml`` under the split folders, in a stable order."""
    root = Path(root)
    return [(split, p) for split in splits for p in sorted((root / split).rglob("*"))
            if p.suffix in (".yaml", ".yml") and p.is_file()]


def load_corpus(root: str | Path = "wild", case_families: dict[str, str] | None = None,
                splits=SPLITS) -> list[Report]:
    """Every report of the corpus, validated; :class:`CaseError` (one line, located) at the first bad one.

    ``case_families`` (case id -> family) checks each report's case and family; None skips that check.
    """
    root = Path(root)
    validator = _validator(root)
    reports: list[Report] = []
    ids: dict[str, str] = {}
    urls: dict[str, str] = {}
    for split, path in corpus_files(root, splits):
        doc = _load_list(path)
        error = _schema_error(doc, validator)
        if error:
            raise error
        for i, item in enumerate(doc.data):
            where = f"{path}:{doc.line_of((i,))}"
            for key, seen, value in (("id", ids, item["id"]), ("url", urls, item["url"].rstrip("/"))):
                if value in seen:
                    raise doc.error(f"{key} {value[:120]!r} is already used at {seen[value]}", (i, key))
                seen[value] = where
            if case_families is not None:
                if item["case"] != "none" and item["case"] not in case_families:
                    raise doc.error(f"no case {item['case']!r} in the library", (i, "case"))
                want = case_families.get(item["case"])
                if want and item["family"] != want:
                    raise doc.error(f"case {item['case']!r} is in family {want!r}, not {item['family']!r}",
                                    (i, "family"))
                known = set(case_families.values()) | {"none"}
                if item["case"] == "none" and item["family"] not in known:
                    raise doc.error(f"no family {item['family']!r} in the library (or 'none')", (i, "family"))
            reports.append(Report(
                id=item["id"], url=item["url"], date=item["date"], tf=item["tf"], keras=item["keras"],
                backend=item["backend"], era=item["era"], recurrent=item["recurrent"], message=item["message"],
                case=item["case"], family=item["family"], split=split, path=str(path), line=doc.line_of((i,)),
                traceback=item.get("traceback", ""), reason=item.get("reason", ""), note=item.get("note", "")))
    return reports
