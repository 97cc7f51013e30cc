"""What validate knows without TensorFlow, and Markdown that carries no HTML.

Each ``validate`` row writes one hostile case into the row's folder and runs ``lstm-atlas
validate`` on it: the promise is one located line (file, line, field) and the summary, exit
status 1, no traceback. The ``trust`` rows build results and cases holding an HTML tag and
check that the Markdown the CLI writes holds none.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from markdown_it import MarkdownIt

from ..conftest import ROOT, good_case
from .table import Result, Row, cli

HOSTILE = "<img src=x onerror=alert(1)>"


def _write_case(tmp: Path, text: str, name: str = "good-case") -> Path:
    path = tmp / "cases" / "input-rank" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def assert_located(result: Result, path: Path, line: int, field: str, *needles: str) -> str:
    """Validate's promise for a bad file: its one line names file, line and field; then the summary; exit 1."""
    assert not result.timed_out, f"hung for {result.seconds:.1f} s"
    assert "Traceback" not in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]
    assert result.rc == 1, (result.rc, result.stdout[-2000:], result.stderr[-2000:])
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2 and lines[1] == "0 valid, 1 invalid", lines[:5]
    assert lines[0].startswith(f"{path}:{line}: field '{field}': "), lines[0][:300]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0][:500])
    return lines[0]


def _validate(tmp: Path, old: str, new: str) -> tuple[Path, Result]:
    text = good_case()
    assert old in text
    path = _write_case(tmp, text.replace(old, new, 1))
    return path, cli(["validate", str(path)], cwd=tmp)


def _typo_keyword(tmp):
    path, result = _validate(tmp, "- LSTM: {units: 4}", "- LSTM: {unit: 4}")
    assert_located(result, path, 10, "model.layers[0].LSTM.unit", "LSTM takes no keyword 'unit' in Keras 2.15.0",
                   "did you mean 'units'?")


def _nested_typo_keyword(tmp):
    path, result = _validate(tmp, "- LSTM: {units: 4}",
                             "- Bidirectional: {layer: {LSTM: {units: 4, return_sequence: true}}}")
    assert_located(result, path, 10, "model.layers[0].Bidirectional.layer.LSTM.return_sequence",
                   "did you mean 'return_sequences'?")


def _one_generation_keyword(tmp):
    """A keyword only Keras 2 takes (the api-change cases need it) validates."""
    path, result = _validate(tmp, "- LSTM: {units: 4}", "- LSTM: {units: 4, time_major: false}")
    assert result.rc == 0 and "1 valid, 0 invalid" in result.stdout, (result.stdout, result.stderr)


def _huge_seed(tmp):
    path, result = _validate(tmp, "tags: [fixture]", "tags: [fixture]\nseed: 100000000000000000000000000")
    assert_located(result, path, 5, "seed", "is out of range", "2**32 - 1")


def _float_seed(tmp):
    path, result = _validate(tmp, "tags: [fixture]", "tags: [fixture]\nseed: 1.0e+26")
    assert_located(result, path, 5, "seed", "a seed is an integer, found float")


def _exponent_seed(tmp):
    path, result = _validate(tmp, "tags: [fixture]", "tags: [fixture]\nseed: 1e26")
    assert_located(result, path, 5, "seed", "1e26 is text in YAML 1.1", "write the number in decimal digits")


def _sexagesimal(tmp):
    path, result = _validate(tmp, "- LSTM: {units: 4}", "- LSTM: {units: 1:30}")
    assert_located(result, path, 10, "model.layers[0].LSTM.units", "1:30 is a base-60 number in YAML 1.1")


def _octal(tmp):
    for octal in ("017", "0o17"):
        path, result = _validate(tmp, "- Dense: {units: 1}", f"- Dense: {{units: {octal}}}")
        assert_located(result, path, 11, "model.layers[1].Dense.units", f"{octal} is an octal or binary number")


def _long_value(tmp):
    huge = "x" * 200_000
    path, result = _validate(tmp, "family: input-rank", f"family: {huge}")
    line = assert_located(result, path, 3, "family", "characters]", "is not one of")
    assert len(line) < 1500 and huge not in line, len(line)


def _hostile_results(tmp: Path) -> list[str]:
    out = []
    for source in sorted((ROOT / "tests" / "data").glob("results-*.json")):
        doc = json.loads(source.read_text("utf-8"))
        doc = copy.deepcopy(doc)
        doc["environment"]["tensorflow"] += HOSTILE
        doc["environment"]["numpy"] = f"| {HOSTILE} |"
        for entry in doc.get("cases", {}).values() if isinstance(doc.get("cases"), dict) else doc.get("cases", []):
            entry["title"] = f"title {HOSTILE}"
        for item in doc["items"]:
            item["mismatches"] = [f"mismatch {HOSTILE}"]
            item["verdict"] = "fail"
        path = tmp / source.name
        path.write_text(json.dumps(doc), "utf-8")
        out.append(str(path))
    return out


def _report_markdown(tmp):
    result = cli(["report", *_hostile_results(tmp), "--out", str(tmp / "out")], cwd=tmp, timeout=60)
    assert result.rc == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    md = (tmp / "out" / "report.md").read_text("utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in md, "the hostile fields are not in the report at all"
    assert "<img" not in md and "<img" not in MarkdownIt("commonmark").enable("table").render(md)
    page = (tmp / "out" / "report.html").read_text("utf-8")
    assert "<img src=x" not in page  # the HTML report is autoescaped


def _catalog_markdown(tmp):
    text = good_case().replace("title: LSTM fed a 2-D array", f"title: 'LSTM {HOSTILE}'")
    text = text.replace("cause: The LSTM needs", f"symptom: '`{HOSTILE}'\ncause: The LSTM needs {HOSTILE}")
    _write_case(tmp, text)
    merged = tmp / "no-merged.json"  # a fresh clone without a matrix yet
    result = cli(["catalog", "--cases", str(tmp / "cases"), "--merged", str(merged), "--out", str(tmp / "c.md")],
                 cwd=tmp)
    assert result.rc == 0, (result.stdout, result.stderr[-2000:])
    md = (tmp / "c.md").read_text("utf-8")
    assert "### LSTM &lt;img src=x onerror=alert(1)&gt;" in md
    # the only '<img' left is literal text in a code span, whose fence the symptom's backtick cannot close
    assert md.count("<img") == 1 and "**Symptom:** `` `<img src=x onerror=alert(1)> ``" in md
    assert "<img" not in MarkdownIt("commonmark").render(md)


ROWS = [
    Row("validate", "a layer keyword no Keras takes (unit:) names the nearest one", _typo_keyword, seconds=30),
    Row("validate", "a typo in a wrapped layer's keyword is found too", _nested_typo_keyword, seconds=30),
    Row("validate", "a keyword only Keras 2 takes still validates", _one_generation_keyword, seconds=30),
    Row("validate", "seed: 10**26 is out of the seeding range", _huge_seed, seconds=30),
    Row("validate", "seed: 1.0e+26 is a float, not a seed", _float_seed, seconds=30),
    Row("validate", "seed: 1e26 is text in YAML 1.1", _exponent_seed, seconds=30),
    Row("validate", "units: 1:30 is not silently 90", _sexagesimal, seconds=30),
    Row("validate", "units: 017 and 0o17 are not silently octal", _octal, seconds=45),
    Row("validate", "a 200 kB value is shortened in the message", _long_value, seconds=30),
    Row("trust", "report.md carries no HTML from titles, versions or mismatches", _report_markdown, seconds=90),
    Row("trust", "the catalogue carries no HTML from case text", _catalog_markdown, seconds=30),
]
