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


# --- every count the README states about the library, derived from cases/ and the matrix ----------

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}


def _stated(pattern: str) -> re.Match:
    m = re.search(pattern, README, re.S)
    assert m, f"README no longer states /{pattern}/: update this test with the new sentence"
    return m


def _committed_matrix():
    from lstm_atlas.matrix.merge import merge, read_merged

    path = ROOT / "reports" / "merged.json"
    return read_merged(path), merge([(str(path), read_merged(path))])


def test_readme_family_count_and_names_are_the_schema_the_library_and_the_matrix():
    from lstm_atlas.case.library import load_library
    from lstm_atlas.case.schema import FAMILIES
    from lstm_atlas.matrix.coverage import matrix_counts

    m = _stated(r"one failure mode per file, in (\d+) families\s*\(([^)]*)\)")
    named = re.findall(r"`([\w-]+)`", m.group(2))
    assert int(m.group(1)) == len(named) == len(FAMILIES) and set(named) == set(FAMILIES)
    assert int(m.group(1)) == len({c.family for c in load_library(ROOT / "cases")})
    assert int(m.group(1)) == matrix_counts(_committed_matrix()[0])["families"]


def test_readme_newest_keras_pass_count_is_the_matrix_and_covers_the_library():
    from lstm_atlas.case.library import load_library
    from lstm_atlas.matrix.coverage import matrix_counts

    m = _stated(r"The library holds on it: (\d+) of (\d+) CPU items pass")
    env = matrix_counts(_committed_matrix()[0])["environments"]["tf221-keras-latest"]
    assert (int(m.group(1)), int(m.group(2))) == (env["passed"], env["items"])
    assert int(m.group(2)) == 2 * len(load_library(ROOT / "cases")), "a repro and a fix per case"


def test_readme_keras_latest_change_count_is_the_upgrade_diff():
    from lstm_atlas.matrix.coverage import matrix_counts
    from lstm_atlas.matrix.diff import upgrade_diff

    m = _stated(r"From Keras ([\d.]+) to ([\d.]+) on TF 2\.21, (\d+) of (\d+) CPU case variants change")
    doc, matrix = _committed_matrix()
    assert (m.group(1), m.group(2)) == (doc["environments"]["tf221"]["keras"],
                                        doc["environments"]["tf221-keras-latest"]["keras"])
    assert int(m.group(3)) == len(upgrade_diff(matrix, "tf221", "tf221-keras-latest")["changed"])
    assert int(m.group(4)) == matrix_counts(doc)["environments"]["tf221"]["items"]


def test_readme_upgrade_example_is_the_command_output():
    """The `lstm-atlas upgrade 2.15 2.16` example: its summary, every section heading and the cosmetic list
    are the command's own lines on the committed matrix (the example elides the rest with '...')."""
    from lstm_atlas.matrix.upgrade import upgrade
    from lstm_atlas.matrix.upgrade_render import render_text

    block = _stated(r"```\n\$ lstm-atlas upgrade 2\.15 2\.16\n(.*?)```").group(1)
    output = render_text(upgrade(_committed_matrix()[1], "2.15", "2.16")).splitlines()
    headings = [line for line in output if re.match(r"[A-Z][A-Z ]+ \(\d+\):", line)]
    shown = block.splitlines()
    assert shown[0] == output[0]
    assert [line for line in shown if re.match(r"[A-Z][A-Z ]+ \(\d+\):", line)] == headings
    cosmetic = output.index(next(h for h in headings if h.startswith("COSMETIC")))
    assert output[cosmetic + 1] in shown
    assert re.search(rf"The {headings[0].split('(')[1].split(')')[0]} breaks are", README)


def test_readme_count_of_cases_bounded_at_keras_3_12_is_the_library():
    from packaging.specifiers import SpecifierSet

    from lstm_atlas.case.library import load_library

    m = _stated(r"so (\w+) cases' overrides now say `<3\.12`")
    stated = _WORDS.get(m.group(1), None) or int(m.group(1))

    def bounded_at_3_12(case) -> bool:
        blocks = [case.spec["expect"], *(v["expect"] for v in case.variants.values())]
        return any(spec.version == "3.12" for block in blocks for o in block.get("overrides", [])
                   for spec in SpecifierSet(o["when"].get("keras", "")))

    assert stated == sum(bounded_at_3_12(c) for c in load_library(ROOT / "cases"))


# --- explain's accuracy on the wild corpus, as recorded by benchmarks/explain_wild.py --record ------------

_COUNTS = r"family top-3 \*\*(\d+) of (\d+)\*\* \((\d+)%\), unrelated rejected \*\*(\d+) of (\d+)\*\* \((\d+)%\)"


def _accuracy_record() -> dict:
    from lstm_atlas.files import read_json_file

    return read_json_file(ROOT / "reports" / "explain-accuracy.json")


def _check_counts(m: re.Match, counts: dict) -> None:
    fam_hit, fam_n, fam_pct, rej_hit, rej_n, rej_pct = (int(g) for g in m.groups())
    assert [fam_hit, fam_n] == counts["family_top3"] and [rej_hit, rej_n] == counts["unrelated_rejected"]
    assert fam_pct == round(100 * fam_hit / fam_n) and rej_pct == round(100 * rej_hit / rej_n)


def test_readme_explain_accuracy_is_the_recorded_leave_one_report_out_figure():
    record = _accuracy_record()
    _check_counts(_stated(r"Held out report by report on `wild/tune`: " + _COUNTS), record["tune_leave_one_report_out"])


def test_readme_frozen_figure_is_the_recorded_one_or_says_it_is_not_measured():
    record = _accuracy_record()
    m = _stated(r"On `wild/frozen` \(never tuned on\): ([^.]*)\.")
    if record.get("frozen") is None:
        assert m.group(1) == "not measured yet"
    else:
        _check_counts(re.match(_COUNTS, m.group(1)) or pytest.fail(f"frozen figure not stated: {m.group(1)}"),
                      record["frozen"])


def test_recorded_explain_accuracy_is_not_stale():
    """The recorded tune figure was derived from today's cases, matrix, tune corpus and scoring sources; after a
    change to any of them, rerun ``benchmarks/explain_wild.py --no-frozen --record`` (and update README)."""
    from lstm_atlas.explain.accuracy import inputs_digest

    record = _accuracy_record()
    assert record["inputs_digest"] == inputs_digest(ROOT / "cases", ROOT / "reports" / "merged.json", ROOT / "wild"), \
        "reports/explain-accuracy.json is stale: run benchmarks/explain_wild.py --no-frozen --record"
