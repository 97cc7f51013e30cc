"""Where ``lstm-atlas fuzz`` writes: a scratch folder by default, the published reports only when asked.

A first ``lstm-atlas fuzz`` used to replace the committed map with a 70-example one and delete the
committed candidates. Now every run writes to ``results/fuzz/`` (git-ignored): its map, its
candidates, its corpus. ``--publish`` then adds to ``reports/``, and only adds:

- the corpus is merged with the published one (union by example id, :func:`~lstm_atlas.fuzz.corpus.merge`);
- candidate files are copied next to the published ones (none is deleted: triage removes them);
- a replayed map replaces that environment's map only when the replay ran the whole corpus (a
  partial replay, cut by ``--examples`` or a signal, publishes nothing); other environments' maps stay;
- the index is rebuilt from what is then there.

Every file is written atomically (temporary file, then rename), under a lock on the published folder,
so two environments publishing at once (``tox p``) both land and a killed run leaves each file
either as it was or whole and new.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from lstm_atlas.files import LockHeld, hold_lock, write_bytes_atomic
from lstm_atlas.fuzz.corpus import CORPUS_FILE, merge, read_corpus, write_corpus

SCRATCH_DIR = Path("results") / "fuzz"
PUBLISHED_DIR = Path("reports") / "fuzz"
PUBLISHED_CANDIDATES = Path("reports") / "candidates"
LOCK_NAME = ".publish.lock"
LOCK_WAIT_S = 600.0


class PublishLock:
    """The published folder's lock, waited for (another environment may be publishing)."""

    def __init__(self, directory: Path, wait_s: float = LOCK_WAIT_S):
        self.path = Path(directory) / LOCK_NAME
        self.wait_s = wait_s
        self.handle = None

    def __enter__(self):
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                self.handle = hold_lock(self.path, f"the published fuzz folder {self.path.parent}")
                return self
            except LockHeld:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __exit__(self, *exc):
        self.handle.close()


def publish_corpus(corpus: dict, directory: str | Path) -> dict:
    """Merge ``corpus`` into the published one; returns what was written."""
    directory = Path(directory)
    with PublishLock(directory):
        merged = merge(read_corpus(directory / CORPUS_FILE, missing_ok=True), corpus)
        write_corpus(directory / CORPUS_FILE, merged)
    return merged


def publish_candidates(paths: list[Path], directory: str | Path) -> list[Path]:
    """Copy candidate files into ``directory`` (atomically, one by one); nothing there is removed."""
    directory = Path(directory)
    written = []
    for path in paths:
        target = directory / path.name
        write_bytes_atomic(target, Path(path).read_bytes())
        written.append(target)
    return written


def publish_map(env_dir: str | Path, directory: str | Path) -> list[Path]:
    """Copy one environment's map files (map.json, signatures.md, heatmap.png) into the published folder,
    then rebuild its index; the other environments' maps are left as they are."""
    from lstm_atlas.fuzz.errormap import write_index

    env_dir, directory = Path(env_dir), Path(directory)
    written = []
    with PublishLock(directory):
        # the map last: an index reader that sees the new map.json also finds its heatmap
        for name in ("heatmap.png", "signatures.md", "map.json"):
            source = env_dir / name
            if source.exists():
                target = directory / env_dir.name / name
                write_bytes_atomic(target, source.read_bytes())
                written.append(target)
        written += write_index(directory)
    return written


def copy_corpus(source: str | Path, target: str | Path) -> None:
    """The corpus a replay ran, next to its scratch map (so the scratch index can describe examples)."""
    if Path(source).resolve() != Path(target).resolve():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, Path(target).with_suffix(".tmp"))
        Path(target).with_suffix(".tmp").replace(target)
