"""``pytest --atlas-explain`` (lstm_atlas/explain/pytest_plugin.py) on throwaway projects, run in a subprocess."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest

from lstm_atlas.explain.pytest_plugin import SECTION

from .conftest import ROOT
from .test_hooks import CASE, KERAS_2D, MESSAGE

MODULE = "lstm_atlas.explain.pytest_plugin"
ENTRY_POINT = "lstm_atlas_explain"
HEADER_RE = re.compile(rf"^-+ {re.escape(SECTION)} -+$", re.M)
RECORDED_PROJECT = f'''
import pytest

MESSAGE = {MESSAGE!r}

@pytest.fixture
def broken_fixture():
    raise ValueError(MESSAGE)

def test_passes():
    assert 1 + 1 == 2

def test_recorded():
    raise ValueError(MESSAGE)

def test_in_setup(broken_fixture):
    pass

def test_unknown():
    assert [1] == [2]

def test_pytest_fail():
    pytest.fail(MESSAGE)

@pytest.mark.xfail(raises=ValueError)
def test_xfail():
    raise ValueError(MESSAGE)
'''


#: The throwaway project's probe: every report's outcome and section names, one JSON line each.
PROBE_CONFTEST = """
import json

def pytest_runtest_logreport(report):
    with open("reports.jsonl", "a") as out:
        out.write(json.dumps([report.nodeid.split("::")[-1], report.when, report.outcome,
                              [name for name, _ in report.sections]]) + "\\n")
"""


def _sectioned(pytester) -> set[tuple[str, str, str]]:
    import json

    rows = [json.loads(line) for line in (pytester.path / "reports.jsonl").read_text().splitlines()]
    assert len(rows) == 3 * 6 - 1, "setup, call and teardown of six tests, no call after the failed setup"
    return {(name, when, outcome) for name, when, outcome, sections in rows if SECTION in sections}


def _installed() -> bool:
    return any(ep.value == MODULE for ep in metadata.entry_points(group="pytest11"))


def _load() -> list[str]:
    """Where this checkout is not the installed one (its entry points are main's), load it by name."""
    return [] if _installed() else ["-p", MODULE]


def _without() -> list[str]:
    return ["-p", f"no:{ENTRY_POINT}"] if _installed() else []


def _blocks(text: str) -> dict[str, str]:
    """Each test's block of the report (FAILURES, ERRORS and, with -rA, PASSES), by test name."""
    parts = re.split(r"^_{3,} (?:ERROR at setup of )?(\w+) _{3,}$", text, flags=re.M)
    return {name: re.split(r"^={3,}", block, maxsplit=1, flags=re.M)[0]
            for name, block in zip(parts[1::2], parts[2::2], strict=True)}


def _stable(text: str) -> str:
    return re.sub(r" in \d+\.\d+s", " in <t>s", text)


def test_pyproject_registers_the_plugin_as_its_own_pytest11_entry_point():
    points = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["entry-points"]["pytest11"]
    assert points[ENTRY_POINT] == MODULE
    assert not MODULE.startswith("lstm_atlas.plugin"), "plugin/ keys the result cache"


def test_readme_names_the_flag_and_the_plugin_name_that_switches_it_off():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "pytest --atlas-explain" in readme and f"-p no:{ENTRY_POINT}" in readme and MODULE in readme


def test_failing_tests_get_the_section_passing_ones_and_non_errors_do_not(pytester):
    pytester.makepyfile(test_project=RECORDED_PROJECT)
    pytester.makeconftest(PROBE_CONFTEST)
    result = pytester.runpytest_subprocess(*_load(), "--atlas-explain", "-rA", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3, errors=1, xfailed=1)
    assert _sectioned(pytester) == {("test_recorded", "call", "failed"), ("test_in_setup", "setup", "failed")}
    text = result.stdout.str()
    blocks = _blocks(text)
    assert {name for name, block in blocks.items() if HEADER_RE.search(block)} == {"test_recorded", "test_in_setup"}
    for name in ("test_recorded", "test_in_setup"):
        section = blocks[name][HEADER_RE.search(blocks[name]).end():]
        assert f"] {CASE}  (input-rank)" in section and "Fix:" in section
    assert len(HEADER_RE.findall(text)) == 2, "none for the passing test (-rA would show its sections)"


def test_without_the_flag_the_report_is_what_it_is_without_the_plugin(pytester):
    pytester.makepyfile(test_project=RECORDED_PROJECT)
    loaded = pytester.runpytest_subprocess(*_load(), "-rA", "-p", "no:cacheprovider")
    absent = pytester.runpytest_subprocess(*_without(), "-rA", "-p", "no:cacheprovider")
    assert SECTION not in loaded.stdout.str()
    assert _stable(loaded.stdout.str()) == _stable(absent.stdout.str())
    assert loaded.ret == absent.ret == pytest.ExitCode.TESTS_FAILED


def test_a_failing_explainer_adds_one_line_and_leaves_the_failure(pytester):
    pytester.makepyfile(test_project=RECORDED_PROJECT)
    pytester.makeconftest("import lstm_atlas.explain.hooks as h\n\n"
                          "def _broken(*args, **kwargs):\n    raise RuntimeError('index gone')\n\n"
                          "h._answer_text = _broken\n")
    result = pytester.runpytest_subprocess(*_load(), "--atlas-explain", "-p", "no:cacheprovider", "-k", "recorded")
    result.assert_outcomes(failed=1)
    block = _blocks(result.stdout.str())["test_recorded"]
    assert "E       ValueError: " in block
    section = block[HEADER_RE.search(block).end():].strip()
    assert section == "lstm-atlas explain failed (RuntimeError: index gone); the original error is unchanged"


@pytest.mark.tf
def test_a_real_keras_failure_in_any_project_gets_its_explanation(pytester, monkeypatch):
    """(Without the flag the report is unchanged: the test above compares it with the plugin's absence.)"""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    body = "\n".join("    " + line for line in KERAS_2D.splitlines())
    pytester.makepyfile(test_model=f"def test_ok():\n    assert True\n\ndef test_lstm():\n{body}\n")
    flagged = pytester.runpytest_subprocess(*_load(), "--atlas-explain", "-rA", "-p", "no:cacheprovider")
    flagged.assert_outcomes(passed=1, failed=1)
    blocks = _blocks(flagged.stdout.str())
    section = blocks["test_lstm"][HEADER_RE.search(blocks["test_lstm"]).end():]
    assert re.match(r"\nlstm-atlas explain \(TF \d+\.\d+, Keras \d+\.\d+\):\n1\. \[match ", section)
    assert f"] {CASE}  (input-rank)" in section
    assert len(HEADER_RE.findall(flagged.stdout.str())) == 1, "none for the passing test"
