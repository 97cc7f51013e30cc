"""What a run saw: the exception (class, module, message, stage), warnings and outcome values.

An :class:`Observation` is plain data (``to_dict``/``from_dict`` round-trip) so it can cross a
process boundary, be written to the results file, and be matched without TensorFlow.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from lstm_atlas.normalise import message_core, strip_ansi

MAX_MESSAGE_CHARS = 16000
KEEP_HEAD_CHARS = 4000
LOGGERS = ("tensorflow", "absl", "keras", "h5py")


@dataclass
class ExceptionInfo:
    type: str
    module: str
    hierarchy: list[str]
    message: str
    core: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> "ExceptionInfo":
        kind = type(exc)
        hierarchy = [c.__name__ for c in kind.__mro__ if c not in (object, BaseException)]
        message = strip_ansi(str(exc))
        if len(message) > MAX_MESSAGE_CHARS:
            # TF graph errors put the traceback first and the cause last: keep both ends
            tail = MAX_MESSAGE_CHARS - KEEP_HEAD_CHARS
            message = message[:KEEP_HEAD_CHARS] + "\n...[truncated]...\n" + message[-tail:]
        return cls(type=kind.__name__, module=kind.__module__, hierarchy=hierarchy, message=message,
                   core=message_core(message)[:2000])


@dataclass
class Observation:
    """Outcome of one item. ``status`` is ok, raised, crash, timeout or error (harness fault)."""

    status: str
    stage: str | None = None
    exception: ExceptionInfo | None = None
    warnings: list[dict] = field(default_factory=list)
    outcome: dict = field(default_factory=dict)
    steps_run: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    detail: str | None = None

    @property
    def raised(self) -> bool:
        return self.status == "raised"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Observation":
        data = dict(data)
        exc = data.get("exception")
        data["exception"] = ExceptionInfo(**exc) if exc else None
        return cls(**data)


class _ListHandler(logging.Handler):
    def __init__(self, sink: list):
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad log call must not break the run
            message = str(record.msg)
        self.sink.append({"category": f"log:{record.name}:{record.levelname}", "message": strip_ansi(message)})


@contextmanager
def capture_warnings(sink: list):
    """Record Python warnings and TensorFlow/Keras log warnings into ``sink`` (real ones, not hidden)."""
    handler = _ListHandler(sink)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for lg in loggers:
        lg.addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for lg in loggers:
                lg.removeHandler(handler)
            for w in caught:
                sink.append({"category": w.category.__name__, "message": strip_ansi(str(w.message))})
            _dedupe(sink)


def _dedupe(sink: list) -> None:
    """Collapse repeats (one warning per batch is common) into one entry with a count."""
    seen: dict = {}
    for entry in sink:
        key = (entry["category"], entry["message"])
        if key in seen:
            seen[key]["count"] = seen[key].get("count", 1) + 1
        else:
            seen[key] = entry
    sink[:] = list(seen.values())
