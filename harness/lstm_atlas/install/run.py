"""``lstm-atlas run [pytest args]``: the library on this install's TensorFlow, Keras and devices, in-process
with pytest, then how this install compares with the published matrix (``compare.py``).

Results go to a scratch file under the user cache folder (or ``--results``), never over published
files; outside a project the result cache lives there too, not inside site-packages.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from importlib import metadata
from pathlib import Path

from lstm_atlas.errors import InputError
from lstm_atlas.install import locate


def _plugin_args() -> list[str]:
    """``-p lstm_atlas.plugin.hooks`` when the pytest11 entry point is not installed (a PYTHONPATH checkout)."""
    names = {ep.name for ep in metadata.entry_points(group="pytest11")}
    return [] if "lstm_atlas" in names else ["-p", "lstm_atlas.plugin.hooks"]


def pytest_args(library: locate.Located, results: Path, user_args: list[str], scratch: Path) -> list[str]:
    """The pytest command line: the library, the scratch results file, and for a shipped library a
    rootdir and an empty ini of its own, so a pytest configuration around site-packages has no say."""
    # lstm_atlas is imported before pytest starts, so pytest cannot rewrite its asserts: nothing to warn about
    args = [str(library.path), "-p", "no:cacheprovider", "--atlas-results", str(results), *_plugin_args(),
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if library.origin == "shipped":
        ini = scratch / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        args += ["-c", str(ini), "--rootdir", str(library.path.parent)]
    return args + list(user_args)


def scratch_results() -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return locate.user_cache_dir() / "runs" / f"run-{stamp}-{os.getpid()}.json"


def run(user_args: list[str], results: str | None = None) -> int:
    import pytest

    from lstm_atlas.install.compare import verdict_text, with_install
    from lstm_atlas.matrix.merge import read_input, read_merged
    from lstm_atlas.matrix.results import RESULTS_SCHEMA_NAME

    library, published = locate.library(), locate.published_merged()
    published_doc = read_merged(published.path)  # a broken published file stops here, before any item runs
    target = Path(results) if results else scratch_results()
    if target.exists() and target.resolve() == Path(published.path).resolve():
        raise InputError(f"{target}: that is the published matrix; pass another --results file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if library.origin != "project":
        os.environ.setdefault("ATLAS_CACHE_DIR", str(locate.user_cache_dir() / "results-cache"))
    print(f"lstm-atlas run: {library} ({library.origin}) on this install; results to {target}", flush=True)
    status = int(pytest.main(pytest_args(library, target, user_args, target.parent)))
    if not target.exists():
        print("lstm-atlas run: pytest wrote no results, so there is nothing to compare", file=sys.stderr)
        return status
    doc = read_input(target)
    if doc.get("schema") != RESULTS_SCHEMA_NAME:
        raise InputError(f"{target}: not a results file")
    print()
    sys.stdout.write(verdict_text(with_install(published_doc, doc), published=f"the published matrix ({published})"))
    return status
