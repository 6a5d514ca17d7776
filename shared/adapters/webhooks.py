"""Signed webhook delivery to an agency, the Standard Webhooks way (standardwebhooks.com).

One POST per attempt, with the three headers every Standard Webhooks verifier reads:

- ``webhook-id``: the notification id, stable across retries, so the agency can
  drop a duplicate (Pub/Sub delivers at least once);
- ``webhook-timestamp``: Unix seconds of *this* attempt (verifiers refuse anything
  older than five minutes, so a retry is signed afresh);
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``
  keyed with the base64-decoded part of the agency's ``whsec_...`` secret, made by
  the ``standardwebhooks`` package itself so we sign exactly what it verifies. For a
  day after the agency rotates its secret there are two, space-separated (the new
  secret's first): a verifier accepts the message when any of them matches, so the
  agency's receiver keeps working whichever secret it holds.

What happens to the answer is :func:`classify`: the use case decides, from that
alone, whether Pub/Sub should try again. Redirects are not followed: a signed
report is sent only to the URL the agency registered.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from standardwebhooks import Webhook

from shared.ports import SendOutcome, SendResult

if TYPE_CHECKING:
    import httpx

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64 random bytes
USER_AGENT = "Lapor-Webhooks/1"
# Enough of an agency's error page to tell what went wrong, not enough to store a page.
ERROR_SNIPPET_CHARS = 200
RETRYABLE_STATUS = frozenset({408, 429})


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks format ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def encode_body(payload: Any) -> bytes:
    """The exact bytes that are signed and sent: compact JSON, ASCII only, so every
    verifier (whatever its string handling) hashes the same bytes we did."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True, sort_keys=True).encode()


def signature_headers(
    secrets: Sequence[str], message_id: str, body: bytes, at: dt.datetime
) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` sent at ``at`` (an aware datetime),
    with one signature per secret, in the order given."""
    if at.tzinfo is None:
        raise ValueError("the signing time must be an aware datetime")
    if isinstance(secrets, str) or not secrets:
        raise ValueError("sign with a sequence of one or more secrets")
    at_utc = at.astimezone(dt.UTC)  # the package drops any other zone: hand it UTC
    text = body.decode()
    signatures = " ".join(Webhook(secret).sign(message_id, at_utc, text) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at_utc.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def classify(status_code: int) -> SendOutcome:
    """2xx delivered; 5xx, 408 and 429 worth retrying; anything else (other 4xx, an
    unfollowed 3xx) a permanent refusal."""
    if 200 <= status_code < 300:
        return SendOutcome.DELIVERED
    if status_code >= 500 or status_code in RETRYABLE_STATUS:
        return SendOutcome.RETRYABLE
    return SendOutcome.PERMANENT


class HttpxWebhookSender:
    """The WebhookSender port over httpx: one pooled client per instance, made lazily."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(
                        timeout=httpx.Timeout(self._timeout_s),
                        follow_redirects=False,
                        trust_env=False,  # no proxy from the environment sees reports
                    )
        return self._client

    def send(
        self,
        url: str,
        secrets: Sequence[str],
        message_id: str,
        payload: Mapping[str, Any],
        at: dt.datetime,
    ) -> SendResult:
        import httpx

        body = encode_body(payload)
        headers = signature_headers(secrets, message_id, body, at)
        try:
            response = self._http().post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return SendResult(
                SendOutcome.RETRYABLE,
                None,
                f"timeout after {self._timeout_s}s ({type(exc).__name__})",
            )
        except httpx.TransportError as exc:  # connection refused, DNS, reset, TLS ...
            return SendResult(SendOutcome.RETRYABLE, None, f"{type(exc).__name__}: {exc}"[:300])
        outcome = classify(response.status_code)
        error = None
        if outcome is not SendOutcome.DELIVERED:
            snippet = response.text[:ERROR_SNIPPET_CHARS].strip()
            error = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")
        return SendResult(outcome, response.status_code, error)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
