"""``lstm-atlas``: validate cases, render the catalogue, merge results into a report, diff versions, run the library
on this install or across TensorFlow versions."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

from lstm_atlas.errors import CaseError, InputError, one_line
from lstm_atlas.explain.command import add_parser as add_explain_parser
from lstm_atlas.install import locate


def _cases(given: str | None) -> str:
    """The case folder a command reads: the one given, else the project's or the shipped library."""
    return given or str(locate.library())


def _merged(given: str | None) -> str:
    """The merged matrix a command reads: the one given, else the project's or the shipped one."""
    return given or str(locate.published_merged())


def _cmd_validate(args) -> int:
    from lstm_atlas.case.discover import SUFFIXES, case_dir_of
    from lstm_atlas.case.library import duplicate_id_error
    from lstm_atlas.case.validate import load_case

    def found(folder: Path) -> list[Path]:  # .yaml and .yml, as pytest collects them
        return sorted(p for suffix in SUFFIXES for p in folder.rglob(f"*{suffix}"))

    patterns = args.paths or [_cases(None)]
    paths = [Path(p) for pattern in patterns for p in (found(Path(pattern)) if Path(pattern).is_dir()
                                                       else [Path(pattern)])]
    bad = 0
    seen: dict[Path, dict[str, Path]] = {}  # per case folder that pytest collects as one library
    for path in paths:
        try:
            case = load_case(path)
            if (library := case_dir_of(path)) is not None:  # fuzz candidates per env may share ids
                duplicate_id_error(case, seen.setdefault(library, {}))
        except Exception as exc:  # noqa: BLE001 - one line per bad file, never a traceback
            bad += 1
            # a CaseError already shortens each value it quotes (errors.py); anything else is cut here
            print(" ".join(exc.located().split()) if isinstance(exc, CaseError)
                  else one_line(f"{path}: {type(exc).__name__}: {exc}"))
    print(f"{len(paths) - bad} valid, {bad} invalid")
    return 1 if bad else 0


def _cmd_catalog(args) -> int:
    from lstm_atlas.case.library import load_library
    from lstm_atlas.files import write_or_check_generated
    from lstm_atlas.matrix.catalog import render_catalog
    from lstm_atlas.matrix.merge import read_merged

    out = locate.output_dir(args.out, os.path.join("docs", "catalog.md"), "catalog")
    cases = _cases(args.cases)
    merged = read_merged(_merged(args.merged), missing_ok=True)
    text = render_catalog(load_library(cases), merged, root=Path(cases).resolve().parent)
    return write_or_check_generated(out, text, "lstm-atlas catalog", check=args.check)


def _cmd_coverage(args) -> int:
    from lstm_atlas.case.library import load_library
    from lstm_atlas.matrix.coverage import check_coverage
    from lstm_atlas.matrix.merge import read_merged

    folder = _cases(args.cases)
    if not Path(folder).is_dir():
        raise InputError(f"{folder}: no such case folder")
    cases = load_library(folder)
    coverage = check_coverage(read_merged(_merged(args.merged)), [c.id for c in cases])
    for line in coverage.lines():
        print(line)
    print(f"{len(cases)} cases x {len(coverage.environments)} environments: {len(coverage.missing)} "
          f"(case, environment) pairs without a result, {len(coverage.stale)} stale cases")
    return 0 if coverage.complete else 1


def _expand(patterns) -> list[str]:
    """Each argument as a path when it names one (brackets, spaces and any suffix included:
    it is then read or refused, never dropped); else as a glob, whose ``.json`` hits count."""
    paths = []
    for pattern in patterns:
        if os.path.lexists(pattern) or not any(c in pattern for c in "*?["):
            paths.append(pattern)
            continue
        paths.extend(p for p in sorted(glob.glob(pattern)) if p.endswith(".json"))
    return paths


def _inputs(given, results_dir: str, merged: str | None) -> list[str]:
    """The files to read: those given; else results_dir/*.json; else the committed merged file
    (the project's, or the one shipped in the wheel)."""
    merged = _merged(merged)
    if given:
        paths = _expand(given)
        if not paths:
            raise InputError(f"no JSON files match {' '.join(given)}")
        return paths
    paths = _expand([os.path.join(results_dir, "*.json")])
    if paths:
        return paths
    if os.path.exists(merged):
        print(f"lstm-atlas: no results files in {results_dir}/; reading {merged}", file=sys.stderr)
        return [merged]
    raise InputError(f"no results files in {results_dir}/ and no {merged}; run the matrix (tox) or pass files")


