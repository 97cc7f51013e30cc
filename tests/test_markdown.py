"""report.md and docs/catalog.md render no HTML from case text or results fields.

Rendered with markdown-it-py (a CommonMark renderer with raw HTML on, as GitHub passes it;
installed with rich), so "inert" is what a Markdown renderer does, not what a regex hopes.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from lstm_atlas.case.load import load_text
from lstm_atlas.case.validate import build_case
from lstm_atlas.matrix import markdown
from lstm_atlas.matrix.catalog import render_catalog
from lstm_atlas.matrix.merge import merge
from lstm_atlas.matrix.report import render
from lstm_atlas.matrix.results import read_results

from .conftest import good_case

DATA = Path(__file__).parent / "data"
HOSTILE = "<img src=x onerror=alert(1)>"


def _html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


@pytest.mark.parametrize("value", [HOSTILE, f"a`{HOSTILE}`b", f"``{HOSTILE}", f"x\n\n{HOSTILE}", "&lt;img&gt;",
                                   f"<{HOSTILE}>", f"| {HOSTILE} |"])
def test_each_form_renders_as_text(value):
    for rendered in (markdown.text(value), markdown.cell(value), markdown.code(value), markdown.url(value)):
        html = _html(f"before {rendered} after")
        assert "<img" not in html and "<a" not in html, (value, rendered, html)


def test_text_escapes_and_code_keeps_the_characters():
    assert markdown.text("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert markdown.cell("a | b\nc") == "a \\| b c"
    assert markdown.code("use `x`") == "``use `x```" or markdown.code("use `x`") == "`` use `x` ``"
    assert _html(markdown.code("use `x` <b>")) == "<p><code>use `x` &lt;b&gt;</code></p>\n"
    assert markdown.url("https://keras.io/api/") == "<https://keras.io/api/>"
    assert markdown.url("javascript:alert(1)") == "javascript:alert(1)"
    assert markdown.text(markdown.code("<b>")) == "`<b>`"  # already rendered: not escaped twice


def test_the_report_renders_no_html_from_titles_versions_reasons_or_sources():
    recorded = [(str(p), read_results(p)) for p in sorted(DATA.glob("results-*.json"))]
    matrix = merge(copy.deepcopy(recorded))
    case_id = next(iter(matrix.cases))
    matrix.cases[case_id]["title"] = HOSTILE
    env = matrix.environments["tf221"]
    env.update(tensorflow=f"2.21.0{HOSTILE}", keras=f"3 | {HOSTILE}", numpy=f"`{HOSTILE}`")
    matrix.invalid = {"tf221": [{"reason": f"bad file {HOSTILE}"}]}
    md = render(matrix)["report.md"]
    html = _html(md)
    assert "<img" not in md and "<img" not in html
    assert "| 2.21.0&lt;img src=x onerror=alert(1)&gt; | 3 \\| &lt;img" in md  # one cell each, pipes escaped
    table = [line for line in md.splitlines() if line.startswith("| tf221 |")]
    assert len(table) == 1 and table[0].replace("\\|", "").count("|") == 9
    assert "bad file &lt;img" in md


def test_the_catalogue_renders_no_html_from_case_text():
    text = (good_case().replace("title: LSTM fed a 2-D array", f'title: "LSTM {HOSTILE}"')
            .replace("cause: The LSTM needs", f'symptom: "``{HOSTILE}"\ncause: The LSTM needs {HOSTILE}')
            .replace('source: {url: "https://keras.io/api/layers/recurrent_layers/lstm/"}',
                     f'source: {{url: "https://x.example/{HOSTILE}", note: "{HOSTILE}"}}'))
    case = build_case(load_text(text, "<string>"))
    merged = {"environments": {"tf221": {"tensorflow": f"2.21{HOSTILE}"}},
              "results": {case.id: {"repro": {"cpu": {"tf221": {"verdict": "pass", "claim_verdict": "holds"}}}}}}
    md = render_catalog([case], merged)
    html = _html(md)
    assert "<img" not in html and not re.search(r'<a href="(?!#)', html)  # the odd URL is not a link either
    assert "### LSTM &lt;img src=x onerror=alert(1)&gt;" in md
    assert "2.21&lt;img" in md  # a version string from the results is text too
