"""The terminal progress bar of ``lstm-atlas fuzz``: examples (or seconds) and the running counts.

Kept apart from the driver so that the driver only calls a hook per example; ``rich`` is
imported only when a bar is really shown (``--no-progress`` and the tests never pay for it).
"""

from __future__ import annotations

import time


class ProgressBar:
    """A rich progress bar over examples (or seconds) with the running signature counts."""

    def __init__(self, total_examples: int | None, seconds: float | None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.seconds = seconds
        self.started = time.monotonic()
        self.progress = Progress(TextColumn("fuzz"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.fields[info]}"), transient=False)
        total = total_examples if total_examples is not None else (int(seconds) if seconds else None)
        self.by_time = total_examples is None and seconds is not None
        self.task = self.progress.add_task("fuzz", total=total, info="")
        self.progress.start()

    def update(self, run, example: dict, outcome: dict, record: dict) -> None:
        """The ``on_example`` hook of a :class:`~lstm_atlas.fuzz.driver.FuzzRun` (``run``)."""
        s = run.fmap.summary()
        info = (f"{s['distinct_signatures']} signatures, {s['unexplained']} unexplained, "
                f"{s['suspected_bugs']} suspected bugs, {s['examples_per_second']}/s")
        done = int(time.monotonic() - self.started) if self.by_time else run.fmap.examples
        self.progress.update(self.task, completed=done, info=info)

    def close(self) -> None:
        self.progress.stop()


def progress_bar(enabled: bool, total: int | None, seconds: float | None) -> ProgressBar | None:
    """A started bar, or None when progress is off."""
    return ProgressBar(total, seconds) if enabled else None
