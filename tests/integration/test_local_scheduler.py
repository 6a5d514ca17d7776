"""The local stand-in for Cloud Scheduler calls each schedule's URL at its interval.

Real threads, a real HTTP server and real time (about 1.5 s), so not in the unit tier;
which schedules it runs is checked there (tests/unit/test_local_scheduler.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.topology import Schedule
from tools.stack import Scheduler


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(f"POST {self.path}")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_each_schedule_is_posted_at_its_interval_until_stopped(
    receiver: tuple[str, list[str]],
) -> None:
    url, seen = receiver
    schedules = [Schedule("sweep", "/", "POST", 300, "*/5 * * * *")]
    scheduler = Scheduler.for_stack(
        {"sweep": url}, {"LAPOR_SWEEP_INTERVAL_S": "0.2"}, schedules=schedules
    )
    scheduler.start()
    time.sleep(1.1)
    scheduler.stop()
    calls = len(seen)
    time.sleep(0.5)

    assert 3 <= calls <= 6
    assert set(seen) == {"POST /"}
    assert len(seen) == calls  # nothing after stop()
