"""``lstm-atlas explain``: argparse wiring from a pasted error (argument, ``--file`` or stdin) to an answer.

Imported by ``lstm_atlas.cli`` at start-up, so it pulls in only the query path; building the
index (YAML, jsonschema) is imported inside ``--build-index``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lstm_atlas.errors import CaseError, one_line
from lstm_atlas.explain.index import build_index, default_index_path, index_text, load_index
from lstm_atlas.explain.render import answer_json, render_text
from lstm_atlas.explain.score import MAX_QUERY_CHARS, explain
from lstm_atlas.files import read_bounded, read_stream_bounded

#: Bytes of a pasted error read from ``--file`` or stdin; the query keeps MAX_QUERY_CHARS characters of them.
MAX_QUERY_BYTES = MAX_QUERY_CHARS * 4


def _query_text(args) -> str | None:
    """The pasted error, read bounded (argument, ``--file`` or stdin); None when nothing was given."""
    if args.file:
        raw = read_bounded(args.file, MAX_QUERY_BYTES, truncate=True)  # InputError: one line, exit 2
        return raw.decode("utf-8", "replace")
    if args.message:  # undecodable argv bytes arrive as surrogates: make them U+FFFD like the other inputs
        return " ".join(args.message).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if sys.stdin is not None and not sys.stdin.isatty():
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream without bytes underneath (embedded use)
            return sys.stdin.read(MAX_QUERY_CHARS)
        return read_stream_bounded(stream, MAX_QUERY_BYTES).decode("utf-8", "replace")
    return None


def run_cli(args) -> int:
    """0: a known case; 1: none (or a stale index with --check); 2: no usable input or index."""
    if args.build_index:
        from lstm_atlas.files import write_or_check_generated  # not on the query path: it imports jsonschema
        from lstm_atlas.install import locate

        # the package's own index is rewritten only from inside an atlas project (or to --index)
        index = args.index or (default_index_path() if args.check else
                               locate.output_dir(None, default_index_path(), "explain --build-index", flag="--index"))
        cases, merged = args.cases or str(locate.library()), args.merged or str(locate.published_merged())
        wild = args.wild or str(locate.corpus())
        path = Path(index)
        try:
            text = index_text(build_index(cases, merged, wild))
        except CaseError as exc:  # a malformed case or corpus report: path:line: field, exit 2
            print(exc.located(), file=sys.stderr)
            return 2
        return write_or_check_generated(path, text, "lstm-atlas explain --build-index", check=args.check)
    text = _query_text(args)
    if text is None:
        print("paste an error: lstm-atlas explain 'message', --file traceback.txt, or pipe it in", file=sys.stderr)
        return 2
    if not text.strip():
        print("the message is empty", file=sys.stderr)
        return 2
    try:
        index = load_index(args.index)
        answer = explain(text, index, tf=args.tf, keras=args.keras, device=args.device, limit=args.limit)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # InputError is a ValueError: missing, huge, malformed
        print(f"cannot read the explain index: {one_line(exc)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer_json(answer), indent=1))
        if not answer.known:
            print("no known case; nearest families: " + ", ".join(f"{f} ({v:.2f})" for f, v in
                                                                answer.nearest_families), file=sys.stderr)
    else:
        sys.stdout.write(render_text(answer, index=index, full=args.full))
    return 0 if answer.known else 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text[:40]!r}")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="which known failure mode a pasted error is, why, and a verified fix")
    p.add_argument("message", nargs="*", help="the message or traceback (default: --file or stdin)")
    p.add_argument("--file", help="read the traceback from this file")
    p.add_argument("--tf", help="your TensorFlow version, e.g. 2.15")
    p.add_argument("--keras", help="your Keras version, e.g. 3.x or 2.15")
    p.add_argument("--device", choices=["cpu", "gpu"])
    p.add_argument("--json", action="store_true", help="machine-readable ranked list of answers")
    p.add_argument("--full", action="store_true", help="every answer in full: the fix as code, every source")
    p.add_argument("--limit", type=_positive_int, default=5, help="how many cases to list (default 5)")
    p.add_argument("--index", help="explain index JSON (default: the one shipped in the package)")
    p.add_argument("--build-index", action="store_true", help="regenerate the index from --cases and --merged")
    p.add_argument("--check", action="store_true", help="with --build-index: exit 1 if the index is stale")
    p.add_argument("--cases", help="default: cases/ here, else the shipped library")
    p.add_argument("--merged", help="default: reports/merged.json here, else the shipped one")
    p.add_argument("--wild", help="the public-report corpus whose tune split joins the index "
                                  "(default: wild/ here, else the shipped one)")
    p.set_defaults(func=run_cli)


def explain_text(text: str, *, tf: str | None = None, keras: str | None = None, device: str | None = None,
                 limit: int = 5, full: bool = False, index: str | None = None) -> str:
    """The answer ``lstm-atlas explain`` prints, as text: the stable entry point for other front ends
    (an IPython extension, a pytest option). Raises ValueError/OSError for an unusable index."""
    loaded = load_index(index)
    answer = explain(text, loaded, tf=tf, keras=keras, device=device, limit=limit)
    return render_text(answer, index=loaded, full=full)
