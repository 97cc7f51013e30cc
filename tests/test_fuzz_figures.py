"""The README's fuzz figures are the committed maps' (a drift fails here)."""

from __future__ import annotations

from lstm_atlas.fuzz.errormap import read_maps
from lstm_atlas.fuzz.figures import current_block, readme_block

from .conftest import ROOT


def test_readme_fuzz_figures_are_the_committed_maps():
    maps = read_maps(ROOT / "reports" / "fuzz")
    assert len(maps) == 12, [m["env"] for m in maps]
    block = current_block((ROOT / "README.md").read_text("utf-8"))
    assert block is not None, "README.md has no fuzz figures block"
    assert block == readme_block(maps), "run `python -m lstm_atlas.fuzz.figures README.md` after a replay"


def test_the_block_counts_every_failing_example_once():
    maps = read_maps(ROOT / "reports" / "fuzz")
    for m in maps:
        s = m["summary"]
        assert s["explained_by_case"] + s["explained_by_allow"] + s["unexplained_examples"] == s["failing_examples"]
        assert f"| {m['env']} |" in readme_block(maps)
