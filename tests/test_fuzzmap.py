"""The map's bookkeeping, rendering and transitions, on outcome records as the worker returns them."""

from __future__ import annotations

import json

from lstm_atlas.fuzz.errormap import FuzzMap, cause_of, family_colours, index_markdown, read_maps, write_index
from lstm_atlas.fuzz.strategies import example_key
from lstm_atlas.fuzz.transitions import index_transitions, transitions
from lstm_atlas.versions import env_key

ENV3 = {"tensorflow": "2.21.0", "keras": "3.13.2"}
ENV2 = {"tensorflow": "2.15.1", "keras": "2.15.0"}
ENV216 = {"tensorflow": "2.16.2", "keras": "3.3.3"}
FAMILIES = {"x": "input-rank"}


def example(layer="LSTM", shape=(2, 3), dtype="float32", step="call"):
    return {"layer": layer, "config": {"units": 1}, "masking": False, "declared": None,
            "input": {"shape": list(shape), "dtype": dtype, "container": "ndarray"}, "step": step}


def raised(cls, message, stage="call"):
    return {"status": "raised", "stage": stage, "duration_s": 0.01,
            "exception": {"type": cls, "message": message, "core": message}}


OK = {"status": "ok", "stage": "call", "duration_s": 0.02}


def filled(env, ndim_error="ValueError", corpus="c1"):
    fmap = FuzzMap(env, "replay", None, corpus=corpus, family_of=FAMILIES.get)
    fmap.add(example(), raised(ndim_error, "expected ndim=3, found ndim=2"), ["case:x"])
    fmap.add(example(shape=(4, 5)), raised(ndim_error, "expected ndim=3, found ndim=2"), ["case:x"])
    fmap.add(example(shape=(2, 3, 1)), OK, ["ok"])
    fmap.add(example(shape=()), raised("IndexError", "tuple index out of range", "predict"), [])
    fmap.add(example(shape=(2, 3, 0)), {"status": "crash", "stage": "call", "detail": "interpreter died (SIGABRT)"},
             [])
    fmap.add(example(shape=(2, 3, 4), step="fit"), {"status": "nonfinite", "stage": "fit",
                                                    "detail": "NaN or inf in the loss"}, ["allow:nan"])
    return fmap


def test_summary_counts_failing_examples_and_what_explains_them():
    data = filled(ENV3).to_json()
    s = data["summary"]
    assert s["corpus"] == "c1" and s["examples"] == 6
    # raised, crashed or hung; the NaN is counted apart, never as failing
    assert s["failing_examples"] == 4 and s["nonfinite_examples"] == 1 and s["ok_examples"] == 1
    assert s["explained_by_case"] == 2 and s["unexplained_examples"] == 2
    assert s["explained_by_case_share"] == 0.5
    assert data["cases"] == {"x": {"family": "input-rank", "examples": 2}}
    top = data["signatures"][0]
    assert top["count"] == 2 and top["signature"] == "ValueError: expected ndim=rank3, found ndim=rank2"
    assert data["cells"]["LSTM|2|float32"] == {"input-rank": 2}
    assert data["outcomes"][example_key(example())]["cause"] == "input-rank"
    assert data["env"] == "tf221" and env_key(dict(ENV3, legacy_keras=True)) == "tf221-legacy"


def test_causes_keep_crashes_timeouts_and_nans_visible_whatever_explains_them():
    crash = {"status": "crash", "stage": "fit"}
    assert cause_of(crash, ["case:x"], FAMILIES.get) == "crash"
    assert cause_of({"status": "timeout"}, [], None) == "timeout"
    assert cause_of({"status": "nonfinite"}, [], None) == "nonfinite"
    assert cause_of(raised("ValueError", "m"), ["allow:why"], None) == "allowed"
    assert cause_of(raised("ValueError", "m"), [], None) == "unexplained"
    assert cause_of(raised("ValueError", "m"), ["observed:x"], FAMILIES.get) == "input-rank"


def test_every_family_has_its_own_colour_and_none_is_the_unexplained_red():
    colours = family_colours()
    assert len(set(colours.values())) == len(colours) == 20
    from matplotlib.colors import to_hex

    fixed = {"#d62728", "#e7298a", "#7f7f7f", "#c7c7c7", "#666666"}  # unexplained red, NaN pink, the greys
    assert not fixed & {to_hex(c) for c in colours.values()}


def test_write_and_index_show_versions_side_by_side_with_transitions(tmp_path):
    filled(ENV3, ndim_error="ValueError").write(tmp_path)
    filled(ENV2, ndim_error="TypeError").write(tmp_path)
    for env in ("tf221", "tf215"):
        assert (tmp_path / env / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
        assert json.loads((tmp_path / env / "map.json").read_text())["summary"]["examples"] == 6
    maps = read_maps(tmp_path)
    assert [m["env"] for m in maps] == ["tf215", "tf221"]  # matrix order, not file order
    view = transitions(*maps)
    assert view["paired"] == 6 and view["changed"] == 2 and view["keras_change"]
    assert view["groups"] == [{"from": "TypeError", "to": "ValueError", "count": 2, "examples": view["groups"][0][
        "examples"]}]
    text = index_markdown(maps)
    assert "![tf215](tf215/heatmap.png)" in text and "![tf221](tf221/heatmap.png)" in text
    assert "### tf215 -> tf221 (Keras 2 -> Keras 3)" in text and "| TypeError | ValueError | 2 |" in text
    paths = write_index(tmp_path)
    assert "tf215/heatmap.png" in paths[1].read_text()


def test_maps_of_different_corpora_are_never_paired(tmp_path):
    maps = [filled(ENV2, corpus="c1").to_json(), filled(ENV216, corpus="c2").to_json()]
    assert index_transitions(maps) == []
    assert "No two maps replay the same corpus yet" in index_markdown(maps)
    maps[1] = filled(ENV216, corpus="c1").to_json()
    assert [(v["old"], v["new"]) for v in index_transitions(maps)] == [("tf215", "tf216")]


def test_a_legacy_keras_map_is_paired_with_its_tensorflow():
    legacy = dict(ENV3, keras="2.21.0", legacy_keras=True, env_name="tf221-legacy")
    maps = [filled(ENV3).to_json(), filled(legacy, ndim_error="TypeError").to_json()]
    (view,) = index_transitions(maps)
    assert (view["old"], view["new"]) == ("tf221-legacy", "tf221") and view["changed"] == 2
