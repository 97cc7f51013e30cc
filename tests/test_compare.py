"""How an install compares with the published matrix, on recorded results (TF 2.15 and TF 2.21 runs)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lstm_atlas.install.compare import THIS_INSTALL, ranking, verdict_text, with_install
from lstm_atlas.matrix.merge import merge
from lstm_atlas.matrix.results import read_results

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def recorded():
    return {p.stem.removeprefix("results-"): read_results(p) for p in sorted(DATA.glob("results-*.json"))}


@pytest.fixture(scope="module")
def published(recorded):
    return merge([(f"{key}.json", doc) for key, doc in recorded.items()]).to_json()


def _raised_item(doc: dict) -> dict:
    return next(i for i in doc["items"] if (i.get("observed") or {}).get("status") == "raised")


def test_a_run_like_a_published_environment_behaves_like_it(recorded, published):
    matrix = with_install(published, recorded["tf215"])
    rows = ranking(matrix)
    assert rows[0]["env"] == "tf215" and rows[0]["changed"] == 0 and rows[0]["compared"] > 0
    assert rows[1]["env"] == "tf221" and rows[1]["changed"] > 0
    text = verdict_text(matrix, published="the published matrix")
    assert text.startswith("This install (TF 2.15.1 / Keras 2.15.0, numpy ")
    assert f"behaves like TF 2.15.1 + Keras 2.15.0 (tf215): all {rows[0]['compared']} case variants compared on " \
           "cpu have the same outcome; compared with the published matrix." in text


def test_a_run_that_differs_everywhere_names_the_closest_and_the_cases(recorded, published):
    mine = copy.deepcopy(recorded["tf221"])
    item = _raised_item(mine)
    item["observed"]["exception"]["type"] = "TypeError"  # one case variant raises another class here
    matrix = with_install(published, mine)
    rows = ranking(matrix)
    assert rows[0]["env"] == "tf221" and rows[0]["changed"] == 1
    text = verdict_text(matrix)
    assert f"closest is TF 2.21.0 + Keras 3.13.2 (tf221), {rows[0]['compared'] - 1} of {rows[0]['compared']}" in text
    assert f"\n{item['case_id']} [{item['variant']}]" in text  # the diff, as `lstm-atlas diff` prints it
    assert "exception class changed: builtins.ValueError -> builtins.TypeError" in text


def test_the_install_takes_its_own_key_so_an_equal_environment_is_no_duplicate(recorded, published):
    matrix = with_install(published, recorded["tf221"])
    assert set(matrix.environments) == {"tf215", "tf221", THIS_INSTALL}
    assert recorded["tf221"]["environment"]["env_name"] == "tf221"  # the caller's document is left alone


def test_a_run_of_cases_the_matrix_lacks_says_so(recorded, published):
    mine = copy.deepcopy(recorded["tf221"])
    for item in mine["items"]:
        item["case_id"] = "team-" + item["case_id"]
    assert "none of the case variants that ran on cpu are in" in verdict_text(with_install(published, mine))


def test_a_run_where_no_item_ran_cannot_be_compared(recorded, published):
    mine = dict(copy.deepcopy(recorded["tf221"]), environment=None, items=[])
    assert verdict_text(with_install(published, mine)).startswith("No item ran")