def _cmd_report(args) -> int:
    from lstm_atlas.fuzz.errormap import read_maps, write_index
    from lstm_atlas.matrix.merge import merge_files
    from lstm_atlas.matrix.report import write_report

    out = locate.output_dir(args.out, "reports", "report")
    matrix = merge_files(_inputs(args.results, args.results_dir, args.merged), replace=args.replace)
    written = write_report(matrix, out)
    fuzz_dir = Path(out) / "fuzz"
    if read_maps(fuzz_dir):  # the fuzz maps of every version side by side, next to the report
        written += write_index(fuzz_dir)
    for path in written:
        print(f"wrote {path}")
    for problem in matrix.problems():
        print(f"warning: {problem['env'] or problem['source']} is {problem['state']}: {problem['reason']}",
              file=sys.stderr)
    return 0


def _cmd_diff(args) -> int:
    from lstm_atlas.matrix.diff import render_diff_text, upgrade_diff
    from lstm_atlas.matrix.merge import merge_files

    matrix = merge_files(_inputs(args.results, args.results_dir, args.merged), replace=args.replace)
    try:
        diff = upgrade_diff(matrix, args.old, args.new, device=args.device)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    sys.stdout.write(render_diff_text(matrix, diff))
    for key in (diff["old"], diff["new"]):
        run = matrix.runs.get(key) or {}
        if run.get("state") == "partial":
            print(f"warning: {key} is partial: {run.get('reason')}; cells it lacks are not compared", file=sys.stderr)
    return 0


def _cmd_upgrade(args) -> int:
    from lstm_atlas.matrix.merge import merge_files
    from lstm_atlas.matrix.upgrade import upgrade
    from lstm_atlas.matrix.upgrade_render import RENDERERS

    matrix = merge_files(_inputs(args.results, args.results_dir, args.merged))
    try:
        result = upgrade(matrix, args.old, args.new, device=args.device)
    except KeyError as exc:
        raise InputError(exc.args[0]) from None
    sys.stdout.write(RENDERERS[args.format](result))
    if not result["summary"]["compared"]:
        print(f"warning: no case variant ran on {args.device} in both {result['from']['env']} and "
              f"{result['to']['env']}: nothing was compared", file=sys.stderr)
    for side in ("from", "to"):
        run = matrix.runs.get(result[side]["env"]) or {}
        if run.get("state") == "partial":
            print(f"warning: {result[side]['env']} is partial: {run.get('reason')}; cells it lacks are not compared",
                  file=sys.stderr)
    return 0


def _cmd_fuzz(args) -> int:
    from lstm_atlas.fuzz import strategies

    def split(text):
        return [t.strip() for t in text.split(",") if t.strip()] if text else None

    for name, value in (("--examples", args.examples), ("--time", args.time), ("--timeout", args.timeout)):
        if value is not None and not value > 0:  # also NaN
            raise InputError(f"{name} must be a positive number, not {value}")
    if args.action == "replay":
        return _fuzz_replay(args)
    if args.action == "reattribute":
        return _fuzz_reattribute(args)
    for name, given, known in (("--layers", split(args.layers), strategies.LAYER_KINDS),
                               ("--steps", split(args.steps), strategies.STEPS)):
        unknown = [g for g in given or [] if g not in known]
        if unknown:
            raise InputError(f"{name}: unknown {one_line(', '.join(unknown), 80)} (one of {', '.join(known)})")
    from lstm_atlas.fuzz.driver import run_fuzz

    data = run_fuzz(profile=args.profile, examples=args.examples, seconds=args.time, seed=args.seed,
                    layers=split(args.layers), steps=split(args.steps), out_dir=args.out,
                    candidates_dir=Path(args.out) / "candidates", cases_dir=_cases(args.cases),
                    merged=_merged(args.merged), timeout_s=args.timeout, progress=not args.no_progress,
                    publish=args.publish, publish_dir=args.publish_dir,
                    publish_candidates_dir=args.publish_candidates)
    s = data["summary"]
    print(f"{data['env']}: {s['examples']} examples, {s['distinct_signatures']} distinct signatures, "
          f"{s['failing_examples']} failing, {s['explained_by_case']} explained by a case, "
          f"{s['candidates']} candidates, {s['suspected_bugs']} suspected bugs, "
          f"{s['examples_per_second']} examples/s; map, candidates and corpus ({data['corpus_examples']} examples) "
          f"in {args.out}/")
    if "published_corpus" in data:
        pc = data["published_corpus"]
        print(f"published: corpus {pc['corpus']} ({pc['examples']} examples) in {pc['path']}; candidates in "
              f"{Path(args.publish_candidates) / data['env']}/")
    return 0


