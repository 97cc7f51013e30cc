"""Prefetching isolated items: order, the limit on children running ahead, and clean-up.

The children here are stand-ins recorded by a fake ``isolate.start``; that real children give the
same observations is covered by tests/test_plugin.py (crash and timeout through the plugin)."""

from __future__ import annotations

import pytest

from lstm_atlas import prefetch
from lstm_atlas.observe import Observation


class FakeIsolate:
    def __init__(self):
        self.started, self.finished, self.stopped = [], [], []

    def start(self, path, variant, device, logical_cpus=0):
        self.started.append(path)
        return path

    def finish(self, child, timeout):
        self.finished.append((child, timeout))
        return Observation(status="ok", detail=child)

    def stop(self, child):
        self.stopped.append(child)


@pytest.fixture
def fake(monkeypatch):
    isolate = FakeIsolate()
    for name in ("start", "finish", "stop"):
        monkeypatch.setattr(prefetch.isolate, name, getattr(isolate, name))
    return isolate


def planned(limit, keys):
    p = prefetch.Prefetcher(limit)
    for key in keys:
        p.plan(key, key, "repro", "cpu")
    p.fill()
    return p


def test_children_start_in_run_order_at_most_limit_ahead(fake):
    p = planned(1, ["a", "b", "c"])
    assert fake.started == ["a"]
    assert p.take("a", 300).detail == "a"
    assert fake.started == ["a", "b"]  # the next one starts as soon as one is taken
    assert p.take("b", 300).detail == "b" and p.take("c", 300).detail == "c"
    assert fake.finished == [("a", 300), ("b", 300), ("c", 300)]
    assert not p.running and not p.pending


def test_an_item_whose_turn_comes_first_starts_then(fake):
    p = planned(1, ["a", "b"])
    assert p.take("b", 60).detail == "b"
    assert fake.started == ["a", "b"] and "a" in p.running


def test_an_unplanned_item_is_not_the_prefetchers(fake):
    p = planned(2, ["a"])
    assert p.take("zzz", 60) is None
    assert fake.finished == []


def test_close_kills_children_never_taken(fake):
    p = planned(2, ["a", "b", "c"])
    p.close()
    assert sorted(fake.stopped) == ["a", "b"] and not p.pending and not p.running
