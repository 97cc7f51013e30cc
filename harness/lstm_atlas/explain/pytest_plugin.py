"""``pytest --atlas-explain``: a failing test's report gets a section "lstm-atlas explain".

For any project's tests, not only atlas cases. Its own ``pytest11`` entry point, apart from
``lstm_atlas.plugin`` (whose source keys the result cache): changing one never touches the other.
Without the flag it does nothing, and it imports nothing beyond this module until a test fails.
"""

from __future__ import annotations

import pytest

from lstm_atlas.explain import hooks

SECTION = "lstm-atlas explain"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("lstm-atlas explain")
    group.addoption("--atlas-explain", action="store_true", default=False,
                    help="add the known LSTM failure mode, its cause and a verified fix to each failing test's report")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: sees the report after xfail has been applied
def pytest_runtest_makereport(item, call):
    made = yield
    if not item.config.getoption("atlas_explain", False) or call.excinfo is None or made.excinfo is not None:
        return
    rep = made.get_result()
    if not rep.failed:
        return  # skips and xfails are not errors to explain
    outcome = hooks.outcome_of(call.excinfo.value)  # never raises; the explainer's own failure is one line
    if outcome is not None and outcome[0] != "unknown":  # an error no case knows adds nothing to read
        rep.sections.append((SECTION, outcome[1]))
