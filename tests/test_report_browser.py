"""The HTML report opened in a real headless Chromium: the upgrade panel, the grid, its filters, the picture."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lstm_atlas.matrix.merge import merge, merge_files
from lstm_atlas.matrix.report import write_report
from lstm_atlas.matrix.results import read_results
from lstm_atlas.matrix.upgrade import KINDS, outcome, upgrade

from .conftest import ROOT

DATA = Path(__file__).parent / "data"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(os.environ.get("ATLAS_REPORT_SCREENSHOT", "/tmp/report-1400.png"))

if os.environ.get("CI") and CHROMIUM is None:  # .ci/run installs it: there, a skip would hide a broken report
    raise RuntimeError("CI must install Chromium (apt-get install chromium) for the report browser test")
if os.environ.get("CI"):
    from playwright import sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="install the 'browser' extra: pip install -e '.[browser]'")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report_page(browser, tmp_path_factory):
    """The report of the two recorded results files."""
    out = tmp_path_factory.mktemp("report")
    matrix = merge([(str(p), read_results(p)) for p in sorted(DATA.glob("results-*.json"))])
    write_report(matrix, out)
    page = browser.new_page()
    page.goto((out / "report.html").as_uri())
    yield page, matrix
    page.close()


@pytest.fixture(scope="module")
def committed_page(browser, tmp_path_factory):
    """The report of the committed 12-environment matrix, at 1400 px."""
    out = tmp_path_factory.mktemp("committed")
    matrix = merge_files([ROOT / "reports" / "merged.json"])
    write_report(matrix, out)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto((out / "report.html").as_uri())
    yield page, matrix
    page.close()


def test_grid_has_a_row_per_case_variant_device_and_a_column_per_env(report_page):
    page, matrix = report_page
    headers = page.locator("#grid thead th").all_inner_texts()
    assert [h.split("\n")[0] for h in headers[1:]] == matrix.env_keys()
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


def test_picture_is_rendered(report_page):
    page, _ = report_page
    width = page.locator("img").first.evaluate("img => img.naturalWidth")
    assert width > 100, "the embedded PNG decodes in the browser"


def test_upgrade_panel_defaults_to_the_keras3_switch_and_puts_breaking_changes_first(committed_page):
    page, matrix = committed_page
    assert page.locator("#from").input_value() == "tf215" and page.locator("#to").input_value() == "tf216"
    page.select_option("#from", "tf221")
    page.select_option("#to", "tf215")
    assert page.locator("#up-summary").inner_text().startswith("TF 2.21.0 / Keras 3.13.2 (tf221) -> TF 2.15.1")
    page.select_option("#from", "tf215")
    page.select_option("#to", "tf216")
    expected = upgrade(matrix, "tf215", "tf216")
    kinds = page.locator("#up-groups section.group").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == list(KINDS)
    breaks = page.locator("#up-groups section.group").first
    rows = breaks.locator("tr[data-case]").evaluate_all("rs => rs.map(r => [r.dataset.case, r.dataset.variant])")
    assert rows == [[c["case"], c["variant"]] for c in expected["groups"][0]["changes"]]
    assert ["save-model-without-extension", "repro"] in rows and ["lstm-batch-input-shape-kwarg", "repro"] in rows
    # the first entry on the page is a break: ran clean on 2.15, raises on 2.16
    first = breaks.locator("tr[data-case]").first.locator("td").all_inner_texts()
    assert first[2].startswith("ok@") and not first[3].startswith("ok@")
    box = breaks.bounding_box()
    for later in page.locator("#up-groups section.group").all()[1:]:
        assert later.bounding_box()["y"] > box["y"]


def test_grid_shows_behaviour_with_transitions(committed_page):
    page, matrix = committed_page
    row = page.locator('#grid tbody tr[data-case="save-model-without-extension"]'
                       '[data-variant="repro"][data-device="cpu"]')
    by_env = matrix.cells[("save-model-without-extension", "repro", "cpu")]
    outcomes = row.locator("td[data-outcome]").evaluate_all("els => els.map(e => e.dataset.outcome)")
    assert outcomes == [outcome(by_env.get(k)) for k in matrix.env_keys()]
    assert outcomes[matrix.env_keys().index("tf216")] == "ValueError@save"
    cell = row.locator("td").nth(1 + matrix.env_keys().index("tf216"))
    assert cell.get_attribute("data-transition") == "breaks"
    assert "ValueError@save" in cell.inner_text() and "✓" in cell.inner_text()  # behaviour, plus a small verdict mark
    # outcome classes are told apart by colour
    colours = {}
    for name in ("ok", "ValueError", "TypeError", "InvalidArgumentError"):
        colours[name] = page.locator(f"#grid td.oc-{name}").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert len(set(colours.values())) == len(colours), colours


def test_every_environment_column_is_visible_at_1400_px(committed_page):
    page, matrix = committed_page
    page.select_option("#from", "tf215")
    page.select_option("#to", "tf216")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400, "no horizontal scrolling"
    last = page.locator("#grid thead th").last
    assert last.inner_text().split("\n")[0] == matrix.env_keys()[-1]
    box = last.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1400
    # header and first column stay in view while scrolling
    page.locator("#grid").scroll_into_view_if_needed()
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(200)
    assert abs(page.locator("#grid thead th").first.bounding_box()["y"]) < 2, "the header is sticky"
    first_column = page.locator("#grid tbody td.case").first.evaluate("e => getComputedStyle(e).position")
    assert first_column == "sticky"
    page.screenshot(path=str(SCREENSHOT.with_name(SCREENSHOT.stem + "-grid.png")))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
