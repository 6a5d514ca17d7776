"""Keyed hashes: reporter tokens and pseudonymous client keys.

A reporter token is an HMAC of the report id under the deployment's secret, so it
is never stored, a replayed submission can hand back the same token, and checking
one costs no read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _mac(secret: str, purpose: str, value: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def reporter_token(secret: str, report_id: str) -> str:
    return base64.urlsafe_b64encode(_mac(secret, "reporter-token", report_id)[:24]).decode()


def is_reporter_token(secret: str, report_id: str, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(reporter_token(secret, report_id), token)


def pseudonym(secret: str, purpose: str, value: str) -> str:
    """A stable key for ``value`` (a client address, an idempotency key) that does not reveal it."""
    return _mac(secret, purpose, value).hex()[:40]