def _fuzz_reattribute(args) -> int:
    from lstm_atlas.fuzz.reattribute import reattribute

    result = reattribute(args.dir or args.publish_dir, cases_dir=_cases(args.cases), merged=_merged(args.merged),
                         candidates_dir=args.publish_candidates)
    for data in result["maps"]:
        s = data["summary"]
        share = f"{100 * s['explained_by_case_share']:.1f}%" if s["explained_by_case_share"] is not None else "-"
        state = "rewritten" if data["env"] in result["changed"] else "unchanged"
        print(f"{data['env']}: {s['failing_examples']} failing, {s['explained_by_case']} explained by a case "
              f"({share}), {s['explained_by_allow']} allowed, {s['unexplained_examples']} unexplained, "
              f"{s['candidates']} candidates ({state})")
    print(f"{len(result['changed'])} maps rewritten, {len(result['unchanged'])} unchanged")
    return 0


def _fuzz_replay(args) -> int:
    from lstm_atlas.fuzz.replay import run_replay

    data = run_replay(corpus_path=args.corpus, out_dir=args.out, publish=args.publish, publish_dir=args.publish_dir,
                      cases_dir=_cases(args.cases), merged=_merged(args.merged), examples=args.examples,
                      **({"timeout_s": args.timeout} if args.timeout else {}))
    s = data["summary"]
    share = f"{100 * s['explained_by_case_share']:.1f}%" if s["explained_by_case_share"] is not None else "-"
    print(f"{data['env']}: corpus {s['corpus']}, {s['examples']} examples replayed "
          f"({'complete' if data['complete'] else 'partial'}), {s['failing_examples']} failing, "
          f"{s['explained_by_case']} explained by a case ({share}), {s['unexplained_examples']} unexplained, "
          f"{s['nonfinite_examples']} NaN/inf, {s['examples_per_second']} examples/s; map in {args.out}/{data['env']}/")
    if args.publish:
        if data["published"]:
            print(f"published to {args.publish_dir}/{data['env']}/ and the index")
        else:
            print("not published: the replay did not run the whole corpus", file=sys.stderr)
            return 130 if data["interrupted"] else 1
    return 130 if data["interrupted"] else 0


def _cmd_run(args) -> int:
    from lstm_atlas.install.run import run

    return run(args.pytest_args, results=args.results)


