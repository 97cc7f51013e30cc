"""The results file: schema-valid, versioned, and written atomically."""

from __future__ import annotations

import json

import jsonschema
import pytest

from lstm_atlas.engine.observe import ExceptionInfo, Observation
from lstm_atlas.errors import InputError
from lstm_atlas.matrix import results as record

ENV = {"tensorflow": "2.21.0", "keras": "3.13.2", "keras_flavor": "keras3", "numpy": "2.4.6", "python": "3.11.7",
       "platform": "Linux", "devices": ["cpu"], "env_name": "tf221"}
RUN = {"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:00:05+00:00", "duration_s": 5.0,
       "argv": ["pytest", "cases/"], "exit_status": 1, "interrupted": False, "complete": True,
       "expected_items": 2, "recorded_items": 2, "running": []}


def item(verdict="pass", claim_verdict=None):
    obs = Observation(status="raised", stage="fit", duration_s=0.2,
                      exception=ExceptionInfo("ValueError", "builtins", ["ValueError", "Exception"], "bad shape"))
    return {"nodeid": f"cases/a.yaml::a[repro-cpu]{verdict}", "case_id": "a", "variant": "repro", "device": "cpu",
            "device_kind": "cpu", "verdict": verdict, "observed": obs.to_dict(), "claim_verdict": claim_verdict,
            "expected": {"raises": "ValueError", "stage": "fit"}}


def test_built_results_validate_and_count():
    data = record.build_results(ENV, [item(), item("fail", "false")], {"a": {"title": "t", "family": "input-rank",
                                                                            "file": "cases/a.yaml"}}, RUN)
    record.validate_results(data)
    assert data["schema_version"] == record.SCHEMA_VERSION
    assert data["summary"] == {"claim_false": 1, "fail": 1, "pass": 1}


def test_invalid_results_are_rejected():
    data = record.build_results(ENV, [item()], {}, RUN)
    data["items"][0]["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        record.validate_results(data)


def test_observation_round_trips_through_json():
    obs = Observation.from_dict(json.loads(json.dumps(item()["observed"])))
    assert obs.exception.type == "ValueError" and obs.raised


def test_read_results_refuses_other_versions(tmp_path):
    path = tmp_path / "r.json"
    data = record.build_results(ENV, [item()], {}, RUN)
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="schema_version 99"):
        record.read_results(path)


def test_version_2_needs_the_run_state_and_version_1_is_still_read(tmp_path):
    data = record.build_results(ENV, [item()], {}, dict(RUN))
    del data["run"]["exit_status"]
    with pytest.raises(jsonschema.ValidationError, match="exit_status"):
        record.validate_results(data)
    old = record.build_results(ENV, [item()], {}, {k: RUN[k] for k in ("started", "finished", "duration_s", "argv")})
    old["schema_version"] = 1
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(old))
    assert record.read_results(path)["schema_version"] == 1
    assert record.run_state(old) == ("complete", None)


@pytest.mark.parametrize("run, state, reason", [
    ({}, "complete", None),
    ({"running": ["cases/a.yaml::a[repro-cpu]"], "interrupted": True, "complete": False, "exit_status": None},
     "partial", "the run died while running cases/a.yaml::a[repro-cpu]"),
    ({"interrupted": True, "complete": False, "exit_status": 2}, "partial", "the run was interrupted (exit status 2)"),
    ({"complete": False, "recorded_items": 3, "expected_items": 8, "exit_status": 1}, "partial",
     "3 of 8 items have a result (exit status 1)"),
])
def test_run_state_names_why_a_run_is_partial(run, state, reason):
    data = record.build_results(ENV, [item()], {}, dict(RUN, **run))
    record.validate_results(data)
    assert record.run_state(data) == (state, reason)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{not json", "not JSON (Expecting property name"),
    ("[1, 2]", "a JSON list, not an object"),
    ('{"schema": "something-else"}', "not an lstm-atlas results file"),
    ('{"schema": "lstm-atlas-results", "schema_version": 2}', "does not follow the results schema"),
])
def test_bad_results_files_give_one_line(tmp_path, content, message):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError) as info:
        record.read_results(path)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith(str(path))


def test_results_text_is_the_same_document_and_encodes_each_item_once():
    items = [item(), item("fail", "false")]
    data = record.build_results(ENV, items, {}, RUN)
    encoded: dict = {}
    text = record.results_text(ENV, items, {}, RUN, encoded)
    parsed = json.loads(text)
    assert dict(parsed, created=None) == dict(data, created=None)
    record.validate_results(parsed)
    assert set(encoded) == {i["nodeid"] for i in items}
    encoded[items[0]["nodeid"]] = json.dumps(dict(items[0], reason="from the cache"))
    reread = {i["nodeid"]: i for i in json.loads(record.results_text(ENV, items, {}, RUN, encoded))["items"]}
    assert reread[items[0]["nodeid"]]["reason"] == "from the cache"
    assert json.loads(record.results_text(ENV, [], {}, RUN))["items"] == []
