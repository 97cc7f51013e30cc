"""The pytest hooks (entry point ``pytest11``): ``pytest cases/`` runs the library.

Only the hook functions live here; what they hand work to is one module each:
:mod:`~lstm_atlas.plugin.collect` (a case file yields ``<id>[repro-<device>]`` and
``<id>[fix-<device>]`` items, or one ``<stem>[invalid]`` item that fails with the file, line
and field while every other file still runs), :mod:`~lstm_atlas.plugin.items`,
:mod:`~lstm_atlas.plugin.recorder` (the results file), :mod:`~lstm_atlas.plugin.claims`.

The plugin is installed for every pytest session of the environment, so it stays inert
until it collects a file that :mod:`lstm_atlas.case.discover` calls a case: only then does it
register its markers and set ``TF_CPP_MIN_LOG_LEVEL``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lstm_atlas.case import discover, schema
from lstm_atlas.plugin import cache
from lstm_atlas.plugin.collect import CaseFile
from lstm_atlas.plugin.keys import ACTIVE_KEY, CACHE_STASH, SPLIT_ERROR_KEY
from lstm_atlas.plugin.recorder import ResultsRecorder


def pytest_addoption(parser):
    group = parser.getgroup("lstm-atlas", "LSTM Error Atlas")
    group.addoption("--atlas-results", metavar="PATH", default=None,
                    help="write the JSON results file (schema version 2) to PATH, atomically, after every item")
    group.addoption("--atlas-devices", metavar="LIST", default="cpu,gpu",
                    help="device kinds to parametrise items by (default: cpu,gpu; absent ones are skipped)")
    group.addoption("--atlas-logical-cpus", metavar="N", type=int, default=0,
                    help="split the CPU into N logical devices (cpu0..cpuN-1) to exercise the device axis")
    group.addoption("--atlas-isolate", action="store_true", default=False,
                    help="run every item in its own interpreter (crashes and hangs are recorded)")
    group.addoption("--atlas-timeout", metavar="SECONDS", type=float, default=300.0,
                    help="per-item time limit, isolated or in-process (default 300; 0: none). In-process, "
                         "a hang that never returns to Python ends the process after a grace period")
    parser.addini("atlas_case_dirs", type="args", default=list(discover.DEFAULT_CASE_DIRS),
                  help="folder names (glob patterns) whose YAML files may be atlas cases (default: cases); "
                       "a file must also declare itself a case, see harness/lstm_atlas/case/discover.py")
    group.addoption("--atlas-no-cache", action="store_true", default=False,
                    help="run every item even if the result cache ($ATLAS_CACHE_DIR or .atlas-cache/) has it")


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config):
    config.stash[CACHE_STASH] = None if config.getoption("atlas_no_cache") else cache.ResultCache(
        cache.cache_root(config.rootpath))
    if not _is_worker(config):
        # inert until it sees an atlas item or --atlas-results asks for a file
        recorder = ResultsRecorder(config)
        recorder.acquire()  # a second run on one results path stops here, with one line
        config.pluginmanager.register(recorder, "lstm-atlas-recorder")


def activate(config) -> None:
    """The first case file was found: register the markers, quieten TensorFlow's C++ logs."""
    if config.stash.get(ACTIVE_KEY, False):
        return
    config.stash[ACTIVE_KEY] = True
    # TensorFlow reads this when it is first imported; set before any item imports it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for family in schema.FAMILIES:
        config.addinivalue_line("markers", f"{family}: LSTM Error Atlas family '{family}'")
    config.addinivalue_line("markers", "atlas: every LSTM Error Atlas item")


def pytest_collect_file(file_path, parent):
    config = parent.config
    if discover.is_case_file(Path(file_path), config.getini("atlas_case_dirs"), config.rootpath):
        activate(config)
        return CaseFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config):
    # raised here, outside any one file's collection, so pytest exits with a usage error
    if SPLIT_ERROR_KEY in config.stash:
        raise pytest.UsageError(config.stash[SPLIT_ERROR_KEY])
