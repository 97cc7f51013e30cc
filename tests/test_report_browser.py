"""The HTML report opened in a real headless Chromium: the grid, its filters and the plot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lstm_atlas.matrix.merge import merge
from lstm_atlas.matrix.report import write_report
from lstm_atlas.matrix.results import read_results

DATA = Path(__file__).parent / "data"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if os.environ.get("CI") and CHROMIUM is None:  # .ci/run installs it: there, a skip would hide a broken report
    raise RuntimeError("CI must install Chromium (apt-get install chromium) for the report browser test")
if os.environ.get("CI"):
    from playwright import sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="install the 'browser' extra: pip install -e '.[browser]'")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    matrix = merge([(str(p), read_results(p)) for p in sorted(DATA.glob("results-*.json"))])
    write_report(matrix, out)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto((out / "report.html").as_uri())
        yield page, matrix
        browser.close()


def test_grid_has_a_row_per_case_variant_device_and_a_column_per_env(report_page):
    page, matrix = report_page
    headers = page.locator("#grid thead th").all_inner_texts()
    assert [h.split("\n")[0] for h in headers[4:]] == matrix.env_keys()
    assert page.locator("#grid tbody tr").count() == len(matrix.cells)
    first = page.locator("#grid tbody tr").first
    verdicts = first.locator("td[data-verdict]").evaluate_all("els => els.map(e => e.dataset.verdict)")
    assert len(verdicts) == len(matrix.env_keys()) and set(verdicts) <= {"pass", "fail", "skip", "none", "crash",
                                                                         "timeout", "error"}


def test_family_filter_hides_other_rows(report_page):
    page, matrix = report_page
    families = sorted({matrix.cases[c]["family"] for c, _, _ in matrix.cells})
    family = families[0]
    page.select_option("#device", "")
    page.select_option("#family", family)
    visible = page.locator("#grid tbody tr:visible")
    expected = sum(1 for (c, _, _) in matrix.cells if matrix.cases[c]["family"] == family)
    assert visible.count() == expected
    assert set(visible.evaluate_all("rows => rows.map(r => r.dataset.family)")) == {family}
    page.select_option("#family", "")
    assert page.locator("#grid tbody tr:visible").count() == len(matrix.cells)


def test_gpu_rows_hidden_by_default_when_no_gpu_ran(report_page):
    page, matrix = report_page
    page.reload()
    cpu_rows = sum(1 for (_, _, device) in matrix.cells if device == "cpu")
    assert page.locator("#grid tbody tr:visible").count() == cpu_rows
    devices = page.locator("#grid tbody tr:visible").evaluate_all("rows => rows.map(r => r.dataset.device)")
    assert set(devices) == {"cpu"}


def test_plot_is_rendered(report_page):
    page, _ = report_page
    width = page.locator("img").first.evaluate("img => img.naturalWidth")
    assert width > 100, "the embedded PNG decodes in the browser"
