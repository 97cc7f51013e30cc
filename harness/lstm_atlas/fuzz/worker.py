"""The warm child process of the fuzzer: runs one example at a time on real TensorFlow.

TensorFlow is imported once here, never in the parent, so an example that aborts the
interpreter or hangs costs a restart of this process, not the run (the parent keeps the
map). Built models are kept by what their build depends on (see :meth:`ExampleRunner._cache_key`):
an example Hypothesis did not change in those respects reuses the model instead of
constructing and tracing it again. A model is cached only after a clean run, because a layer whose build
raised half way is not in the state a fresh one is in, and its next error could differ.

Protocol: one JSON object per line on stdin (an example) and one per line on the private
protocol pipe (the outcome); fd 1 is pointed at stderr so TensorFlow's own printing cannot
corrupt the protocol.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from collections import OrderedDict

CACHE_SIZE = 128


def _error(message, parts):
    from lstm_atlas.errors import CaseError

    return CaseError(f"{message} (at {'.'.join(map(str, parts))})")


def nonfinite_detail(outcome: dict) -> str | None:
    """Where a step that raised nothing produced NaN or inf: ``loss``, ``output`` or both; None when finite.

    A silent NaN is an outcome of its own, not ``ok``: the user's loss curve is gone without an error.
    """
    where = [name for name, key in (("loss", "loss_finite"), ("output", "output_finite")) if outcome.get(key) is False]
    return f"NaN or inf in the {' and the '.join(where)}" if where else None


class ExampleRunner:
    """Runs examples (as case blocks) with a bounded cache of built models."""

    def __init__(self, cache_size: int = CACHE_SIZE):
        from lstm_atlas.engine import compat

        self.compat = compat
        compat.keras()
        self.cache: OrderedDict = OrderedDict()
        self.cache_size = cache_size
        self.hits = 0

    def _cache_key(self, example: dict, blocks: dict) -> str:
        """What the built model and its traced predict/train functions depend on: the model block and
        the input's rank, shape after the batch axis (the batch too for a stateful layer), dtype and
        container. Even a model that declares its input is keyed on the shape: Keras reuses the
        traced function and a new feature size then fails at run time, not at trace time as it
        does on a fresh model (tests/test_fuzz_worker.py)."""
        inp = example["input"]
        shape = inp["shape"] if example["config"].get("stateful") else inp["shape"][1:]
        key = [blocks["model"], blocks["run"], len(inp["shape"]), shape, inp["dtype"], inp["container"]]
        return json.dumps(key, sort_keys=True)

    def run(self, example: dict) -> dict:
        from lstm_atlas.engine.build import resolve_model
        from lstm_atlas.engine.data import build_data
        from lstm_atlas.engine.execute import Prepared, _Runner
        from lstm_atlas.engine.observe import ExceptionInfo
        from lstm_atlas.fuzz.strategies import case_blocks
        from lstm_atlas.normalise import message_core, strip_ansi

        blocks = case_blocks(example)
        key = self._cache_key(example, blocks)
        stage = "data"
        started = time.perf_counter()
        status, exc_info, reused = "ok", None, False
        try:
            data = build_data(blocks["data"], seed=0)
            cached = self.cache.pop(key, None)
            plan = None
            if cached is None:
                stage = "construct"
                plan = resolve_model(blocks["model"], _error)
                model = plan.construct()
                if plan.compile is not None:
                    stage = "compile"
                    plan.compile.compile(model)
            else:
                model, plan = cached
                reused = True
                self.hits += 1
            stage = blocks["run"]
            runner = _Runner(Prepared(variant=blocks, plan=plan, steps=[stage]), data, workdir="")
            runner.model = model
            getattr(runner, stage)()
            self.cache[key] = (model, plan)
            while len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
            nonfinite = nonfinite_detail(runner.outcome)
            if nonfinite:
                status = "nonfinite"
        except Exception as exc:  # noqa: BLE001 - every exception from TF is an observation
            status, exc_info = "raised", ExceptionInfo.from_exception(exc).__dict__
            if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
                # str(KeyError) is the repr of its argument: one line of escapes that hides the message
                exc_info["message"] = strip_ansi(exc.args[0])
                exc_info["core"] = message_core(exc_info["message"])[:2000]
        answer = {"status": status, "stage": stage, "exception": exc_info, "reused": reused,
                  "duration_s": round(time.perf_counter() - started, 4)}
        if status == "nonfinite":
            answer["detail"] = nonfinite
        return answer


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    runner = ExampleRunner()
    import logging

    for name in ("tensorflow", "absl", "keras"):
        logging.getLogger(name).setLevel(logging.ERROR)
    protocol.write(json.dumps({"ready": True, "environment": runner.compat.environment()}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        example = json.loads(line)
        protocol.write(json.dumps(runner.run(example), default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
