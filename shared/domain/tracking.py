"""Tracking codes a citizen can read over the phone.

Nine symbols from Crockford's base-32 alphabet (no I, L, O or U, so nothing is
mistaken for 1, 0 or V when spoken), grouped 3-3-3 like ``K7M-2XQ-9RJ``. Eight are
random (40 bits: non-sequential, so codes leak no volumes and spread writes), the
ninth is a check symbol (Damm's algorithm over GF(32)), which catches every single
wrong symbol and every swap of two neighbours, so a mistyped code is refused before
any lookup.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {symbol: i for i, symbol in enumerate(ALPHABET)}
# What people type for the symbols Crockford left out.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
RANDOM_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_.]")
_FIELD_POLYNOMIAL = 0b100101  # x^5 + x^2 + 1, primitive: GF(32)


class InvalidTrackingCode(ValueError):
    """The text is not a well-formed tracking code (wrong length, symbol or check)."""


def _fold(symbols: str) -> int:
    """Damm's scheme over GF(32): state = x*state + symbol, with x the field's generator.

    x*a + b is a totally anti-symmetric quasigroup (x is neither 0 nor 1), so any one
    wrong symbol and any swap of two different neighbours changes the result; a plain
    Luhn mod 32 would miss swapping 0 and Z.
    """
    state = 0
    for symbol in symbols:
        state <<= 1
        if state & 0b100000:
            state ^= _FIELD_POLYNOMIAL
        state ^= _INDEX[symbol]
    return state


def _check_symbol(payload: str) -> str:
    # Appending c makes the fold x*s + c; choosing c = x*s brings it to zero.
    return ALPHABET[_fold(payload + "0")]


def new_tracking_code() -> str:
    return encode("".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH)))


def encode(payload: str) -> str:
    """The formatted code for eight payload symbols, check symbol appended."""
    if len(payload) != RANDOM_LENGTH or any(symbol not in _INDEX for symbol in payload):
        raise InvalidTrackingCode(payload)
    return format_code(payload + _check_symbol(payload))


def format_code(raw: str) -> str:
    return f"{raw[0:3]}-{raw[3:6]}-{raw[6:9]}"


def normalize_tracking_code(text: str) -> str:
    """Canonical ``XXX-XXX-XXX`` form of what a citizen typed, or InvalidTrackingCode."""
    raw = _SEPARATORS.sub("", text.strip().upper()).translate(_LOOKALIKES)
    if len(raw) != RANDOM_LENGTH + 1 or any(symbol not in _INDEX for symbol in raw):
        raise InvalidTrackingCode(text)
    if _fold(raw) != 0:
        raise InvalidTrackingCode(text)
    return format_code(raw)
