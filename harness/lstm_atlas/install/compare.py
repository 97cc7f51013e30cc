"""How this install compares with the published matrix: the environment whose outcomes it shares most.

The install's results file is merged with the published matrix under its own key
(:data:`THIS_INSTALL`), then compared with every environment by ``matrix/diff.py``, the same
per-cell comparison as ``lstm-atlas diff``: an environment is as close as the number of case
variants whose outcome (exception class, step, message, verdicts) is identical on both.
"""

from __future__ import annotations

import copy

from lstm_atlas.matrix.diff import render_diff_text, upgrade_diff
from lstm_atlas.matrix.merge import Matrix, merge
from lstm_atlas.versions import env_label

#: The key this install's results take in the merged comparison.
THIS_INSTALL = "this-install"


def with_install(published: dict, results: dict) -> Matrix:
    """The published matrix plus this install's results under :data:`THIS_INSTALL`."""
    mine = copy.deepcopy(results)
    if mine.get("environment") is not None:
        mine["environment"]["env_name"] = THIS_INSTALL
    return merge([("published", published), ("this install", mine)])


def _compared(matrix: Matrix, old: str, new: str, device: str) -> int:
    return sum(1 for (_, _, kind), by_env in matrix.cells.items()
               if kind == device and old in by_env and new in by_env
               and "skip" not in (by_env[old]["verdict"], by_env[new]["verdict"]))


def ranking(matrix: Matrix, device: str = "cpu") -> list[dict]:
    """Every published environment with how many case variants were compared and how many differ,
    closest first (most identical, then fewest changes, then the same TensorFlow as this install)."""
    mine = matrix.environments.get(THIS_INSTALL)
    if mine is None:
        return []
    rows = []
    for key in matrix.env_keys():
        if key == THIS_INSTALL:
            continue
        diff = upgrade_diff(matrix, key, THIS_INSTALL, device=device)
        compared = _compared(matrix, key, THIS_INSTALL, device)
        theirs = matrix.environments[key]
        same = (theirs.get("tensorflow"), theirs.get("keras")) == (mine.get("tensorflow"), mine.get("keras"))
        rows.append({"env": key, "compared": compared, "changed": len(diff["changed"]), "diff": diff,
                     "same_versions": same})
    rows.sort(key=lambda r: (-(r["compared"] - r["changed"]), r["changed"], not r["same_versions"], r["env"]))
    return rows


def verdict_text(matrix: Matrix, device: str = "cpu", published: str = "the published matrix") -> str:
    """The closing note of ``lstm-atlas run``: behaves like TF x + Keras y, or differs on these cases (the diff)."""
    mine = matrix.environments.get(THIS_INSTALL)
    if mine is None:
        return "No item ran, so this install cannot be compared with the published matrix.\n"
    rows = [r for r in ranking(matrix, device) if r["compared"]]
    this = f"This install ({env_label(mine)}, numpy {mine.get('numpy', '?')}, Python {mine.get('python', '?')})"
    if not rows:
        return f"{this}: none of the case variants that ran on {device} are in {published}.\n"
    best = rows[0]
    env = matrix.environments[best["env"]]
    like = f"{env_label(env).replace(' / ', ' + ')} ({best['env']})"
    if best["changed"] == 0:
        also = [r["env"] for r in rows[1:] if r["changed"] == 0]
        return (f"{this} behaves like {like}: all {best['compared']} case variants compared on {device} have the "
                f"same outcome" + (f" (as on {', '.join(also)})" if also else "") + f"; compared with {published}.\n")
    text = (f"{this} differs from every environment of {published}; closest is {like}, "
            f"{best['compared'] - best['changed']} of {best['compared']} case variants identical on {device}. "
            f"It differs on these cases:\n\n")
    return text + render_diff_text(matrix, best["diff"])
