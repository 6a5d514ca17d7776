"""Tracking codes: short, readable aloud, non-sequential, and self-checking."""

from __future__ import annotations

import itertools
import re

import pytest

from shared.domain.tracking import (
    ALPHABET,
    InvalidTrackingCode,
    encode,
    new_tracking_code,
    normalize_tracking_code,
)

SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}$")


def test_codes_have_the_readable_shape_and_no_ambiguous_letters() -> None:
    for _ in range(200):
        code = new_tracking_code()
        assert SHAPE.match(code), code
        assert not set(code) & set("ILOU")


def test_codes_are_not_sequential_or_repeated() -> None:
    codes = [new_tracking_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert codes != sorted(codes)


def test_a_code_survives_how_people_type_it() -> None:
    code = new_tracking_code()
    typed = code.lower().replace("-", " ")
    assert normalize_tracking_code(typed) == code
    assert normalize_tracking_code(code.replace("-", "")) == code


def test_lookalike_letters_read_as_digits() -> None:
    code = normalize_tracking_code(new_tracking_code())
    spoken = code.replace("0", "O").replace("1", "I")
    assert normalize_tracking_code(spoken) == code


@pytest.mark.parametrize("text", ["", "ABC", "ABC-DEF-GHJK", "ABC-DEF-GH!", "ABC-DEF-GHU"])
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidTrackingCode):
        normalize_tracking_code(text)


def test_every_single_symbol_error_is_caught() -> None:
    raw = new_tracking_code().replace("-", "")
    for position, symbol in itertools.product(range(len(raw)), ALPHABET):
        if symbol == raw[position]:
            continue
        typo = raw[:position] + symbol + raw[position + 1 :]
        with pytest.raises(InvalidTrackingCode):
            normalize_tracking_code(typo)


@pytest.mark.parametrize("position", range(8))
def test_every_swap_of_neighbours_is_caught(position: int) -> None:
    # Every ordered pair of symbols at every place; at 7 the neighbour is the check symbol.
    for a, b in itertools.permutations(ALPHABET, 2):
        payload = list("K7M2XQ9R")
        payload[position] = a
        if position < 7:
            payload[position + 1] = b
        raw = encode("".join(payload)).replace("-", "")
        if raw[position] == raw[position + 1]:
            continue
        swapped = raw[:position] + raw[position + 1] + raw[position] + raw[position + 2 :]
        with pytest.raises(InvalidTrackingCode):
            normalize_tracking_code(swapped)


def test_the_example_code_citizens_are_shown_is_a_real_code() -> None:
    from shared.web.i18n import MESSAGES

    shown = {
        c for texts in MESSAGES.values() for text in texts for c in SHAPE_IN_TEXT.findall(text)
    }
    assert shown
    for code in shown:
        assert normalize_tracking_code(code) == code


SHAPE_IN_TEXT = re.compile(r"\b[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}\b")
