"""Expectation selection (version/device overrides), verdicts and claim verdicts, on recorded observations."""

from __future__ import annotations

from lstm_atlas.engine.match import claim_verdict, effective_expectation, verdict, when_applies
from lstm_atlas.engine.observe import ExceptionInfo, Observation

ENV_215 = {"tensorflow": "2.15.1", "keras": "2.15.0", "numpy": "1.26.4", "keras_flavor": "keras2",
           "device_kind": "cpu"}
ENV_221 = {"tensorflow": "2.21.0", "keras": "3.13.2", "numpy": "2.4.6", "keras_flavor": "keras3",
           "device_kind": "cpu"}
ENV_221_GPU = dict(ENV_221, device_kind="gpu")

EXPECT = {
    "raises": "ValueError", "stage": "fit", "match": "Invalid input shape",
    "overrides": [
        {"when": {"tf": "<2.16"}, "match": "expected ndim=3, found ndim=2"},
        {"when": {"device": "gpu"}, "ok": {"loss": "nan"}, "unverified": True},
    ],
}


def raised(type_="ValueError", message="Invalid input shape for input", stage="fit", hierarchy=None):
    return Observation(status="raised", stage=stage, steps_run=["data", "construct", "compile"],
                       exception=ExceptionInfo(type=type_, module="builtins",
                                               hierarchy=hierarchy or [type_, "Exception"], message=message))


def ran(loss_history=(0.5, 0.4), warnings=(), output_shape=None):
    outcome = {"loss_history": list(loss_history), "loss": loss_history[-1] if loss_history else None,
               "loss_finite": all(v == v and abs(v) != float("inf") for v in loss_history)}
    if output_shape is not None:
        outcome["output_shape"] = output_shape
    return Observation(status="ok", stage="fit", steps_run=["data", "construct", "compile", "fit"],
                       outcome=outcome, warnings=list(warnings))


def test_when_uses_pep440_specifiers_and_device():
    assert when_applies({"tf": ">=2.16"}, ENV_221)
    assert not when_applies({"tf": ">=2.16"}, ENV_215)
    assert when_applies({"tf": ">=2.16,<2.22", "keras": ">=3"}, ENV_221)
    assert when_applies({"device": "gpu"}, ENV_221_GPU) and not when_applies({"device": "gpu"}, ENV_221)
    assert when_applies({"keras_flavor": "keras2"}, ENV_215)
    assert when_applies({"tf": ">=2.16"}, dict(ENV_221, tensorflow="2.16.0-rc1"))


def test_effective_expectation_picks_version_override():
    assert effective_expectation(EXPECT, ENV_221)["match"] == "Invalid input shape"
    old = effective_expectation(EXPECT, ENV_215)
    assert old["match"] == "expected ndim=3, found ndim=2"
    assert old["raises"] == "ValueError" and old["applied_overrides"] == [0]


def test_ok_override_drops_the_raise_fields():
    gpu = effective_expectation(EXPECT, ENV_221_GPU)
    assert "raises" not in gpu and "match" not in gpu and gpu["ok"] == {"loss": "nan"}
    assert gpu["unverified"] is True


def test_later_override_wins():
    expect = {"ok": True, "overrides": [{"when": {"tf": ">=2.0"}, "raises": "TypeError", "stage": "fit"},
                                        {"when": {"tf": ">=2.16"}, "raises": "ValueError", "stage": "call"}]}
    out = effective_expectation(expect, ENV_221)
    assert (out["raises"], out["stage"]) == ("ValueError", "call") and "ok" not in out


def test_verdict_pass_and_each_kind_of_mismatch():
    expectation = effective_expectation(EXPECT, ENV_221)
    assert verdict(expectation, raised()).passed
    wrong_type = verdict(expectation, raised(type_="TypeError"))
    assert not wrong_type.passed and "exception class" in wrong_type.mismatches[0]
    wrong_stage = verdict(expectation, raised(stage="predict"))
    assert wrong_stage.mismatches == ["stage: expected fit, observed predict"]
    wrong_message = verdict(expectation, raised(message="something else"))
    assert "message does not match" in wrong_message.mismatches[0]
    nothing = verdict(expectation, ran())
    assert "nothing was raised" in nothing.mismatches[0]


def test_exception_class_is_exact_not_a_base_class():
    assert not verdict({"raises": "Exception", "stage": "fit"}, raised()).passed


def test_ok_checks_loss_and_shape():
    assert verdict({"ok": {"loss": "finite"}}, ran()).passed
    assert not verdict({"ok": {"loss": "nan"}}, ran()).passed
    assert verdict({"ok": {"loss": "nan"}}, ran((0.5, float("nan")))).passed
    assert verdict({"ok": {"loss": "nonfinite"}}, ran((float("inf"),))).passed
    assert verdict({"ok": {"output_shape": [None, 3]}}, ran(output_shape=[8, 3])).passed
    shape = verdict({"ok": {"output_shape": [None, 3]}}, ran(output_shape=[8, 3, 1]))
    assert shape.mismatches == ["expected output shape [None, 3], observed [8, 3, 1]"]
    assert "was raised" in verdict({"ok": True}, raised()).mismatches[0]


