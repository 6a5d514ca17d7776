"""Keyed hashes: reporter tokens, unsubscribe tokens and pseudonymous client keys.

A reporter token is an HMAC of the report id under the deployment's secret, so it
is never stored, a replayed submission can hand back the same token, and checking
one costs no read. An unsubscribe token is the same idea with its payload beside
the MAC: it names whom it stops (shared.ports.OptOut), so the page needs no lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from shared.ports import OptOut, OptOutAudience, OptOutChannel


def _mac(secret: str, purpose: str, value: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def reporter_token(secret: str, report_id: str) -> str:
    return base64.urlsafe_b64encode(_mac(secret, "reporter-token", report_id)[:24]).decode()


def is_reporter_token(secret: str, report_id: str, token: str | None) -> bool:
    # compare_digest refuses non-ASCII text with a TypeError; no such text is a token.
    if not token or not token.isascii():
        return False
    return hmac.compare_digest(reporter_token(secret, report_id), token)


# Crockford's base 32, lower case: the alphabet of tracking codes, and no symbol an SMS
# reader mistakes for another (no i, l, o or u).
_SHORT_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SHORT_TOKEN_LENGTH = 10  # 50 bits: guessing one online takes millions of years


def short_reporter_token(secret: str, report_id: str) -> str:
    """The short form of the reporter token, for the private link in an SMS
    (``/l/<code>-<short token>``): derived from the reporter token, so it needs no
    storage either, and opens exactly what that token opens."""
    mac = _mac(secret, "short-link", reporter_token(secret, report_id))
    number = int.from_bytes(mac[:8], "big")
    return "".join(
        _SHORT_ALPHABET[(number >> (5 * i)) & 0b11111] for i in range(SHORT_TOKEN_LENGTH)
    )


def is_short_reporter_token(secret: str, report_id: str, token: str | None) -> bool:
    if not token or not token.isascii():
        return False
    return hmac.compare_digest(short_reporter_token(secret, report_id), token.lower())


def pseudonym(secret: str, purpose: str, value: str) -> str:
    """A stable key for ``value`` (a client address, an idempotency key) that does not reveal it."""
    return _mac(secret, purpose, value).hex()[:40]


# --- unsubscribe links (RFC 8058 one-click) ---------------------------------------------

_UNSUBSCRIBE = "unsubscribe"
_AUDIENCE_CODES: dict[OptOutAudience, str] = {"reporter": "r", "agency": "a"}
_AUDIENCES = {code: audience for audience, code in _AUDIENCE_CODES.items()}
_CHANNEL_CODES: dict[OptOutChannel, str] = {"email": "e", "sms": "s"}
_CHANNELS = {code: channel for channel, code in _CHANNEL_CODES.items()}
UNSUBSCRIBE_TOKEN_MAX = 400  # longer is no token of ours: refused before any work
_MAC_BYTES = 18


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def reporter_opt_out(report_id: str, channel: OptOutChannel) -> OptOut:
    """A reporter's messages about one report on one channel."""
    return OptOut("reporter", report_id, channel)


def agency_opt_out(secret: str, agency_id: str, address: str) -> OptOut:
    """One e-mail address of an agency. The address is kept as a keyed hash: a token
    or an opt-out record never shows it, and the same address always hashes alike."""
    digest = _mac(secret, "opt-out-address", address.strip().lower())[:12]
    return OptOut("agency", agency_id, "email", _b64(digest))


def unsubscribe_token(secret: str, who: OptOut) -> str:
    """``<payload>.<mac>``, both base64url: what /berhenti/<token> reads back."""
    payload = "|".join(
        (_AUDIENCE_CODES[who.audience], who.owner, _CHANNEL_CODES[who.channel], who.address)
    )
    mac = _mac(secret, _UNSUBSCRIBE, payload)[:_MAC_BYTES]
    return f"{_b64(payload.encode())}.{_b64(mac)}"


def read_unsubscribe_token(secret: str, token: str) -> OptOut | None:
    """Whom ``token`` stops, or None when it is not one we signed (compared in constant
    time). It never expires: an old message's link must still work."""
    if len(token) > UNSUBSCRIBE_TOKEN_MAX or token.count(".") != 1:
        return None
    encoded, mac_text = token.split(".")
    try:
        payload = _unb64(encoded).decode("ascii")
        mac = _unb64(mac_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not hmac.compare_digest(mac, _mac(secret, _UNSUBSCRIBE, payload)[:_MAC_BYTES]):
        return None
    fields = payload.split("|")
    if len(fields) != 4 or fields[0] not in _AUDIENCES or fields[2] not in _CHANNELS:
        return None
    try:
        return OptOut(_AUDIENCES[fields[0]], fields[1], _CHANNELS[fields[2]], fields[3])
    except ValueError:
        return None
