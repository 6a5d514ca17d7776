"""The unit tier does no I/O and no sleeping, and this guard makes that hold.

For every unit test, opening a network connection (connect, bind, a DNS lookup),
starting a process (subprocess, os.system) or calling time.sleep fails the test, and so
does asking for a temporary directory (tmp_path): a unit test passes data in memory.
Reading the repo's own bundled files (the reference TOML/JSON, templates, the index
list in infra/) is allowed: it is the code's data, not the outside world.

The failure is pytest's own (a BaseException), so a broad ``except Exception`` in the
code under test cannot swallow it, and every refusal is checked again when the test
ends, so one refused in a background thread fails the test too. Time in a unit test is
a parameter (``FixedClock``, ``now=``); I/O belongs in tests/integration.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

import pytest

TEMPORARY_FILE_FIXTURES = frozenset({"tmp_path", "tmp_path_factory", "tmpdir", "tmpdir_factory"})


def temporary_files_asked_for(fixturenames: Iterable[str]) -> list[str]:
    return sorted(TEMPORARY_FILE_FIXTURES.intersection(fixturenames))


class IOGuard:
    """What the running unit test tried and was refused."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def refuse(self, what: str) -> NoReturn:
        self.refused.append(what)
        pytest.fail(f"{what}: the unit tier does no I/O and no sleeping; {_ADVICE}")

    def refuser(self, what: str) -> Any:
        def refused(*args: object, **kwargs: object) -> NoReturn:
            self.refuse(what)

        return refused


_ADVICE = "pass time and data in (FixedClock, now=, texts) or move the test to tests/integration"


@pytest.fixture(autouse=True)
def no_io(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[IOGuard]:
    asked = temporary_files_asked_for(request.fixturenames)
    if asked:
        pytest.fail(f"{request.node.nodeid} asks for {asked}: {_ADVICE}", pytrace=False)
    guard = IOGuard()
    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, guard.refuser(f"socket.{name}"))
    monkeypatch.setattr(socket, "getaddrinfo", guard.refuser("socket.getaddrinfo"))
    monkeypatch.setattr(subprocess.Popen, "__init__", guard.refuser("subprocess.Popen"))
    monkeypatch.setattr(os, "system", guard.refuser("os.system"))
    monkeypatch.setattr(time, "sleep", guard.refuser("time.sleep"))
    yield guard
    if guard.refused:
        pytest.fail(f"{request.node.nodeid} tried {guard.refused}: {_ADVICE}", pytrace=False)
