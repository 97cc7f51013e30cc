"""``lstm-atlas validate``: one line per bad file, never a traceback, and the library is valid."""

from __future__ import annotations

from lstm_atlas import cli

from .conftest import BROKEN_DIR, CASES_DIR, broken_expectations


def test_validate_reports_each_broken_file_on_one_line(capsys):
    assert cli.main(["validate", str(BROKEN_DIR)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    broken = broken_expectations()
    assert lines[-1] == f"0 valid, {len(broken)} invalid"
    assert len(lines) == len(broken) + 1, "one line per file"
    for (path, line, field, message), text in zip(broken, lines):
        assert text.startswith(f"{path}:{line}"), text
        assert message in text, text
        if field:
            assert f"field '{field}'" in text, text
    assert "Traceback" not in out.out + out.err


def test_validate_says_the_library_is_valid(capsys):
    count = len(list(CASES_DIR.rglob("*.yaml")))
    assert cli.main(["validate", str(CASES_DIR)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{count} valid, 0 invalid"]


def test_validate_turns_an_unexpected_error_into_a_line(monkeypatch, capsys, tmp_path):
    import lstm_atlas.validate as validate

    def explode(path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(validate, "load_case", explode)
    path = tmp_path / "case.yaml"
    path.write_text("id: case\n")
    assert cli.main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: RecursionError: maximum recursion depth exceeded", "0 valid, 1 invalid"]


def test_validate_names_a_file_it_cannot_read(capsys, tmp_path):
    assert cli.main(["validate", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().out
