"""Located errors stay short whatever a case file holds."""

from __future__ import annotations

from lstm_atlas.case.load import load_text
from lstm_atlas.case.validate import build_case
from lstm_atlas.errors import MAX_MESSAGE, MAX_SHOWN, CaseError, shorten, shorten_message

from .conftest import good_case


def test_a_short_text_is_kept_and_a_long_one_keeps_both_ends_and_says_its_length():
    assert shorten("abc") == "abc"
    long = "a" * 150 + "b" * 300_000 + "c" * 150
    short = shorten(long)
    assert len(short) < MAX_SHOWN + 40 and short.startswith("a" * 100) and short.endswith("c" * 60)
    assert "…[300,300 characters]…" in short


def test_a_message_keeps_its_words_and_shortens_the_long_value():
    message = shorten_message(f"schema: '{'x' * 300_000}' is not of type 'integer'")
    assert message.startswith("schema: 'xxx") and message.endswith("' is not of type 'integer'")
    assert "characters]" in message and len(message) < 300
    listing = "unknown loss 'x' (allowed: " + ", ".join(f"name_{i}" for i in range(60)) + ")"
    assert shorten_message(listing) == listing  # an allow-list fits
    assert len(shorten_message(" ".join(["word"] * 100_000))) <= MAX_MESSAGE + 40


def test_every_case_error_is_short_however_long_the_value():
    huge = "y" * 250_000
    err = CaseError(f"bad value {huge!r}", path="c.yaml", line=3, field=f"data.{huge}")
    assert len(err.located()) < 700 and err.located().count("characters]") == 2  # the message and the field
    text = good_case().replace("tags: [fixture]", f"tags: [fixture]\nseed: '{huge}'")
    try:
        build_case(load_text(text, "<string>"))
    except CaseError as exc:
        assert exc.field == "seed" and len(exc.located()) < 500 and "is not of type 'integer'" in exc.located()
    else:
        raise AssertionError("a string seed validated")
