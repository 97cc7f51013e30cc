"""Where the library and the published matrix are: the project's when run inside one, else the shipped copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lstm_atlas.errors import InputError
from lstm_atlas.install import locate

from .conftest import CASES_DIR, ROOT


@pytest.fixture
def wheel_layout(tmp_path, monkeypatch):
    """A site-packages lstm_atlas holding shipped copies, as the wheel installs them; cwd outside any project."""
    package = tmp_path / "site-packages" / "lstm_atlas"
    shutil.copytree(CASES_DIR / "input-rank", package / "cases" / "input-rank")
    (package / "published").mkdir(parents=True)
    shutil.copy(ROOT / "reports" / "merged.json", package / "published" / "merged.json")
    shutil.copytree(ROOT / "constraints", package / "constraints")
    monkeypatch.setattr(locate, "_package_dir", lambda: package)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return package


def test_outside_a_project_the_shipped_copies_are_read(wheel_layout):
    assert locate.project_root() is None
    assert locate.library() == locate.Located(wheel_layout / "cases", "shipped")
    assert locate.published_merged() == locate.Located(wheel_layout / "published" / "merged.json", "shipped")
    assert locate.constraints_dir().path == wheel_layout / "constraints"


def test_a_project_with_its_own_cases_reads_them_and_the_shipped_matrix(wheel_layout):
    (Path("cases") / "mine").mkdir(parents=True)
    shutil.copy(CASES_DIR / "input-rank" / "lstm-call-on-2d-tensor.yaml", "cases/mine/a.yaml")
    assert locate.project_root() == Path.cwd().resolve()
    assert locate.library() == locate.Located(Path("cases"), "project")  # relative: messages name cases/...
    assert locate.published_merged().origin == "shipped"  # it has no reports/merged.json of its own


def test_a_cases_folder_of_other_yaml_is_no_atlas_project(wheel_layout):
    Path("cases").mkdir()
    Path("cases/ci.yaml").write_text("steps: [build]\n", encoding="utf-8")
    assert locate.project_root() is None and locate.library().origin == "shipped"


def test_an_editable_or_pythonpath_install_reads_its_checkout():
    # these tests import lstm_atlas from the checkout's harness/, which holds no shipped copies
    assert locate.source_checkout() == ROOT
    assert locate.shipped("cases") == locate.Located(ROOT / "cases", "checkout")
    assert locate.shipped("reports").path == ROOT / "reports"


def test_an_install_without_the_data_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(locate, "_package_dir", lambda: tmp_path / "lstm_atlas")
    with pytest.raises(InputError, match="ships no cases/"):
        locate.shipped("cases")


def test_outside_a_project_commands_that_publish_need_out(wheel_layout):
    assert locate.output_dir("here", "reports", "report") == "here"
    with pytest.raises(InputError, match="`lstm-atlas report` writes only where asked: pass --out"):
        locate.output_dir(None, "reports", "report")
    Path("reports").mkdir()
    shutil.copy(wheel_layout / "published" / "merged.json", "reports/merged.json")  # now it is a project
    assert locate.output_dir(None, "reports", "report") == "reports"


def test_the_user_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTM_ATLAS_CACHE", str(tmp_path / "c"))
    assert locate.user_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LSTM_ATLAS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert locate.user_cache_dir() == tmp_path / "xdg" / "lstm-atlas"
