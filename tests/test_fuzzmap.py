"""The map's bookkeeping and rendering, on outcome records as the worker returns them."""

from __future__ import annotations

import json

from lstm_atlas.fuzz.errormap import FuzzMap, index_markdown, moved, read_maps, write_index
from lstm_atlas.versions import env_key

ENV3 = {"tensorflow": "2.21.0", "keras": "3.13.2"}
ENV2 = {"tensorflow": "2.15.1", "keras": "2.15.0"}


def example(layer="LSTM", shape=(2, 3), dtype="float32", step="call"):
    return {"layer": layer, "config": {"units": 1}, "masking": False, "declared": None,
            "input": {"shape": list(shape), "dtype": dtype, "container": "ndarray"}, "step": step}


def raised(cls, message, stage="call"):
    return {"status": "raised", "stage": stage, "duration_s": 0.01,
            "exception": {"type": cls, "message": message, "core": message}}


def filled(env, ndim_error="ValueError"):
    fmap = FuzzMap(env, "ci", None)
    fmap.add(example(), raised(ndim_error, "expected ndim=3, found ndim=2"), ["case:x"])
    fmap.add(example(shape=(4, 5)), raised(ndim_error, "expected ndim=3, found ndim=2"), ["case:x"])
    fmap.add(example(shape=(2, 3, 1)), {"status": "ok", "stage": "call", "duration_s": 0.02}, ["ok"])
    fmap.add(example(shape=()), raised("IndexError", "tuple index out of range", "predict"), [])
    return fmap


def test_equal_causes_collapse_and_counts_add_up():
    data = filled(ENV3).to_json()
    s = data["summary"]
    assert s["examples"] == 4
    assert s["distinct_signatures"] == 2 and s["explained"] == 1 and s["unexplained"] == 1
    assert s["suspected_bugs"] == 1
    top = data["signatures"][0]
    assert top["count"] == 2 and top["signature"] == "ValueError: expected ndim=rank3, found ndim=rank2"
    assert data["cells"]["LSTM|2|float32"] == {"ValueError": 2}
    assert data["env"] == "tf221" and env_key(dict(ENV3, legacy_keras=True)) == "tf221-legacy"


def test_write_and_index_show_versions_side_by_side_with_what_moved(tmp_path):
    filled(ENV3, ndim_error="ValueError").write(tmp_path)
    filled(ENV2, ndim_error="TypeError").write(tmp_path)
    for env in ("tf221", "tf215"):
        assert (tmp_path / env / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
        assert json.loads((tmp_path / env / "map.json").read_text())["summary"]["examples"] == 4
    maps = read_maps(tmp_path)
    diff = moved(*sorted(maps, key=lambda m: m["env"]))
    assert diff["cells"] == [{"layer": "LSTM", "rank": 2, "dtype": "float32", "old": "TypeError", "new": "ValueError"}]
    text = index_markdown(maps)
    assert "![tf215](tf215/heatmap.png) | ![tf221](tf221/heatmap.png)" in text
    assert "What moved from tf215 (Keras 2) to tf221 (Keras 3)" in text
    paths = write_index(tmp_path)
    assert "tf215/heatmap.png" in paths[1].read_text()
