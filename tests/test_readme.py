"""README's requirements agree with pyproject.toml and with the installed TensorFlow/Keras wheels.

The supported Python range is a fact about wheels (TF's builds, Keras' Requires-Python), so
it is checked against the metadata of the distributions the default extra really installed.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from .conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def _stated_python_range() -> tuple[Version, Version]:
    m = re.search(r"\*\*Python (3\.\d+) to (3\.\d+)\*\*", README)
    assert m, "README must state the supported Python as **Python 3.X to 3.Y**"
    return Version(m.group(1)), Version(m.group(2))


def _lowest_allowed(spec: str) -> Version:
    spec_set = SpecifierSet(spec)
    return next(Version(f"3.{minor}") for minor in range(0, 30) if Version(f"3.{minor}") in spec_set)


def _cpu_pin(name: str) -> str:
    for text in PYPROJECT["project"]["optional-dependencies"]["cpu"]:
        req = Requirement(text)
        if req.name == name:
            return str(req.specifier).removeprefix("==")
    raise AssertionError(f"{name} is not pinned in the cpu extra")


def _installed(name: str) -> metadata.PackageMetadata:
    try:
        dist = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed (install the 'cpu' extra)")
    if dist["Version"] != _cpu_pin(name):
        pytest.skip(f"{name} {dist['Version']} is installed, not the pinned {_cpu_pin(name)}")
    return dist


def test_stated_lowest_python_is_requires_python():
    low, _ = _stated_python_range()
    assert _lowest_allowed(PYPROJECT["project"]["requires-python"]) == low


def test_stated_lowest_python_is_what_the_pinned_keras_requires():
    low, _ = _stated_python_range()
    assert _lowest_allowed(_installed("keras")["Requires-Python"]) == low


def test_stated_python_range_is_covered_by_the_pinned_tensorflow_wheels():
    low, high = _stated_python_range()
    tf = _installed("tensorflow-cpu")
    built_for = sorted(Version(c.rsplit("::", 1)[1].strip()) for c in tf.get_all("Classifier")
                       if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert built_for[-1] == high, f"tensorflow-cpu {tf['Version']} is built for {built_for}"
    assert _lowest_allowed(tf["Requires-Python"]) <= low


def test_readme_names_the_debian_venv_package_and_the_platforms():
    assert "python3-venv" in README
    for platform in ("Linux x86_64", "Windows x86_64", "macOS", "Linux aarch64"):
        assert platform in README


def test_readme_layout_table_names_every_subpackage_and_module_that_exists():
    package = ROOT / "harness" / "lstm_atlas"
    rows = dict(re.findall(r"^  \| `(\w+)/` \| (.+) \|$", README, re.M))
    folders = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert set(rows) == folders, "one README row per subpackage"
    for folder, text in rows.items():
        for name in re.findall(r"`([\w/]+(?:\.py)?)`", text):
            assert (package / folder / name).exists(), f"README names {folder}/{name}, which does not exist"
    top = re.search(r"^  \| top level \| (.+) \|$", README, re.M).group(1)
    listed = set(re.findall(r"`(\w+\.py)`", top))
    assert listed == {p.name for p in package.glob("*.py") if p.name != "__init__.py"}


def test_every_data_file_of_the_package_is_declared_package_data():
    package = ROOT / "harness" / "lstm_atlas"
    declared = PYPROJECT["tool"]["setuptools"]["package-data"]
    data = [p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts]
    assert len(data) >= 7, "schemas, templates, the explain index and the fuzz allow file"
    for path in data:
        owner = path.parent
        while not (owner / "__init__.py").exists():
            owner = owner.parent
        name = ".".join(owner.relative_to(package.parent).parts)
        rel = path.relative_to(owner).as_posix()
        assert any(Path(rel).match(glob) for glob in declared.get(name, [])), f"{path} is not in the wheel"
