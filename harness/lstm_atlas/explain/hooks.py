"""Explanations where the error happens: the shared core of the IPython, script and pytest hooks.

Each hook hands an exception to :func:`report` (print it) or :func:`explanation_of` (the text).
They reach the ranking only through :func:`_answer_text`, the one adapter to ``score``/``render``,
so a change of the explain API is mended in one place. Nothing here imports TensorFlow, and the
explain machinery itself is imported only when an exception is explained: entering
``explaining()`` or loading the extension costs nothing. The explainer must never cost the user
the error: every failure of its own becomes one line, and the user's exception goes on unchanged.
"""

from __future__ import annotations

import os
import sys
import traceback
from contextlib import ContextDecorator
from typing import TextIO

#: Set on an exception once explained, so nested hooks (``explaining()`` inside a notebook cell,
#: or inside a test run with ``--atlas-explain``) print it once.
EXPLAINED_ATTR = "_lstm_atlas_explained"
#: TensorFlow's distributions, the first one installed names the version (importlib.metadata).
TF_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
                    "tf-nightly", "tf-nightly-cpu")
HEADER = "lstm-atlas explain"


def _installed_version(*distributions: str) -> str | None:
    from importlib import metadata

    for dist in distributions:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def _legacy_keras() -> bool:
    return os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")


def detect_versions() -> tuple[str | None, str | None]:
    """(TensorFlow, Keras) of this interpreter, without importing TensorFlow when the user has not.

    A module already imported tells its ``__version__``; otherwise the installed distributions do.
    With ``TF_USE_LEGACY_KERAS`` set, ``tf.keras`` is tf_keras, so its version is the Keras one.
    """
    tf_module = sys.modules.get("tensorflow")
    tf = getattr(tf_module, "__version__", None) or _installed_version(*TF_DISTRIBUTIONS)
    keras = None
    if _legacy_keras():
        keras = getattr(sys.modules.get("tf_keras"), "__version__", None) or _installed_version("tf-keras")
    if keras is None:
        keras = getattr(sys.modules.get("keras"), "__version__", None) or _installed_version("keras")
    return (str(tf) if tf else None), (str(keras) if keras else None)


def _minor(version: str | None) -> str | None:
    """``2.16.1`` -> ``2.16``: the matrix runs one patch release per minor, and the patch rarely matters."""
    from lstm_atlas import versions

    numbers = versions.release(version)
    return ".".join(map(str, numbers[:2])) if len(numbers) >= 2 else version


def exception_text(exc: BaseException) -> str:
    """The traceback as Python prints it (chained causes included), its end kept when it is very long."""
    from lstm_atlas.explain.score import MAX_QUERY_CHARS

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-MAX_QUERY_CHARS:]  # the raised message is at the end; the query keeps only so many characters


def _answer_text(text: str, *, tf: str | None, keras: str | None, device: str | None, full: bool,
                 index: str | None) -> str | None:
    """The adapter to the explain API: the rendered answer for ``text``, or None when no case is known."""
    from lstm_atlas.explain.index import load_index
    from lstm_atlas.explain.render import render_text
    from lstm_atlas.explain.score import explain

    loaded = load_index(index)
    answer = explain(text, loaded, tf=tf, keras=keras, device=device, limit=5)
    if not answer.known:
        return None
    return render_text(answer, show=5 if full else 1, index=loaded)


def explanation_of(exc: BaseException, *, tf: str | None = None, keras: str | None = None,
                   device: str | None = None, full: bool = False, index: str | None = None) -> str | None:
    """The explanation of ``exc`` with a header naming the versions used, or None when no case is known.

    Raises whatever the explainer raises; :func:`report` is the form that never does.
    """
    if tf is None or keras is None:
        found_tf, found_keras = detect_versions()
        tf, keras = tf or _minor(found_tf), keras or _minor(found_keras)
    body = _answer_text(exception_text(exc), tf=tf, keras=keras, device=device, full=full, index=index)
    if body is None:
        return None
    asked = ", ".join(f"{name} {v}" for name, v in (("TF", tf), ("Keras", keras), ("device", device)) if v)
    return f"{HEADER} ({asked or 'any version'}):\n{body}"


def already_explained(exc: BaseException) -> bool:
    return bool(getattr(exc, EXPLAINED_ATTR, False))


def _mark(exc: BaseException) -> None:
    try:
        setattr(exc, EXPLAINED_ATTR, True)
    except Exception:  # noqa: BLE001 - a class whose __setattr__ refuses: it may be explained twice, no more
        pass


def _failure_line(failure: Exception) -> str:
    from lstm_atlas.errors import one_line

    try:
        said = f"{type(failure).__name__}: {failure}"
    except Exception:  # noqa: BLE001 - even its message is broken
        said = type(failure).__name__
    return one_line(f"{HEADER} failed ({said}); the original error is unchanged") + "\n"


def outcome_of(exc: BaseException, **options) -> tuple[str, str] | None:
    """(``known``, its explanation), (``unknown``, one line) or (``failed``, one line naming the
    explainer's own failure); None for what is not an error (KeyboardInterrupt, SystemExit) or was
    explained already. Never raises, and marks ``exc`` explained.
    """
    if not isinstance(exc, Exception):
        return None
    try:
        if already_explained(exc):  # inside the try: an exception's own __getattr__ may raise
            return None
        _mark(exc)
        text = explanation_of(exc, **options)
    except Exception as failure:  # noqa: BLE001 - the explainer's own failure must not replace the user's error
        return "failed", _failure_line(failure)
    if text is None:
        return "unknown", f"{HEADER}: no known LSTM failure mode matches this {type(exc).__name__}\n"
    return "known", text


def report(exc: BaseException, stream: TextIO | None = None, **options) -> bool:
    """Print :func:`outcome_of` ``exc`` to ``stream`` (default: ``sys.stderr`` now); never raises.

    An unknown error gets one line, so the user knows the explainer ran. Returns whether a case was printed.
    """
    outcome = outcome_of(exc, **options)
    if outcome is None:
        return False
    try:
        out = stream if stream is not None else sys.stderr
        out.write(outcome[1])
        out.flush()
    except Exception:  # noqa: BLE001 - a closed or broken stream: nothing more can be said
        return False
    return outcome[0] == "known"


class explaining(ContextDecorator):
    """Explain an exception that escapes the block (or the decorated function), then let it go on unchanged.

    Options: ``tf``/``keras`` versions (default: those installed, read without importing TensorFlow),
    ``device`` (``cpu``/``gpu``), ``stream`` (default: ``sys.stderr`` when the error happens),
    ``full`` (every ranked case, not only the first), ``index`` (another explain index file).
    """

    def __init__(self, *, tf: str | None = None, keras: str | None = None, device: str | None = None,
                 stream: TextIO | None = None, full: bool = False, index: str | None = None):
        self.stream = stream
        self.options = {"tf": tf, "keras": keras, "device": device, "full": full, "index": index}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None:
            report(exc, self.stream, **self.options)
        return False  # never swallow: the exception propagates with its own traceback
