"""The matrix planner: versions, interpreters, constraints and environment locks, without uv or TensorFlow."""

from __future__ import annotations

import pytest

from lstm_atlas.errors import InputError
from lstm_atlas.install.plan import choose_python, constraints_file, env_lock, parse_versions, plan

from .conftest import ROOT

CONSTRAINTS = ROOT / "constraints"


def test_versions_are_minor_versions_in_the_order_given():
    assert parse_versions("2.15, 2.21,2.15,,2.16.x") == ["2.15", "2.21", "2.16"]
    for bad in ("", " , ", "latest", "2", "2.15.1"):
        with pytest.raises(InputError, match="--tf"):
            parse_versions(bad)


def test_python_is_this_one_when_the_tf_has_wheels_for_it():
    assert choose_python("2.21", (3, 12)) == "3.12"
    assert choose_python("2.15", (3, 12)) == "3.11"  # TF 2.15 has no 3.12 wheel
    assert choose_python("2.16", (3, 13)) == "3.12"
    assert choose_python("2.21", (3, 10)) == "3.13"  # below what keras 3.13 and lstm_atlas need
    assert choose_python("2.15", (3, 12), given="3.11") == "3.11"
    with pytest.raises(InputError, match="TF 2.15 has wheels for Python 3.11 to 3.11"):
        choose_python("2.15", (3, 11), given="3.12")


def test_every_tf_version_with_constraints_has_a_python_range():
    from lstm_atlas.install.plan import NEWEST_PYTHON

    shipped = {tuple(map(int, p.stem.removeprefix("tf-").split("."))) for p in CONSTRAINTS.glob("tf-2.??.txt")}
    assert shipped == set(NEWEST_PYTHON)


def test_a_version_without_constraints_names_those_there_are():
    with pytest.raises(InputError, match=r"no constraints for TF 2\.99 .* \(have 2\.12, 2\.13, .*2\.21\)"):
        constraints_file(CONSTRAINTS, "2.99")


def test_the_plan_pins_keras_per_tf_and_keys_environments_as_tox_does(tmp_path):
    plans = plan(["2.15", "2.21"], CONSTRAINTS, tmp_path, "wheel abc", (3, 11), keras_latest=True)
    assert [p.key for p in plans] == ["tf215", "tf221", "tf221-keras-latest"]
    assert [p.constraints.name for p in plans] == ["tf-2.15.txt", "tf-2.21.txt", "tf-2.21-keras-latest.txt"]
    assert "keras==2.15.0" in plans[0].constraints.read_text()
    assert all(p.env_dir.parent == tmp_path and p.env_dir.name.startswith(p.key + "-") for p in plans)
    assert len({p.lock for p in plans}) == 3


def test_the_lock_changes_with_what_the_environment_is_made_of(tmp_path):
    base = env_lock("3.11", "tensorflow-cpu==2.15.1\n", "wheel abc")
    assert base == env_lock("3.11", "tensorflow-cpu==2.15.1\n", "wheel abc")
    assert len({base, env_lock("3.12", "tensorflow-cpu==2.15.1\n", "wheel abc"),
                env_lock("3.11", "tensorflow-cpu==2.15.0\n", "wheel abc"),
                env_lock("3.11", "tensorflow-cpu==2.15.1\n", "wheel abd")}) == 4
    first = plan(["2.15"], CONSTRAINTS, tmp_path, "wheel abc", (3, 11))[0]
    other = plan(["2.15"], CONSTRAINTS, tmp_path, "wheel abd", (3, 11))[0]
    assert first.env_dir != other.env_dir  # a new wheel gets a new environment; the old one is not reused
