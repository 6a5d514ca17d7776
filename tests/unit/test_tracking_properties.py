"""Properties of tracking codes over generated payloads (issue 11, item 1): every code
reads back as itself however a citizen types it, and the check symbol refuses every
single wrong symbol and every swap of two different neighbours."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.tracking import (
    ALPHABET,
    RANDOM_LENGTH,
    InvalidTrackingCode,
    encode,
    normalize_tracking_code,
)

# Derandomized: the unit tier gives the same examples on every run and in CI.
EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True)

payloads = st.text(alphabet=ALPHABET, min_size=RANDOM_LENGTH, max_size=RANDOM_LENGTH)


def _raw(code: str) -> str:
    return code.replace("-", "")


@EXAMPLES
@given(payloads, st.sampled_from(["{}", " {} ", "{}\n"]), st.sampled_from(["-", "", " ", "."]))
def test_a_code_reads_back_as_itself_however_it_is_typed(
    payload: str, padding: str, separator: str
) -> None:
    code = encode(payload)
    assert normalize_tracking_code(code) == code
    raw = _raw(code)
    typed = separator.join((raw[0:3], raw[3:6], raw[6:9])).lower()
    assert normalize_tracking_code(padding.format(typed)) == code
    # O, I and L are not in the alphabet: people mean 0, 1 and 1.
    lookalike = typed.replace("0", "o").replace("1", "l")
    assert normalize_tracking_code(lookalike) == code


@EXAMPLES
@given(payloads, st.integers(0, RANDOM_LENGTH), st.integers(1, len(ALPHABET) - 1))
def test_every_single_wrong_symbol_is_refused(payload: str, position: int, shift: int) -> None:
    raw = _raw(encode(payload))
    wrong = ALPHABET[(ALPHABET.index(raw[position]) + shift) % len(ALPHABET)]
    typo = raw[:position] + wrong + raw[position + 1 :]
    with pytest.raises(InvalidTrackingCode):
        normalize_tracking_code(typo)


@EXAMPLES
@given(payloads, st.integers(0, RANDOM_LENGTH - 1))
def test_every_swap_of_two_different_neighbours_is_refused(payload: str, position: int) -> None:
    raw = _raw(encode(payload))
    swapped = raw[:position] + raw[position + 1] + raw[position] + raw[position + 2 :]
    if swapped == raw:
        return  # the same symbol twice: swapping them is no error
    with pytest.raises(InvalidTrackingCode):
        normalize_tracking_code(swapped)


@EXAMPLES
@given(st.text(max_size=20))
def test_any_text_is_a_code_or_refused_as_one_never_another_error(text: str) -> None:
    try:
        code = normalize_tracking_code(text)
    except InvalidTrackingCode:
        return
    assert normalize_tracking_code(code) == code
    assert len(code) == 11 and code[3] == code[7] == "-"
    assert all(symbol in ALPHABET for symbol in _raw(code))
