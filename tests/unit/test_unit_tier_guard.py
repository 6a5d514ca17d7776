"""The guard in tests/unit/conftest.py refuses I/O and sleeping in the unit tier.

Each test below does the forbidden thing for real: without the guard the call would
succeed (or fail with an OSError), never with pytest's failure, so these tests fail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tests.unit.conftest import IOGuard, temporary_files_asked_for

Refused = pytest.fail.Exception

VIOLATIONS: dict[str, Callable[[], object]] = {
    "socket.connect": lambda: socket.socket().connect(("127.0.0.1", 9)),
    "socket.bind": lambda: socket.socket().bind(("127.0.0.1", 0)),
    "socket.getaddrinfo": lambda: socket.create_connection(("localhost", 9), timeout=1),
    "subprocess.Popen": lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
    "os.system": lambda: os.system("true"),
    "time.sleep": lambda: time.sleep(0),
}


@pytest.mark.parametrize("what", list(VIOLATIONS))
def test_the_guard_fails_a_unit_test_that_does_io_or_sleeps(what: str, no_io: IOGuard) -> None:
    with pytest.raises(Refused, match="the unit tier does no I/O"):
        VIOLATIONS[what]()
    assert no_io.refused == [what]
    no_io.refused.clear()  # refused as it should be: this test passes


def test_a_broad_except_in_the_code_under_test_cannot_swallow_the_refusal(
    no_io: IOGuard,
) -> None:
    def best_effort() -> None:
        with contextlib.suppress(Exception):  # what a "best effort" publish might do
            time.sleep(0)

    with pytest.raises(Refused):
        best_effort()
    no_io.refused.clear()


def test_a_refusal_swallowed_in_another_thread_is_still_recorded(no_io: IOGuard) -> None:
    def quietly() -> None:
        with contextlib.suppress(BaseException):  # the worst a thread could do
            time.sleep(0)

    thread = threading.Thread(target=quietly)
    thread.start()
    thread.join()
    assert no_io.refused == ["time.sleep"]  # the fixture fails the test when it ends
    no_io.refused.clear()


def test_a_unit_test_asking_for_a_temporary_directory_is_refused() -> None:
    assert temporary_files_asked_for(["no_io", "tmp_path", "monkeypatch"]) == ["tmp_path"]
    assert temporary_files_asked_for(["no_io", "monkeypatch", "request"]) == []
