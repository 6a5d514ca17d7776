"""SMS to reporters through Infobip's SMS API, over httpx.

Infobip: a gateway that Indonesian businesses already buy SMS from, with routes to
the Indonesian operators for registered sender IDs, a documented REST API with a
documented error model, a message id of our choosing that it keeps unique (so a
redelivered notification is not sent twice), and a base URL per account, so pointing
it at the local sink (tools/sms_sink.py) is configuration, not a patch. Its official
Python client (``infobip-api-python-client``) could be pointed there too, but
importing it loads some 800 generated models: about 3 s and 100 MB more on every
cold start of the notify function, for one POST. So the call is made here, as the API
documents it:

- ``POST {base URL}/sms/3/messages`` with ``Authorization: App <API key>`` and
  ``{"messages": [{"sender", "destinations": [{"to", "messageId"}], "content":
  {"text"}}]}``; ``to`` is international without the plus (``6281234567890``);
- the answer (200) holds one entry per destination with a ``status`` object
  (``groupId``/``groupName``, ``id``/``name``, ``description``): group 1 PENDING means
  the gateway took it, group 5 REJECTED that it refused it (``REJECTED_DESTINATION``,
  52: not a valid number);
- errors (400, 401, 403, 429, 5xx) answer ``{"errorCode", "description", "action",
  "violations", "resources"}``.

``messageId`` is the notification's id (``OutgoingSms.reference``), which Infobip
requires to be unique: a resend of a notification the gateway already took is
refused as ``REJECTED_DUPLICATE_MESSAGE_ID``, which here means it was delivered.
What an answer means is :func:`classify` alone.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.ports import OutgoingSms, SendOutcome, SendResult

if TYPE_CHECKING:
    import httpx

SEND_PATH = "/sms/3/messages"
USER_AGENT = "Lapor-SMS/1"
ERROR_CHARS = 200
RETRYABLE_STATUS = frozenset({408, 429})
# Status groups of Infobip's answers and delivery reports.
PENDING, UNDELIVERABLE, DELIVERED, EXPIRED, REJECTED = 1, 2, 3, 4, 5
# REJECTED statuses that do not mean "never": the gateway's own fault, its per-number
# flood filter (a few an hour) ...
RETRYABLE_REJECTIONS = frozenset({20, 21})  # REJECTED_FLOODING_FILTER, REJECTED_SYSTEM_ERROR
# ... and one that means the gateway already holds this message id: sent before.
DUPLICATE_MESSAGE_ID = 23  # REJECTED_DUPLICATE_MESSAGE_ID


def base_url(configured: str) -> str:
    """The account's base URL as Infobip shows it (``xxxxx.api.infobip.com``), with
    https added when no scheme is given."""
    url = configured.strip().rstrip("/")
    return url if "://" in url else f"https://{url}"


def request_body(message: OutgoingSms, sender: str) -> dict[str, Any]:
    return {
        "messages": [
            {
                "sender": sender,
                "destinations": [{"to": message.to.lstrip("+"), "messageId": message.reference}],
                "content": {"text": message.text},
            }
        ]
    }


def classify(status_code: int, body: Any) -> tuple[SendOutcome, str | None]:
    """What one answer means, and what to log when it is not a delivery."""
    if not 200 <= status_code < 300:
        outcome = (
            SendOutcome.RETRYABLE
            if status_code >= 500 or status_code in RETRYABLE_STATUS
            else SendOutcome.PERMANENT
        )
        return outcome, _http_error(status_code, body)
    status = _first_status(body)
    if status is None:
        # Taken or not, we cannot tell: try again; the message id keeps it single.
        return SendOutcome.RETRYABLE, "answer without a message status"
    group, status_id = status.get("groupId"), status.get("id")
    if group in (PENDING, DELIVERED):
        return SendOutcome.DELIVERED, None
    if group == REJECTED and status_id == DUPLICATE_MESSAGE_ID:
        return SendOutcome.DELIVERED, None
    described = f"{status.get('name')}: {status.get('description')}"[:ERROR_CHARS]
    if group == REJECTED and status_id in RETRYABLE_REJECTIONS:
        return SendOutcome.RETRYABLE, described
    return SendOutcome.PERMANENT, described


def _first_status(body: Any) -> Mapping[str, Any] | None:
    messages = body.get("messages") if isinstance(body, Mapping) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], Mapping):
        return None
    status = messages[0].get("status")
    return status if isinstance(status, Mapping) else None


def _http_error(status_code: int, body: Any) -> str:
    text = f"HTTP {status_code}"
    if isinstance(body, Mapping) and body.get("errorCode"):
        text += f" {body['errorCode']}: {body.get('description') or ''}".rstrip(": ")
        violations = body.get("violations")
        if isinstance(violations, list) and violations and isinstance(violations[0], Mapping):
            first = violations[0]
            text += f" ({first.get('property')}: {first.get('violation')})"
    return text[:ERROR_CHARS]


class InfobipSmsSender:
    """The SmsSender port over httpx: one pooled client per instance, made lazily."""

    def __init__(self, base: str, api_key: str, sender: str, timeout_s: float) -> None:
        self._url = base_url(base) + SEND_PATH if base.strip() else ""
        self._api_key = api_key
        self._sender = sender
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
                        trust_env=False,  # no proxy from the environment sees the texts
                    )
        return self._client

    def send(self, message: OutgoingSms) -> SendResult:
        import httpx

        if not self._url:
            return SendResult(SendOutcome.PERMANENT, None, "no SMS gateway (LAPOR_SMS_BASE_URL)")
        headers = {
            "Authorization": f"App {self._api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        try:
            response = self._http().post(
                self._url, json=request_body(message, self._sender), headers=headers
            )
        except httpx.TimeoutException as exc:
            error = f"timeout after {self._timeout_s}s ({type(exc).__name__})"
            return SendResult(SendOutcome.RETRYABLE, None, error)
        except httpx.TransportError as exc:  # connection refused, DNS, reset, TLS ...
            return SendResult(SendOutcome.RETRYABLE, None, f"{type(exc).__name__}: {exc}"[:300])
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        outcome, problem = classify(response.status_code, body)
        return SendResult(outcome, response.status_code, problem)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
