"""Tracking codes a citizen can read over the phone.

Nine symbols from Crockford's base-32 alphabet (no I, L, O or U, so nothing is
mistaken for 1, 0 or V when spoken), grouped 3-3-3 like ``K7M-2XQ-9R4``. Eight are
random (40 bits: non-sequential, so codes leak no volumes and spread writes), the
ninth is a Luhn mod-32 check symbol, which catches every single wrong symbol and
every swap of two neighbours, so a mistyped code is refused before any lookup.
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


class InvalidTrackingCode(ValueError):
    """The text is not a well-formed tracking code (wrong length, symbol or check)."""


def _check_symbol(payload: str) -> str:
    n = len(ALPHABET)
    total = 0
    factor = 2
    for symbol in reversed(payload):
        addend = factor * _INDEX[symbol]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_tracking_code() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return format_code(payload + _check_symbol(payload))


def format_code(raw: str) -> str:
    return f"{raw[0:3]}-{raw[3:6]}-{raw[6:9]}"


def normalize_tracking_code(text: str) -> str:
    """Canonical ``XXX-XXX-XXX`` form of what a citizen typed, or InvalidTrackingCode."""
    raw = _SEPARATORS.sub("", text.strip().upper()).translate(_LOOKALIKES)
    if len(raw) != RANDOM_LENGTH + 1 or any(symbol not in _INDEX for symbol in raw):
        raise InvalidTrackingCode(text)
    if _check_symbol(raw[:-1]) != raw[-1]:
        raise InvalidTrackingCode(text)
    return format_code(raw)
