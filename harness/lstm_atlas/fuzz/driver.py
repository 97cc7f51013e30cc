"""``lstm-atlas fuzz``: Hypothesis drives examples through a warm TensorFlow worker and maps the errors.

Hypothesis runs here, in a parent process that never imports TensorFlow; each example is
sent to a warm worker (:mod:`lstm_atlas.fuzz.worker`, through its handle
:class:`lstm_atlas.fuzz.supervisor.Worker`), restarted when it dies or hangs, so a crash or a
timeout is an outcome like any other. Each outcome is reduced to its signature
(:func:`lstm_atlas.normalise.signature`, the one normaliser) and asked to the oracle. An
unexplained signature (or a suspected library bug) is raised as its own exception type so
Hypothesis shrinks each one separately; the last example seen raising it is Hypothesis's
final replay of the shrunk example, which becomes a candidate case. The map is written
atomically every few examples and at the end.

Everything goes to the scratch folder (``results/fuzz/``: the map, the candidates, and the run's
corpus, :func:`lstm_atlas.fuzz.corpus.select`); ``publish=True`` merges the corpus into
``reports/fuzz/corpus.json`` and adds the candidates to ``reports/candidates/<env>/``
(:mod:`lstm_atlas.fuzz.publish`). Nothing published is deleted or replaced by a run.

Profiles: ``ci`` is derandomised and bounded (same examples every run, no database);
``explore`` is random, long, and keeps Hypothesis's example database under
``.hypothesis/lstm-atlas/<env>/`` so later runs replay what failed before.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase

from lstm_atlas.fuzz import strategies
from lstm_atlas.fuzz.candidates import build_candidate, write_candidate
from lstm_atlas.fuzz.corpus import CORPUS_FILE, make_corpus, select, write_corpus
from lstm_atlas.fuzz.errormap import FuzzMap, write_index
from lstm_atlas.fuzz.oracle import Oracle, outcome_signature
from lstm_atlas.fuzz.progress import progress_bar
from lstm_atlas.fuzz.publish import PUBLISHED_CANDIDATES, PUBLISHED_DIR, SCRATCH_DIR, publish_candidates, publish_corpus
from lstm_atlas.fuzz.supervisor import Worker
from lstm_atlas.versions import env_key

DATABASE_ROOT = Path(".hypothesis") / "lstm-atlas"
#: Raises of one signature that Hypothesis may use while shrinking it, after which smaller
#: examples of it count as passing (bounds shrinking on the slow fit path).
SHRINK_CAP = 20
#: Examples (at least; a quarter of the budget when larger) a round may run past the budget to shrink.
SHRINK_ALLOWANCE = 30
WRITE_EVERY = 25


@dataclass
class Profile:
    """A named budget: examples, round size, derandomised or not, example database or not, hang limit."""

    name: str
    examples: int
    derandomize: bool
    round_size: int
    database: bool
    timeout_s: float
    #: Each round draws from one (layer, step) stratum in turn: shrinking pulls every example toward the
    #: first choices (LSTM, call), so without strata a run's examples, and its corpus, are mostly those.
    stratified: bool = False


PROFILES = {
    "ci": Profile("ci", examples=40, derandomize=True, round_size=40, database=False, timeout_s=60.0),
    # an example that has not answered in 30 s counts as a hang (fits took ~1 s on average in explore runs)
    "explore": Profile("explore", examples=100_000, derandomize=False, round_size=20, database=True,
                       timeout_s=30.0, stratified=True),
}


@dataclass
class FuzzRun:
    """State of one ``lstm-atlas fuzz`` run across Hypothesis rounds."""

    worker: Worker
    oracle: Oracle
    fmap: FuzzMap
    out_dir: Path
    candidates_dir: Path
    deadline: float
    hard_deadline: float
    max_examples: int
    outcomes: dict = field(default_factory=dict)
    raise_counts: dict = field(default_factory=dict)
    raised_keys: set = field(default_factory=set)
    finished: set = field(default_factory=set)
    last_raised: dict = field(default_factory=dict)
    exception_types: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    candidates: list = field(default_factory=list)
    on_example: object = None

    def budget_left(self) -> bool:
        """Whether another round may start."""
        return self.fmap.examples < self.max_examples and time.monotonic() < self.deadline

    def may_run(self) -> bool:
        """Whether this round may still run TensorFlow: the budget plus an allowance for shrinking."""
        allowance = max(SHRINK_ALLOWANCE, self.max_examples // 4)
        return self.fmap.examples < self.max_examples + allowance and time.monotonic() < self.hard_deadline

    def _exception_for(self, sig: str) -> type:
        if sig not in self.exception_types:
            self.exception_types[sig] = type("UnexplainedSignature", (Exception,), {"signature": sig})
        return self.exception_types[sig]

    def probe(self, example: dict) -> None:
        """The Hypothesis test body: run (or recall) the example, record it, raise if it must be shrunk."""
        key = strategies.example_key(example)
        outcome = self.outcomes.get(key)
        if outcome is None:
            if not self.may_run():
                return  # out of budget: let Hypothesis finish its round without running TensorFlow
            outcome = self.worker.run(example)
            outcome["signature"] = outcome_signature(outcome)
            outcome["explained_by"] = self.oracle.explain(outcome, example)
            self.outcomes[key] = outcome
            self.seen.append((example, outcome["signature"]))
            record = self.fmap.add(example, outcome, outcome["explained_by"])
            if self.on_example:
                self.on_example(self, example, outcome, record)
            if self.fmap.examples % WRITE_EVERY == 0:
                self.fmap.write(self.out_dir, heatmap=False)
        sig = outcome["signature"]
        if outcome["explained_by"]:
            return
        if key not in self.raised_keys:
            if sig in self.finished or self.raise_counts.get(sig, 0) >= SHRINK_CAP:
                return
            self.raise_counts[sig] = self.raise_counts.get(sig, 0) + 1
            self.raised_keys.add(key)
        self.last_raised[sig] = (example, outcome)
        raise self._exception_for(sig)(sig)

    def settle_round(self) -> list[Path]:
        """After a round: each signature raised in it gets its shrunk example and a candidate file."""
        written = []
        for sig, (example, outcome) in sorted(self.last_raised.items()):
            record = self.fmap.signatures.get(sig)
            if record is None:
                continue
            record["minimal_example"] = example
            if not outcome["explained_by"] and not self.oracle.is_triaged(sig):
                case = build_candidate(sig, example, outcome, self.worker.environment, record["count"])
                path = write_candidate(self.candidates_dir / env_key(self.worker.environment), case)
                record["candidate"] = str(path)
                written.append(path)
                self.candidates.append(path)
            self.finished.add(sig)
        self.last_raised.clear()
        self.fmap.write(self.out_dir)
        return written


def _settings(profile: Profile, examples: int, database_dir: Path | None) -> settings:
    return settings(max_examples=max(1, examples), deadline=None, derandomize=profile.derandomize,
                    database=DirectoryBasedExampleDatabase(str(database_dir)) if database_dir else None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
                    report_multiple_bugs=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])


def run_fuzz(*, profile: str = "ci", examples: int | None = None, seconds: float | None = None,
             seed: int | None = None, layers=None, steps=None, out_dir=SCRATCH_DIR,
             candidates_dir=SCRATCH_DIR / "candidates", cases_dir="cases", merged="reports/merged.json",
             allow=None, timeout_s: float | None = None, progress: bool = True, python: str | None = None,
             database_dir: str | Path | None = None, publish: bool = False, publish_dir=PUBLISHED_DIR,
             publish_candidates_dir=PUBLISHED_CANDIDATES) -> dict:
    """Run the fuzzer and write the map, candidates and corpus to ``out_dir``; returns the map's JSON.

    ``publish``: also merge the corpus into ``publish_dir`` and add the candidates to
    ``publish_candidates_dir`` (see :mod:`lstm_atlas.fuzz.publish`)."""
    from lstm_atlas.case.library import load_library
    from lstm_atlas.fuzz.oracle import ALLOW_FILE

    prof = PROFILES[profile]
    max_examples = examples if examples is not None else prof.examples
    deadline = time.monotonic() + (seconds if seconds is not None else 10 ** 9)
    hard_deadline = deadline + (min(120.0, 0.2 * seconds) if seconds is not None else 0.0)
    layers = tuple(layers or strategies.LAYER_KINDS)
    steps = tuple(steps or strategies.STEPS)
    worker = Worker(timeout_s or prof.timeout_s, python=python)
    library = load_library(cases_dir) if Path(cases_dir).is_dir() else []  # while the worker imports TF
    env = dict(worker.wait_ready(), device_kind="cpu")
    oracle = Oracle.from_library(library, env, merged, allow if allow is not None else ALLOW_FILE)
    fmap = FuzzMap(worker.environment, profile, seed, family_of=oracle.family_of)
    if database_dir is None and prof.database:
        database_dir = DATABASE_ROOT / env_key(worker.environment)
    run = FuzzRun(worker, oracle, fmap, Path(out_dir), Path(candidates_dir), deadline, hard_deadline, max_examples)
    strata = [(None, None)]
    if prof.stratified:  # in an order of the seed's, so a short run still visits several layers and steps
        strata = [(layer, step) for layer in layers for step in steps if layer != "LSTMCell" or step == "call"]
        random.Random(seed or 0).shuffle(strata)
        strata = strata or [(None, None)]  # LSTMCell with only predict or fit: the cell's examples are calls
    bar = progress_bar(progress, max_examples if examples is not None or seconds is None else None, seconds)
    if bar is not None:
        run.on_example = bar.update
    try:
        round_index = idle_rounds = 0
        while run.budget_left():
            left = max_examples - fmap.examples
            size = min(prof.round_size, left)

            def test(example):
                run.probe(example)

            layer, step = strata[round_index % len(strata)]
            strategy = strategies.examples(layers=(layer,) if layer else layers, step_names=(step,) if step else steps)
            test = given(strategy)(test)
            test = _settings(prof, size, Path(database_dir) if database_dir else None)(test)
            if not prof.derandomize:
                test = hypothesis_seed((seed or 0) * 1_000_003 + round_index)(test)
            before = fmap.examples
            try:
                test()
            except BaseException as exc:  # Hypothesis reports the shrunk signatures this way
                if isinstance(exc, KeyboardInterrupt):
                    raise
            run.settle_round()
            round_index += 1
            idle_rounds = idle_rounds + 1 if fmap.examples == before else 0
            if prof.derandomize or idle_rounds >= len(strata):
                break  # a derandomised profile replays the same examples; nothing new in any stratum: nothing left
    finally:
        if bar is not None:
            bar.close()
        worker.stop()
        data = fmap.to_json()
        data["summary"]["worker_restarts"] = worker.restarts
        from lstm_atlas.fuzz.errormap import write_map

        env_dir = Path(out_dir) / data["env"]
        write_map(data, env_dir)
        write_index(out_dir)
        shrunk = [s["minimal_example"] for s in fmap.signatures.values() if s.get("minimal_example")]
        corpus = make_corpus(select(run.seen, shrunk), [{"env": data["env"], "profile": profile, "seed": seed,
                                                         "examples": fmap.examples}])
        write_corpus(env_dir / CORPUS_FILE, corpus)
        data["corpus_examples"] = len(corpus["examples"])
    if publish:
        merged_corpus = publish_corpus(corpus, publish_dir)
        publish_candidates(run.candidates, Path(publish_candidates_dir) / data["env"])
        data["published_corpus"] = {"path": str(Path(publish_dir) / CORPUS_FILE), "corpus": merged_corpus["corpus"],
                                    "examples": len(merged_corpus["examples"])}
    return data