def _cmd_matrix(args) -> int:
    from lstm_atlas.install.matrix_run import matrix_command

    return matrix_command(args)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (exit 2) instead of the usage block and a second line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def main(argv=None) -> int:
    parser = _Parser(prog="lstm-atlas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check case files without running them (no TensorFlow needed)")
    p.add_argument("paths", nargs="*", help="case files or folders (default: cases/ here, else the shipped library)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("catalog", help="render the library into docs/catalog.md")
    p.add_argument("--cases", help="case folder (default: cases/ here, else the shipped library)")
    p.add_argument("--merged", help="merged matrix for claim verdicts (default: reports/merged.json here, "
                                    "else the shipped one)")
    p.add_argument("--out", help="file to write (default: docs/catalog.md inside an atlas project; "
                                 "required elsewhere)")
    p.add_argument("--check", action="store_true", help="exit 1 if the file on disk is stale")
    p.set_defaults(func=_cmd_catalog)

    p = sub.add_parser("coverage", help="exit 1 unless every case has a result on every environment of the matrix")
    p.add_argument("merged", nargs="?", help="default: reports/merged.json here, else the shipped one")
    p.add_argument("cases", nargs="?", help="default: cases/ here, else the shipped library")
    p.set_defaults(func=_cmd_coverage)

    p = sub.add_parser("report", help="merge results files into reports/ (Markdown, HTML, plot, merged JSON)")
    p.add_argument("results", nargs="*", help="results or merged JSON files or globs (default: every JSON in "
                                              "--results-dir, else --merged)")
    p.add_argument("--out", help="folder to write (default: reports/ inside an atlas project; required elsewhere)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--merged", help="merged matrix read when there are no results files (default: "
                                    "reports/merged.json here, else the shipped one)")
    p.add_argument("--replace", action="store_true",
                   help="a later file for an environment already read replaces it (default: an error naming both)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("diff", help="what changes per case when upgrading, e.g. `lstm-atlas diff 2.15 2.16`")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("results", nargs="*", help="results or merged JSON files (default: every JSON in "
                                              "--results-dir, else --merged)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--merged", help="merged matrix read when there are no results files (default: "
                                    "reports/merged.json here, else the shipped one)")
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    p.add_argument("--replace", action="store_true",
                   help="a later file for an environment already read replaces it (default: an error naming both)")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("upgrade", help="what breaks when moving from TF A to TF B, most harmful first, "
                                       "e.g. `lstm-atlas upgrade 2.15 2.16`")
    p.add_argument("old", metavar="FROM", help="environment name (tf215) or TensorFlow version (2.15)")
    p.add_argument("new", metavar="TO")
    p.add_argument("results", nargs="*", help="results or merged JSON files (default: every JSON in "
                                              "--results-dir, else --merged)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--merged", help="merged matrix read when there are no results files (default: "
                                    "reports/merged.json here, else the shipped one)")
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    p.add_argument("--format", default="text", choices=["text", "md", "json"])
    p.set_defaults(func=_cmd_upgrade)

    p = sub.add_parser("fuzz", help="map the error surface of the recurrent layers with Hypothesis; "
                                    "`fuzz replay` runs the committed corpus on this environment")
    p.add_argument("action", nargs="?", default="generate", choices=["generate", "replay", "reattribute"],
                   help="generate (default): Hypothesis examples; replay: every example of --corpus; "
                        "reattribute: recompute the maps in DIR (default --publish-dir) from their stored "
                        "outcomes with the current cases, allow file and triage record (no TensorFlow)")
    p.add_argument("dir", nargs="?", help="reattribute: the folder of maps (default: --publish-dir)")
    p.add_argument("--profile", default="ci", choices=["ci", "explore"],
                   help="ci: derandomised, 40 examples; explore: random, long, with an example database")
    p.add_argument("--examples", type=int, help="example budget (default: the profile's; replay: the whole corpus)")
    p.add_argument("--time", type=float, help="time budget in seconds")
    p.add_argument("--seed", type=int, help="seed for the explore profile (ci is derandomised)")
    p.add_argument("--layers", help="comma-separated: LSTM,GRU,SimpleRNN,Bidirectional,RNN,LSTMCell")
    p.add_argument("--steps", help="comma-separated: call,predict,fit")
    p.add_argument("--timeout", type=float, help="seconds one example may run before it counts as a hang")
    p.add_argument("--corpus", default=str(Path("reports") / "fuzz" / "corpus.json"), help="the corpus replay runs")
    p.add_argument("--out", default=str(Path("results") / "fuzz"),
                   help="scratch folder for the map, candidates and corpus (default results/fuzz, git-ignored)")
    p.add_argument("--publish", action="store_true",
                   help="also add to the published reports: merge the corpus and candidates (generate) or "
                        "replace this environment's map after a complete replay; nothing else is touched")
    p.add_argument("--publish-dir", default=str(Path("reports") / "fuzz"))
    p.add_argument("--publish-candidates", default=str(Path("reports") / "candidates"))
    p.add_argument("--cases", help="default: cases/ here, else the shipped library")
    p.add_argument("--merged", help="default: reports/merged.json here, else the shipped one")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_fuzz)

    p = sub.add_parser("run", help="run the case library on this install's TensorFlow (any pytest arguments "
                                   "follow), then say which environment of the published matrix it behaves like")
    p.add_argument("--results", help="results file to write (default: a new file under the user cache folder)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("matrix", help="run cases on several TensorFlow versions, one uv environment each, "
                                      "and write the merged report, e.g. `lstm-atlas matrix --tf 2.15,2.21`")
    p.add_argument("cases", nargs="*", help="case folders or files (default: cases/ here, else the shipped library)")
    p.add_argument("--tf", required=True, help="comma-separated TensorFlow versions with a shipped constraints "
                                               "file, e.g. 2.15,2.21")
    p.add_argument("--keras-latest", action="store_true", help="add TF 2.21 with the newest Keras")
    p.add_argument("--jobs", type=int, default=1, help="environments run at once (default 1)")
    p.add_argument("--out", default=os.path.join("results", "matrix"),
                   help="folder for results/<env>.json, logs and the report (default: results/matrix)")
    p.add_argument("--python", help="interpreter version for the environments (default: this one's when every "
                                    "TF asked for has a wheel for it, else the newest that all have)")
    p.add_argument("--no-progress", action="store_true", help="a line per step instead of progress bars")
    p.set_defaults(func=_cmd_matrix)

    add_explain_parser(sub)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run":  # only `run` passes arguments on to pytest
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "run":
        args.pytest_args = extra
    try:
        return args.func(args)
    except InputError as exc:
        print(f"lstm-atlas: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except CaseError as exc:  # e.g. `catalog` over a library holding a malformed case
        print(f"lstm-atlas: error: {' '.join(exc.located().split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `lstm-atlas validate | head`: the reader left, nothing to report
        sys.stderr.close()
        return 1
    except OSError as exc:  # e.g. a read-only --out folder that cannot be created
        print(f"lstm-atlas: error: cannot write {exc.filename or 'a file'}: {one_line(exc.strerror or exc)}",
              file=sys.stderr)
        return 2
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        # the net under the readers' own checks: an input shaped in a way no check foresaw
        print(f"lstm-atlas: error: cannot use this input ({type(exc).__name__}: {one_line(exc, 300)})",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
