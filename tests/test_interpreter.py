"""A child started on an ``lstm_atlas`` entry point imports the installed package, never a folder
named ``lstm_atlas/`` in the current directory (the isolated item and the fuzz worker start so)."""

from __future__ import annotations

import subprocess
import sys

from lstm_atlas.interpreter import entry_argv


def test_entry_argv_ignores_a_users_own_lstm_atlas_folder(tmp_path, monkeypatch):
    decoy = tmp_path / "lstm_atlas"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy package was imported')\n")
    (decoy / "cli.py").write_text("raise SystemExit(42)\n")
    monkeypatch.chdir(tmp_path)
    # the decoy is real: `python -m` from this folder imports it
    shadowed = subprocess.run([sys.executable, "-m", "lstm_atlas.cli", "--help"], capture_output=True, text=True,
                              timeout=120, check=False)
    assert shadowed.returncode != 0 and "the decoy package was imported" in shadowed.stderr
    started = subprocess.run(entry_argv("lstm_atlas.cli", "--help"), capture_output=True, text=True, timeout=120,
                             check=False)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("usage: lstm-atlas")