def test_warning_checks():
    warned = ran(warnings=[{"category": "UserWarning", "message": "Do not pass an `input_shape`"}])
    assert verdict({"ok": True, "warns": "input_shape"}, warned).passed
    assert not verdict({"ok": True, "warns": "input_shape"}, ran()).passed
    assert not verdict({"ok": True, "no_warns": "input_shape"}, warned).passed


def test_crash_and_timeout_never_pass():
    crash = Observation(status="crash", detail="interpreter killed by SIGABRT")
    result = verdict({"ok": True}, crash)
    assert not result.passed and "crash" in result.mismatches[0]
    assert claim_verdict({"text": "t", "ok": True}, crash) is None


def test_claim_verdicts():
    claim = {"text": "raises TypeError at fit", "raises": "TypeError", "stage": "fit"}
    assert claim_verdict(claim, raised(type_="TypeError", hierarchy=["TypeError", "Exception"])) == "holds"
    assert claim_verdict(claim, raised(type_="ValueError")) == "false"
    assert claim_verdict(claim, raised(type_="TypeError", stage="predict")) == "partly"
    assert claim_verdict(claim, ran()) == "false"
    subclass = raised(type_="InvalidArgumentError", hierarchy=["InvalidArgumentError", "OpError", "Exception"])
    assert claim_verdict({"text": "t", "raises": "OpError"}, subclass) == "holds"
    assert claim_verdict({"text": "runs", "ok": True}, ran()) == "holds"
    assert claim_verdict({"text": "runs", "ok": True}, raised()) == "false"
    assert claim_verdict({"text": "diverges", "ok": True, "loss": "nan"}, ran()) == "false"
    assert claim_verdict({"text": "diverges", "ok": True, "loss": "nan"}, ran((1.0, float("nan")))) == "holds"
    assert claim_verdict(None, ran()) is None


def test_expected_crash_passes_only_on_a_crash():
    expect = {"ok": True, "overrides": [{"when": {"tf": ">=2.16,<2.17"}, "crash": True}]}
    on_216 = effective_expectation(expect, dict(ENV_221, tensorflow="2.16.2"))
    assert on_216["crash"] is True and "ok" not in on_216
    abort = Observation(status="crash", detail="interpreter killed by SIGABRT",
                        outcome={"returncode": -6, "signal": "SIGABRT"})
    assert verdict(on_216, abort).passed
    assert not verdict(on_216, ran()).passed
    assert "crash" not in effective_expectation(expect, ENV_221)


def test_expected_crash_does_not_pass_on_a_python_traceback():
    """A child that exits 1 after a traceback is an error, and even a 'crash' without a signal is not enough."""
    expect = {"crash": True}
    traceback_exit = Observation(status="error", detail="interpreter exited with code 1 and no result",
                                 outcome={"returncode": 1, "stderr_tail": "Traceback ...\nRuntimeError: x"})
    result = verdict(expect, traceback_exit)
    assert not result.passed and "die by a signal" in result.mismatches[0] and "code 1" in result.mismatches[0]
    worker_gone = Observation(status="crash", detail="pytest-xdist worker crashed")
    assert not verdict(expect, worker_gone).passed


def test_patterns_are_matched_in_linear_time():
    """RE2 matches even a pattern validate would refuse without backtracking (the verdict never hangs)."""
    import time

    started = time.perf_counter()
    result = verdict({"raises": "ValueError", "stage": "fit", "match": r"^(?:.|\S)*QQQ$"},
                     raised(message="x" * 200_000))
    assert time.perf_counter() - started < 1.0
    assert result.mismatches == [r"message does not match /^(?:.|\S)*QQQ$/"]
    assert verdict({"raises": "ValueError", "stage": "fit", "match": r"shape for"}, raised()).passed


def test_ok_checks_which_output_rows_are_not_finite():
    expectation = {"ok": {"nonfinite_rows": [1]}}
    seen = Observation(status="ok", outcome={"nonfinite_rows": [1], "output_shape": [4, 1]})
    assert verdict(expectation, seen).passed
    wider = verdict(expectation, Observation(status="ok", outcome={"nonfinite_rows": [0, 1, 2, 3]}))
    assert not wider.passed and "expected NaN/inf in output rows [1], observed [0, 1, 2, 3]" in wider.mismatches
    assert not verdict({"ok": {"nonfinite_rows": []}}, Observation(status="ok", outcome={})).passed
