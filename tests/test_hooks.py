"""``lstm_atlas.explaining()`` and the hooks' shared core (lstm_atlas/explain/hooks.py).

The unit tests raise the message TensorFlow 2.21 recorded in the committed matrix
(reports/merged.json); the script test raises the real error from Keras in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata

import pytest

import lstm_atlas
from lstm_atlas.explain import hooks

from .conftest import ROOT

CASE = "lstm-call-on-2d-tensor"
RECORDED = json.loads((ROOT / "reports" / "merged.json").read_text("utf-8"))["results"][CASE]["repro"]["cpu"]
MESSAGE = RECORDED["tf221"]["message"]  # what Keras 3.13 raised for LSTM(4) called on a (2, 5) tensor
KERAS_2D = textwrap.dedent("""\
    import numpy as np
    import keras
    keras.layers.LSTM(4)(np.zeros((2, 5), "float32"))
""")


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT / "harness"), TF_CPP_MIN_LOG_LEVEL="2")


def _raise_recorded():
    raise ValueError(MESSAGE)


def test_the_recorded_message_is_the_2d_call_error():
    assert "expected ndim=3, found ndim=2" in MESSAGE and RECORDED["tf221"]["exception_type"] == "ValueError"


def test_an_escaping_error_is_explained_then_reraised_the_same_object_with_its_traceback():
    out = io.StringIO()
    with pytest.raises(ValueError) as caught:
        with lstm_atlas.explaining(stream=out, tf="2.21", keras="3.13"):
            _raise_recorded()
    text = out.getvalue()
    assert text.startswith(f"{hooks.HEADER} (TF 2.21, Keras 3.13):\n")
    assert f"] {CASE}  (input-rank)" in text and "Fix:" in text
    assert str(caught.value) == MESSAGE
    assert caught.traceback[-1].name == "_raise_recorded", "the traceback still ends where it was raised"


def test_the_decorator_form_explains_and_reraises_and_returns_values_untouched():
    out = io.StringIO()

    @lstm_atlas.explaining(stream=out, tf="2.21", keras="3.13")
    def fails(kind):
        if kind:
            _raise_recorded()
        return "value"

    assert fails(False) == "value" and out.getvalue() == ""
    with pytest.raises(ValueError, match="found ndim=2"):
        fails(True)
    assert CASE in out.getvalue()
    with pytest.raises(ValueError):  # a second call is a second error: explained again
        fails(True)
    assert out.getvalue().count(hooks.HEADER) == 2


def test_full_lists_more_cases_than_the_default():
    short, full = io.StringIO(), io.StringIO()
    for stream, all_cases in ((short, False), (full, True)):
        with pytest.raises(ValueError), lstm_atlas.explaining(stream=stream, full=all_cases):
            _raise_recorded()
    assert "\n2. [" not in short.getvalue() and "\n2. [" in full.getvalue()
    assert short.getvalue().splitlines()[1] == full.getvalue().splitlines()[1], "the same first case"


def test_an_unknown_error_gets_one_line_and_nested_blocks_explain_once():
    out = io.StringIO()
    with pytest.raises(ZeroDivisionError):
        with lstm_atlas.explaining(stream=out), lstm_atlas.explaining(stream=out):
            1 / 0  # noqa: B018 - the error is the point
    assert out.getvalue() == f"{hooks.HEADER}: no known LSTM failure mode matches this ZeroDivisionError\n"


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_interrupts_and_exits_are_not_errors_to_explain(exc):
    out = io.StringIO()
    with pytest.raises(type(exc)), lstm_atlas.explaining(stream=out):
        raise exc
    assert out.getvalue() == ""


def test_a_failing_explainer_says_one_line_and_the_users_error_goes_on(tmp_path):
    broken = tmp_path / "index.json"
    broken.write_text("{not json", "utf-8")
    out = io.StringIO()
    original = ValueError(MESSAGE)
    with pytest.raises(ValueError) as caught, lstm_atlas.explaining(stream=out, index=str(broken)):
        raise original
    assert caught.value is original
    line = out.getvalue()
    assert line.startswith(f"{hooks.HEADER} failed (") and line.endswith("the original error is unchanged\n")
    assert line.count("\n") == 1


def test_a_hostile_exception_is_not_replaced_by_the_explainers_trouble_with_it():
    class Hostile(ValueError):
        def __getattr__(self, name):
            raise RuntimeError("no attributes here")

        def __setattr__(self, name, value):
            raise RuntimeError("read-only")

        def __str__(self):
            raise RuntimeError("no message either")

    out, original = io.StringIO(), Hostile()
    with pytest.raises(Hostile) as caught, lstm_atlas.explaining(stream=out):
        raise original
    assert caught.value is original
    assert out.getvalue() == (f"{hooks.HEADER} failed (RuntimeError: no attributes here); "
                              "the original error is unchanged\n")


def test_a_broken_stream_does_not_replace_the_users_error():
    class Closed(io.StringIO):
        def write(self, text):
            raise OSError("stream closed")

    with pytest.raises(ValueError, match="found ndim=2"), lstm_atlas.explaining(stream=Closed()):
        _raise_recorded()


def test_the_default_stream_is_stderr_at_the_time_of_the_error(capsys):
    with pytest.raises(ValueError), lstm_atlas.explaining():
        _raise_recorded()
    captured = capsys.readouterr()
    assert CASE in captured.err and captured.out == ""


def test_a_very_long_traceback_keeps_its_end_where_the_message_is():
    from lstm_atlas.explain.score import MAX_QUERY_CHARS

    try:
        try:
            raise RuntimeError("x" * (MAX_QUERY_CHARS * 2))
        except RuntimeError as first:
            raise ValueError(MESSAGE) from first
    except ValueError as exc:
        text = hooks.exception_text(exc)
    assert len(text) == MAX_QUERY_CHARS and text.rstrip().endswith(MESSAGE)


def test_versions_are_read_from_package_metadata_without_importing_tensorflow():
    code = ("import sys; from lstm_atlas.explain.hooks import detect_versions; print(*detect_versions()); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True).stdout
    versions, imported = out.splitlines()
    keras_dist = "tf-keras" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "keras"  # tf.keras is tf_keras
    try:
        expected = f"{metadata.version('tensorflow-cpu')} {metadata.version(keras_dist)}"
    except metadata.PackageNotFoundError:
        pytest.skip("tensorflow-cpu and keras are not installed here")
    assert versions == expected and imported == "False False"


def test_importing_the_package_and_its_hooks_imports_nothing_heavy():
    heavy = ("tensorflow", "keras", "IPython", "rapidfuzz", "re2", "numpy", "lstm_atlas.explain.score")
    code = ("import sys, lstm_atlas, lstm_atlas.explain.hooks, lstm_atlas.explain.ipython; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.tf
def test_a_script_prints_the_explanation_and_the_traceback_and_exits_1(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import lstm_atlas\n\nwith lstm_atlas.explaining():\n" + textwrap.indent(KERAS_2D, "    "))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=_env(), timeout=600)
    assert run.returncode == 1, run.stderr[-2000:]
    err = run.stderr
    tf = metadata.version("tensorflow-cpu").rsplit(".", 1)[0]
    explained = err.index(f"{hooks.HEADER} (TF {tf}, Keras ")
    assert "1. [match " in err[explained:] and f"] {CASE}  (input-rank)" in err[explained:]
    traceback_at = err.index("Traceback (most recent call last):", explained)
    assert f'File "{script}", line 6' in err[traceback_at:]
    assert err.rstrip().endswith("expected ndim=3, found ndim=2. Full shape received: (2, 5)")
    assert run.stdout == ""


def test_the_hooks_stay_out_of_the_result_cache_key():
    """lstm_atlas/__init__.py is in the key (plugin/cache.py); the hooks it delegates to must not be."""
    from pathlib import Path

    from lstm_atlas.plugin.cache import outcome_files

    package = Path(lstm_atlas.__file__).resolve().parent
    keyed = {path.relative_to(package).as_posix() for path in outcome_files(package)}
    assert "__init__.py" in keyed
    assert not {name for name in keyed if name.startswith("explain/")}, "explain/ would key every cached result"
