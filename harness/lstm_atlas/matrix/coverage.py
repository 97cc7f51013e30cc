"""Whether the published matrix covers the library: every case, every variant, every environment.

The report, the catalogue and the README quote counts from ``reports/merged.json``; a case
added to ``cases/`` after the matrix ran is in none of them. ``lstm-atlas coverage`` (and the
test suite) name each (case, environment) pair that has no result, and each case the matrix
holds that the library no longer has, so a stale matrix fails instead of being published.
Pure data: no TensorFlow.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lstm_atlas.versions import env_sort_key

#: The variants every case has (the ``invalid`` pseudo-variant is not a result).
VARIANTS = ("repro", "fix")


@dataclass
class Coverage:
    missing: list = field(default_factory=list)  # [(case id, env key, [variants without a CPU result])]
    stale: list = field(default_factory=list)  # case ids with results but no case file
    environments: list = field(default_factory=list)  # env keys, in matrix order

    @property
    def complete(self) -> bool:
        return not self.missing and not self.stale

    def lines(self) -> list[str]:
        out = [f"missing: {case} on {env} ({', '.join(variants)})" for case, env, variants in self.missing]
        out += [f"stale: {case} has results in the matrix but no case file" for case in self.stale]
        return out


def env_keys(merged: dict) -> list[str]:
    envs = merged.get("environments", {})
    return sorted(envs, key=lambda key: (env_sort_key(envs[key]), key))


def check_coverage(merged: dict, case_ids, device: str = "cpu") -> Coverage:
    """Every case id on every environment of ``merged``: which variants have no ``device`` cell."""
    results = merged.get("results", {})
    keys = env_keys(merged)
    missing = []
    for case in sorted(set(case_ids)):
        variants = results.get(case, {})
        for key in keys:
            lacking = [v for v in VARIANTS if key not in variants.get(v, {}).get(device, {})]
            if lacking:
                missing.append((case, key, lacking))
    stale = sorted(set(results) - set(case_ids))
    return Coverage(missing, stale, keys)


def matrix_counts(merged: dict, device: str = "cpu") -> dict:
    """What a published page may state, computed from the matrix alone.

    ``cases``/``families``: the cases with results and their families; per env key, ``items``
    (the CPU items: variants with a cell) and ``passed``.
    """
    cases = set(merged.get("results", {}))
    summaries = merged.get("cases", {})
    families = {summaries[c].get("family") for c in cases if c in summaries}
    per_env: dict = {key: Counter() for key in env_keys(merged)}
    for variants in merged.get("results", {}).values():
        for variant, devices in variants.items():
            for key, cell in devices.get(device, {}).items():
                if variant in VARIANTS and key in per_env:
                    per_env[key]["items"] += 1
                    per_env[key]["passed"] += cell.get("verdict") == "pass"
    return {"cases": len(cases), "families": len(families - {None}),
            "environments": {key: dict(items=c["items"], passed=c["passed"]) for key, c in per_env.items()}}
