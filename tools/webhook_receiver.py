"""A small agency webhook receiver that verifies Standard Webhooks signatures.

For local demos (``make run``) and tests: it plays the agency's side and checks every
POST the way an agency should (``standardwebhooks.Webhook(secret).verify``).

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.webhook_receiver --port 8090

then seed with ``LAPOR_DEMO_WEBHOOK_URL=http://127.0.0.1:8090/hooks/{agency_id}``.
Each agency's secret is read from the emulator's ``agency_secrets/{id}`` (the id is
the last path segment, else the payload's ``agency_id``) and opened with the stack's
signing keyset ($LAPOR_SIGNING_PRIVATE_KEYSET_FILE). It answers 204 to a valid
signature, 401 otherwise, and prints one JSON line per delivery. Listens on 127.0.0.1
only.

As a library (tests): :class:`WebhookReceiver` with the secrets as a mapping and,
optionally, ``respond`` to script the answers (status code and delay) per delivery.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tools.local_server import ThreadedHttpServer, serve_until_interrupted

HOOKS_PATH = "/hooks/"


@dataclass(frozen=True)
class Received:
    path: str
    agency_id: str | None
    headers: Mapping[str, str]
    body: bytes
    verified: bool
    error: str | None = None
    payload: Any = None
    at: float = field(default_factory=time.monotonic)

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")


# (status code, seconds to wait before answering)
Respond = Callable[[Received], tuple[int, float]]
SecretLookup = Callable[[str], str | None]


def _default_respond(received: Received) -> tuple[int, float]:
    return (204 if received.verified else 401), 0.0


class WebhookReceiver(ThreadedHttpServer):
    """An HTTP server on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(
        self,
        secrets: Mapping[str, str] | SecretLookup,
        respond: Respond | None = None,
        port: int = 0,
    ) -> None:
        self._lookup: SecretLookup = secrets.get if isinstance(secrets, Mapping) else secrets
        self.respond = respond or _default_respond
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.on_receive: Callable[[Received], None] | None = None
        super().__init__(self._handler_class(), port, name="webhook-receiver")

    def hook_url(self, agency_id: str = "{agency_id}") -> str:
        return f"{self.url}{HOOKS_PATH}{agency_id}"

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.snapshot()
            if len(seen) >= count:
                return seen
            time.sleep(0.05)
        return self.snapshot()

    def verify(self, path: str, headers: Mapping[str, str], body: bytes) -> Received:
        payload: Any = None
        with contextlib.suppress(ValueError):
            payload = json.loads(body)
        agency_id = path.rsplit("/", 1)[-1] if path.startswith(HOOKS_PATH) else None
        if not agency_id and isinstance(payload, dict):
            agency_id = payload.get("agency_id")
        lowered = {k.lower(): v for k, v in headers.items()}
        secret = self._lookup(agency_id) if agency_id else None
        if secret is None:
            return Received(path, agency_id, lowered, body, False, "no secret for agency", payload)
        try:
            Webhook(secret).verify(body, dict(lowered))
        except WebhookVerificationError as exc:
            return Received(path, agency_id, lowered, body, False, str(exc), payload)
        return Received(path, agency_id, lowered, body, True, None, payload)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                received = receiver.verify(self.path, dict(self.headers.items()), body)
                with receiver._lock:
                    receiver.received.append(received)
                if receiver.on_receive is not None:
                    receiver.on_receive(received)
                status, delay = receiver.respond(received)
                if delay:
                    time.sleep(delay)
                answer = json.dumps(
                    {"verified": received.verified, "error": received.error}
                ).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def firestore_secrets(project: str) -> SecretLookup:
    """Look up ``agency_secrets/{id}`` in the emulator ($FIRESTORE_EMULATOR_HOST), opened
    with the stack's signing keyset ($LAPOR_SIGNING_PRIVATE_KEYSET_FILE, read at the
    first sealed secret and kept), as the agency would hold it."""
    from google.cloud import firestore

    from shared.adapters.signing_secrets import signing_sealer_from_settings, stored_secrets

    client = firestore.Client(project=project)
    lock = threading.Lock()
    sealer = functools.cache(signing_sealer_from_settings)

    def lookup(agency_id: str) -> str | None:
        with lock:
            snap = client.collection("agency_secrets").document(agency_id).get()
            doc = (snap.to_dict() or {}) if snap.exists else {}
            secret, _, open_secret = stored_secrets(doc, agency_id, sealer)
            return open_secret(secret) if secret else None

    return lookup


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.webhook_receiver")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("LAPOR_RECEIVER_PORT", 8090))
    )
    args = parser.parse_args(argv)
    if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        print(
            "webhook receiver: FIRESTORE_EMULATOR_HOST is not set (secrets are read from the "
            "emulator's agency_secrets collection)",
            file=sys.stderr,
        )
        return 2
    project = (
        os.environ.get("LAPOR_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT") or "lapor-local"
    )
    receiver = WebhookReceiver(firestore_secrets(project), port=args.port)

    def show(received: Received) -> None:
        report = received.payload.get("report") if isinstance(received.payload, dict) else None
        line = {
            "agency_id": received.agency_id,
            "webhook_id": received.webhook_id,
            "verified": received.verified,
            "error": received.error,
            "type": received.payload.get("type") if isinstance(received.payload, dict) else None,
            "tracking_code": report.get("tracking_code") if isinstance(report, dict) else None,
        }
        print(json.dumps(line), flush=True)

    receiver.on_receive = show
    receiver.start()
    print(f"webhook receiver on {receiver.hook_url()}", flush=True)
    return serve_until_interrupted(receiver)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
