"""Helpers the functional tests share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import functions_framework
from google.cloud import firestore
from werkzeug.serving import make_server

from tools.local_server import LOCALHOST

T = TypeVar("T")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]

# Every collection the submit path writes (events are counted across reports).
WRITTEN = ("reports", "identities", "outbox", "idempotency", "tracking_codes", "rate_limits")


def counts(db: firestore.Client) -> dict[str, int]:
    """How many documents each written collection holds: a refusal must change none."""
    found = {name: len(list(db.collection(name).stream())) for name in WRITTEN}
    found["events"] = len(list(db.collection_group("events").stream()))
    return found


@contextmanager
def served(target: str, wrap: Callable[[WSGIApp], WSGIApp] | None = None) -> Iterator[str]:
    """Serve the function ``target`` over real HTTP on 127.0.0.1 from a thread of this
    process, so the Pub/Sub emulator can push to it while it shares this process's
    wiring (a test's clock or publisher). ``wrap`` puts a WSGI layer in front of it (a
    crash after the function's commit, say). Yields the base URL."""
    app: Any = functions_framework.create_app(target=target, source=f"functions/{target}/main.py")
    server = make_server(LOCALHOST, 0, wrap(app) if wrap else app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"served-{target}", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCALHOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def wait_for(what: Callable[[], T], ready: Callable[[T], bool], timeout_s: float = 60) -> T:
    """``what()`` once ``ready`` says so, or its last value when ``timeout_s`` ran out."""
    deadline = time.monotonic() + timeout_s
    found = what()
    while not ready(found) and time.monotonic() < deadline:
        time.sleep(0.2)
        found = what()
    return found
