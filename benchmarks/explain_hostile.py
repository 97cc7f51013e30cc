"""How long ``lstm-atlas explain`` takes on hostile pastes; prints seconds, asserts nothing.

    python benchmarks/explain_hostile.py [--sizes 1,10] [--json out.json]

Inputs, each of 1 MB and 10 MB: one long line (``ValueError: a/a/a/...``, the shape that made
the path rule quadratic), the cardinality message repeated (``Data cardinality is ambiguous:
'x' sizes: 8 ...``, the shape that made a case pattern backtrack), random bytes, and deep
brackets (``[[[[...]]]]``). For each: the library call (``explain`` on the decoded text, the
index already loaded) and the cold CLI (a fresh ``lstm-atlas explain --file`` process, and the
same input on stdin). Targets: at most 1 s at 1 MB and 2 s at 10 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

from lstm_atlas.explain.index import load_index
from lstm_atlas.explain.score import explain
from lstm_atlas.interpreter import entry_argv

TARGET_S = {1: 1.0, 10: 2.0}


def hostile(megabytes: int) -> dict[str, bytes]:
    n = megabytes * 1024 * 1024
    card = b"Data cardinality is ambiguous: 'x' sizes: 8 "
    rng = random.Random(megabytes)
    return {
        "long line": (b"ValueError: " + b"a/" * (n // 2))[:n],
        "cardinality repeat": (b"ValueError: " + card * (n // len(card) + 1))[:n],
        "random bytes": rng.randbytes(n),
        "deep brackets": b"ValueError: " + b"[" * (n // 2) + b"]" * (n // 2),
    }


def _cli(args: list[str], stdin: bytes | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(entry_argv("lstm_atlas.cli", *args), input=stdin, capture_output=True, check=False,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if "Traceback" in proc.stderr.decode("utf-8", "replace"):
        raise SystemExit(f"explain {' '.join(args)} ended in a traceback:\n{proc.stderr.decode()[-2000:]}")
    return time.perf_counter() - started, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10", help="input sizes in MB, comma-separated")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    index = load_index(None)
    rows = []
    baseline, _ = _cli(["explain", "ValueError: Input 0 of layer lstm is incompatible with the layer: "
                                   "expected ndim=3, found ndim=2"])
    print(f"cold CLI on an ordinary message: {baseline:.2f} s")
    print(f"{'input':<20} {'MB':>3} {'library s':>10} {'CLI --file s':>13} {'CLI stdin s':>12} {'exit':>5}  target")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (int(s) for s in args.sizes.split(",")):
            for name, raw in hostile(mb).items():
                started = time.perf_counter()
                explain(raw.decode("utf-8", "replace"), index)
                library_s = time.perf_counter() - started
                path = Path(tmp) / "paste.txt"
                path.write_bytes(raw)
                file_s, rc = _cli(["explain", "--file", str(path)])
                stdin_s, _ = _cli(["explain"], stdin=raw)
                target = TARGET_S.get(mb)
                worst = max(library_s, file_s, stdin_s)
                verdict = "" if target is None else ("met" if worst <= target else f"NOT met (> {target:g} s)")
                rows.append({"input": name, "mb": mb, "library_s": round(library_s, 3), "cli_file_s": round(file_s, 3),
                             "cli_stdin_s": round(stdin_s, 3), "exit": rc, "target_s": target})
                print(f"{name:<20} {mb:>3} {library_s:>10.3f} {file_s:>13.3f} {stdin_s:>12.3f} {rc:>5}  {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps({"cold_cli_ordinary_s": round(baseline, 3), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
