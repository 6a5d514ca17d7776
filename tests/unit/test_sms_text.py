"""The SMS texts: the segment counter, and every reporter text in both languages fitting
two segments of basic GSM-7 at its longest."""

from __future__ import annotations

import pytest

from shared.usecases.sms import (
    GSM7_BASIC,
    KINDS,
    MAX_SEGMENTS,
    QUOTED,
    SmsTooLong,
    compose_sms,
    plain,
    short_private_link,
    sms_size,
)
from shared.web.schemas import DESCRIPTION_MAX

SECRET = "unit-test-secret-0123456789"
CODE = "K7M-2XQ-9RJ"
# The longest a deployment's citizen site base URL is expected to be (a regency's
# domain is about 30 characters: https://lapor.cianjurkab.go.id).
LONGEST_BASE_URL = "https://lapor." + "k" * 22 + ".go.id"
# An unsubscribe link as shared.tokens.unsubscribe_token makes them on that base URL:
# /berhenti/ and a 59-character token.
LONGEST_STOP_LINK = LONGEST_BASE_URL + "/berhenti/" + "t" * 59
LONGEST_QUOTE = ("Jalan sudah kami tambal sepanjang 200 meter dan diberi marka baru. " * 80)[
    :DESCRIPTION_MAX
]


def longest_context() -> dict[str, str]:
    link = short_private_link(LONGEST_BASE_URL, SECRET, "r" * 20, CODE)
    return {
        "code": CODE,
        "link": link,
        "stop_link": LONGEST_STOP_LINK,
        "message": LONGEST_QUOTE,
        "reason": LONGEST_QUOTE,
    }


# --- the segment counter --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # an extension character takes two septets
        ("€" + "a" * 159, "GSM-7", 161, 2),
        # 152 septets, then an escape pair that would straddle the boundary: it moves
        # whole into the second segment, so 152 + 2 + 152 = 306 septets take three.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("a" * 151 + "€" + "a" * 153, "GSM-7", 306, 2),
        ("é" * 160, "GSM-7", 160, 1),  # in the basic set
        ("ā" * 70, "UCS-2", 70, 1),
        ("ā" * 71, "UCS-2", 71, 2),
        ("ā" * 134, "UCS-2", 134, 2),
        ("ā" * 135, "UCS-2", 135, 3),
        ("a" * 133 + "😀", "UCS-2", 135, 3),  # a surrogate pair is never split
        ("a" * 132 + "😀", "UCS-2", 134, 2),
        ("a" * 300 + "“", "UCS-2", 301, 5),  # one curly quote makes it all UCS-2
    ],
)
def test_segments_are_counted_as_phones_join_them(
    text: str, encoding: str, units: int, segments: int
) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_free_text_is_folded_into_basic_gsm7() -> None:
    typed = "\u201cSudah\u201d \u2013 selesai\u2026 [RT 02] na\u00efve \U0001f600\n\tbaris"
    assert plain(typed) == ('"Sudah" - selesai... (RT 02) naive baris')
    assert all(char in GSM7_BASIC for char in plain("Ölçü € ~ | ^ { } \\ ā 漢字"))


# --- every text ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_text_fits_two_gsm7_segments_at_its_longest(kind: str, language: str) -> None:
    context = longest_context()
    text = compose_sms(kind, language, context)  # type: ignore[arg-type]
    size = sms_size(text)
    assert size.encoding == "GSM-7" and size.segments <= MAX_SEGMENTS, (size, text)
    assert all(char in GSM7_BASIC for char in text), "basic GSM-7 only (no escapes)"
    assert CODE in text and context["link"] in text and text.startswith("LAPOR!")
    assert text.endswith(context["stop_link"])
    quoted = QUOTED[kind]
    if quoted is not None:
        # Shortened, marked, and still saying something.
        kept = text.split(': "', 1)[1].split('..."', 1)[0]
        assert LONGEST_QUOTE.startswith(kept) and len(kept) >= 20, text
    else:
        assert "Jalan sudah" not in text


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_short_quote_is_kept_whole_and_the_language_is_the_reporters(
    kind: str, language: str
) -> None:
    context = {"code": CODE, "link": "https://lapor.example.id/l/K7M2XQ9RJ-0123456789"}
    context |= {"message": "Sudah diperbaiki.", "reason": "Mohon kirim foto lokasi."}
    text = compose_sms(kind, language, context)  # type: ignore[arg-type]
    assert sms_size(text).segments <= MAX_SEGMENTS
    quoted = QUOTED[kind]
    if quoted is not None:
        assert f': "{context[quoted]}"' in text
    indonesian = "Laporan" in text or "Tautan" in text
    assert indonesian == (language == "id"), text
    assert "Berhenti" not in text and "Stop" not in text  # no stop link given


def test_a_quote_cut_ends_on_a_whole_word() -> None:
    context = longest_context() | {"message": "kata " * 400}
    text = compose_sms("report.followed_up", "id", context)
    assert ' kata..."' in text or ': "kata..."' in text


def test_unknown_kind_or_language_and_links_too_long_are_refused() -> None:
    context = {"code": CODE, "link": "https://lapor.example.id/l/x"}
    with pytest.raises(ValueError, match="no SMS text"):
        compose_sms("report.dispositioned", "id", context)
    with pytest.raises(ValueError, match="no SMS text"):
        compose_sms("report.accepted", "jv", context)  # type: ignore[arg-type]
    with pytest.raises(SmsTooLong):
        compose_sms("report.on_hold", "id", context | {"link": "https://x.id/" + "a" * 300})


def test_the_figures_of_each_text() -> None:
    """Segments of each text at its longest context (read in the report of the work)."""
    context = longest_context()
    figures = {
        (kind, language): sms_size(compose_sms(kind, language, context)).units
        for kind in KINDS
        for language in ("id", "en")
    }
    assert max(figures.values()) <= 306
    assert min(figures.values()) > 160, "even the shortest carries two links here"
