"""The wheel ships the library, the published matrix and the constraints (built for real with uv)."""

from __future__ import annotations

import subprocess
import zipfile

from lstm_atlas.install.envs import uv_command

from .conftest import CASES_DIR, ROOT


def test_the_wheel_holds_cases_the_published_matrix_and_constraints(tmp_path):
    done = subprocess.run([*uv_command(), "build", "--wheel", "--quiet", "--out-dir", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("lstm_error_atlas-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    cases = {f"lstm_atlas/cases/{p.relative_to(CASES_DIR).as_posix()}" for p in CASES_DIR.rglob("*.y*ml")}
    assert cases and cases <= names
    published = {f"lstm_atlas/published/{p.relative_to(ROOT / 'reports').as_posix()}"
                 for p in [ROOT / "reports" / "merged.json", *(ROOT / "reports").glob("diff-*.txt"),
                           *(ROOT / "reports" / "results").glob("*.json")]}
    assert "lstm_atlas/published/merged.json" in published and published <= names
    constraints = {f"lstm_atlas/constraints/{p.name}" for p in (ROOT / "constraints").glob("*.txt")}
    assert "lstm_atlas/constraints/tf-2.15.txt" in constraints and constraints <= names
    # the harness and its own data too; no report page, picture or fuzz output
    assert {"lstm_atlas/cli.py", "lstm_atlas/case/case.schema.json", "lstm_atlas/explain/explain-index.json",
            "lstm_atlas/install/locate.py"} <= names
    assert not any(n.startswith("lstm_atlas/published/") and n.endswith((".html", ".png")) for n in names)
