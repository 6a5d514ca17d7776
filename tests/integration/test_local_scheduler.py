"""The local stand-in for Cloud Scheduler calls each schedule's URL at its interval, or
at its cron time with the header Cloud Scheduler sends.

Real threads, a real HTTP server and real time (a few seconds), so not in the unit
tier; which schedules it runs is checked there (tests/unit/test_local_scheduler.py).
"""

from __future__ import annotations

import datetime as dt
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
            scheduled = self.headers.get("X-CloudScheduler-ScheduleTime")
            seen.append(f"POST {self.path}" + (f" {scheduled}" if scheduled else ""))
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
    schedules = [Schedule("sweep", "/", "POST", "*/5 * * * *", interval_s=300)]
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


def test_a_cron_schedule_is_posted_at_its_time_with_the_schedule_time_header(
    receiver: tuple[str, list[str]],
) -> None:
    """A clock that reads 06:59:58.8 in Jakarta at start: 07:00 comes in ~1.2 s."""
    url, seen = receiver
    offset = dt.datetime(2026, 3, 1, 23, 59, 58, 800000, tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
    schedules = [Schedule("escalate", "/", "POST", "0 7 * * *")]
    scheduler = Scheduler.for_stack(
        {"escalate": url}, {}, schedules=schedules, now=lambda: dt.datetime.now(dt.UTC) + offset
    )
    scheduler.start()
    time.sleep(0.6)
    early = list(seen)
    time.sleep(2.0)
    scheduler.stop()

    assert early == []
    assert seen == ["POST / 2026-03-02T00:00:00Z"]  # once: the next is tomorrow at 07:00
