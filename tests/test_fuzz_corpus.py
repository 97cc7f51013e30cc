"""The fuzz corpus: stable ids, balanced selection, merging, a checked file format, the replay order."""

from __future__ import annotations

import json

import pytest

from lstm_atlas.errors import InputError
from lstm_atlas.fuzz.corpus import (
    CORPUS_FILE,
    balance,
    make_corpus,
    merge,
    read_corpus,
    replay_order,
    select,
    write_corpus,
)
from lstm_atlas.fuzz.strategies import example_key

from .conftest import ROOT


def ex(layer="LSTM", step="call", shape=(2, 3), units=1):
    return {"layer": layer, "config": {"units": units}, "masking": False, "declared": None,
            "input": {"shape": list(shape), "dtype": "float32", "container": "ndarray"}, "step": step}


def test_ids_are_content_hashes_and_the_corpus_id_ignores_order_and_sources():
    a, b = ex(), ex(shape=(2, 3, 1))
    one = make_corpus([a, b], [{"env": "tf221"}])
    two = make_corpus([b, a, dict(reversed(list(a.items())))], [{"env": "tf215"}])
    assert [e["id"] for e in one["examples"]] == sorted([example_key(a), example_key(b)])
    assert one["corpus"] == two["corpus"] and len(two["examples"]) == 2  # the duplicate is dropped
    assert make_corpus([a], [])["corpus"] != one["corpus"]


def test_select_keeps_every_shrunk_example_and_a_few_per_layer_step_and_signature():
    seen = [(ex(units=u), "ValueError: a") for u in range(1, 9)] + [(ex(step="fit"), "ValueError: a"),
                                                                   (ex(units=9), "ok")]
    shrunk = [ex(units=20)]
    kept = select(seen, shrunk, per_bucket=3)
    keys = {example_key(e) for e in kept}
    assert example_key(shrunk[0]) in keys
    assert len(kept) == 1 + 3 + 1 + 1  # the 8 calls of one signature keep 3; the fit and the ok keep theirs


def test_merge_unions_by_id_and_lists_every_source():
    a = make_corpus([ex(), ex(units=2)], [{"env": "tf221"}])
    b = make_corpus([ex(units=2), ex(units=3)], [{"env": "tf215"}])
    merged = merge(a, None, b)
    assert len(merged["examples"]) == 3 and [s["env"] for s in merged["sources"]] == ["tf221", "tf215"]
    assert merge(merged, b)["corpus"] == merged["corpus"]


def test_a_corpus_file_round_trips_and_tampering_is_refused(tmp_path):
    corpus = make_corpus([ex(), ex(units=2)], [])
    path = write_corpus(tmp_path / CORPUS_FILE, corpus)
    assert read_corpus(path) == corpus
    data = json.loads(path.read_text())
    data["examples"][0]["example"]["config"]["units"] = 7  # edited by hand: its id no longer fits
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="is not the hash of its example"):
        read_corpus(path)
    path.write_text(json.dumps({"schema": "something else"}))
    with pytest.raises(InputError, match="not a fuzz corpus"):
        read_corpus(path)
    assert read_corpus(tmp_path / "missing.json", missing_ok=True) is None
    with pytest.raises(InputError, match="no such corpus"):
        read_corpus(tmp_path / "missing.json")


def test_replay_runs_calls_first_and_groups_examples_that_build_one_model():
    entries = make_corpus([ex(step="fit"), ex(step="predict"), ex(units=2), ex(units=1, shape=(4, 3)), ex()],
                          [])["examples"]
    ordered = [e["example"] for e in replay_order(entries)]
    assert [e["step"] for e in ordered] == ["call", "call", "call", "predict", "fit"]
    assert [e["config"]["units"] for e in ordered[:3]] == [1, 1, 2]


def test_the_committed_corpus_is_valid_balanced_and_its_maps_replay_it():
    corpus = read_corpus(ROOT / "reports" / "fuzz" / CORPUS_FILE)
    assert 200 <= len(corpus["examples"]) <= 3000
    spread = balance(corpus)
    assert set(spread["layer"]) == {"LSTM", "GRU", "SimpleRNN", "Bidirectional", "RNN", "LSTMCell"}
    assert set(spread["step"]) == {"call", "predict", "fit"}
    assert min(spread["layer"].values()) >= 0.05 * len(corpus["examples"])
    ids = {e["id"] for e in corpus["examples"]}
    for path in sorted((ROOT / "reports" / "fuzz").glob("*/map.json")):
        data = json.loads(path.read_text())
        assert data["summary"]["corpus"] == corpus["corpus"], f"{path} was not replayed from the committed corpus"
        assert set(data["outcomes"]) == ids and data["summary"]["examples"] == len(ids)
        for key in ("corpus", "examples", "failing_examples", "explained_by_case"):
            assert key in data["summary"]


def test_replay_of_a_missing_or_damaged_corpus_is_one_line_and_exit_2(tmp_path, capsys):
    from lstm_atlas import cli

    assert cli.main(["fuzz", "replay", "--corpus", str(tmp_path / "none.json"), "--out", str(tmp_path)]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "lstm-atlas-fuzz-corpus", "schema_version": 1, "corpus": "x", "examples": 3}')
    assert cli.main(["fuzz", "replay", "--corpus", str(bad), "--out", str(tmp_path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 2 and "no such corpus" in err[0] and "examples: expected a list" in err[1], err
    assert not list(tmp_path.glob("*/map.json"))  # refused before anything ran or was written


def test_a_dataset_of_a_scalar_is_dropped_as_an_artefact_with_its_reason_and_never_drawn():
    from hypothesis import given, settings

    from lstm_atlas.fuzz.strategies import examples

    scalar = dict(ex(shape=()), input={"shape": [], "dtype": "float32", "container": "dataset"})
    corpus = make_corpus([ex(), scalar], [])
    assert [e["id"] for e in corpus["examples"]] == [example_key(ex())]
    assert corpus["dropped"][0]["id"] == example_key(scalar) and "Unbatching" in corpus["dropped"][0]["reason"]
    # merging keeps the record, and the corpus id is the kept examples' alone
    assert merge(corpus)["dropped"] == corpus["dropped"] and corpus["corpus"] == make_corpus([ex()], [])["corpus"]

    @settings(max_examples=200, database=None, deadline=None)
    @given(examples(container_names=("dataset", "ndarray")))
    def never_drawn(example):
        assert example["input"]["shape"] or example["input"]["container"] != "dataset"

    never_drawn()
