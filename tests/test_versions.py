"""Versions and environment names: one parser (packaging), one key."""

from __future__ import annotations

import pytest

from lstm_atlas.versions import env_key, env_label, env_sort_key, matches, release


@pytest.mark.parametrize("version,wanted,expected", [
    ("2.15.1", "2.15", True), ("2.15.1", "2.15.1", True), ("2.15.1", "2.1", False), ("2.16.2", "2.15", False),
    ("3.13.2", "3.x", True), ("3.13.2", "3.*", True), ("2.15.0", "3.x", False), ("3.13.2", None, True),
    ("3.13.2", "", True), (None, "2.15", False), ("2.21.0", " 2.21 ", True), ("2.16.0rc1", "2.16", True),
])
def test_a_wanted_version_matches_itself_and_every_release_under_it(version, wanted, expected):
    assert matches(version, wanted) is expected


def test_release_sorts_numerically_not_as_text():
    assert release("2.9.0") < release("2.10.0") and release("not a version") == () and release(None) == ()
    assert sorted(["2.21.0", "2.9.0", "2.10.1"], key=release) == ["2.9.0", "2.10.1", "2.21.0"]


@pytest.mark.parametrize("environment,key", [
    ({"env_name": "tf221-keras-latest", "tensorflow": "2.21.0"}, "tf221-keras-latest"),
    ({"env_name": ".venv", "tensorflow": "2.21.0"}, "tf221"),
    ({"env_name": "venv", "tensorflow": "2.15.1", "legacy_keras": True}, "tf215-legacy"),
    ({"env_name": "a name with spaces", "tensorflow": "2.12.1"}, "tf212"),
    ({"tensorflow": "2.16.2"}, "tf216"),
])
def test_one_environment_key_for_results_reports_and_fuzz_maps(environment, key):
    assert env_key(environment) == key


def test_matrix_columns_go_by_tensorflow_release_then_legacy_keras():
    envs = [{"tensorflow": "2.21.0", "legacy_keras": True, "keras": "2.21.0"},
            {"tensorflow": "2.9.3", "keras": "2.9.0"}, {"tensorflow": "2.21.0", "keras": "3.13.2"},
            {"tensorflow": "2.10.1", "keras": "2.10.0"}]
    ordered = sorted(envs, key=env_sort_key)
    assert [(e["tensorflow"], bool(e.get("legacy_keras"))) for e in ordered] == [
        ("2.9.3", False), ("2.10.1", False), ("2.21.0", False), ("2.21.0", True)]


def test_environment_labels_tell_the_matrix_environments_apart():
    labels = [env_label(e) for e in ({"tensorflow": "2.21.0", "keras": "3.13.2"},
                                     {"tensorflow": "2.21.0", "keras": "3.15.1"},
                                     {"tensorflow": "2.21.0", "keras": "2.21.0", "legacy_keras": True})]
    assert labels == ["TF 2.21.0 / Keras 3.13.2", "TF 2.21.0 / Keras 3.15.1", "TF 2.21.0 / Keras 2.21.0 tf_keras"]
