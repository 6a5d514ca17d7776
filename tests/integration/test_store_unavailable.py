"""Firestore stopped under the adapters: every call gives up within a few seconds, as
StoreUnavailable, and works again once Firestore is back.

These tests stop a Firestore emulator of their own (:class:`OwnFirestore`), never the
session's, and start it again from an export of its data.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore

from shared import wiring
from shared.adapters import (
    firestore as firestore_adapters,
)
from shared.adapters import (
    firestore_agency_admin,
    firestore_anchor,
    firestore_audit,
    firestore_casework,
    firestore_reference,
    firestore_staff,
)
from shared.adapters.firestore_outage import bound_calls, is_outage
from shared.ports import StoreUnavailable
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher
from tools.stack import (
    FIRESTORE_MAIN,
    LOCALHOST,
    ManagedProcess,
    find_prerequisites,
    free_port,
    latest_export,
    wait_until_answering,
)

# The settings' bound on one call in these tests (10 s deployed); the assertion allows
# for the rest of a request around the call that fails.
TIMEOUT_S = 4.0
GIVES_UP_WITHIN_S = TIMEOUT_S + 2


class OwnFirestore:
    """A Firestore emulator (a JVM) on its own port, stopped by its PID, restarted on the
    same port from an export taken just before it stopped."""

    def __init__(self, data_dir: Path, project: str) -> None:
        self.data_dir = data_dir
        self.project = project
        self.port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def start(self, import_data: Path | None = None) -> OwnFirestore:
        prerequisites = find_prerequisites()
        argv = [
            prerequisites.java,
            "-Duser.language=en",
            "-cp",
            str(prerequisites.firestore_jar),
            FIRESTORE_MAIN,
            "start",
            f"--host={LOCALHOST}",
            f"--port={self.port}",
            f"--project_id={self.project}",
        ]
        if import_data is not None:
            argv.append(f"--import-data={import_data}")
        self.process = ManagedProcess("own-firestore", argv, self.data_dir / "firestore.log")
        wait_until_answering(f"http://{self.host}/", self.process, 60)
        return self

    def stop_keeping_data(self) -> Path:
        """Export everything, stop the JVM, and return the export to start from."""
        exports = self.data_dir / "export"
        exports.mkdir(parents=True, exist_ok=True)
        request = urllib.request.Request(
            f"http://{self.host}/emulator/v1/projects/{self.project}:export",
            data=json.dumps(
                {
                    "database": f"projects/{self.project}/databases/(default)",
                    "export_directory": str(exports),
                }
            ).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200
        metadata = latest_export(exports)
        assert metadata is not None
        self.stop()
        return metadata

    def freeze(self) -> None:
        """Stop the JVM where it stands (SIGSTOP): it keeps its port and its data, and
        answers nothing until :meth:`thaw`."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()  # a frozen JVM acts on SIGTERM only once it runs again
            self.process.stop()
            self.process = None


@pytest.fixture
def own_firestore(
    emulators: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OwnFirestore]:
    """A Firestore emulator this test may stop, with every client pointed at it (the
    session's Pub/Sub and Cloud Storage stay)."""
    for name, value in emulators.env().items():  # the keysets, Pub/Sub, Cloud Storage
        monkeypatch.setenv(name, value)
    own = OwnFirestore(tmp_path, emulators.project).start()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", own.host)
    monkeypatch.setenv("LAPOR_FIRESTORE_TIMEOUT_S", str(TIMEOUT_S))
    warm_up(own)
    wiring.reset()
    try:
        yield own
    finally:
        wiring.reset()
        own.stop()


def warm_up(own: OwnFirestore) -> None:
    """A fresh emulator's first commit can take seconds (the JVM warming up): take it
    here, outside the bound the test measures."""
    assert os.environ["FIRESTORE_EMULATOR_HOST"] == own.host
    client = firestore.Client(project=own.project)
    client.collection("warm_up").document("x").set({"at": 1})
    client.collection("warm_up").document("x").delete()
    client.close()


def until_answering(call: Callable[[], Any], within_s: float = 90.0) -> float:
    """Call until it succeeds; the seconds it took (gRPC waits out its reconnect backoff
    before it tries a restarted server again)."""
    started = time.monotonic()
    while True:
        try:
            call()
            return time.monotonic() - started
        except StoreUnavailable:
            if time.monotonic() - started > within_s:
                raise
            time.sleep(0.5)


def timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as failed:  # the test looks at which
        return failed, time.monotonic() - started
    return None, time.monotonic() - started


def test_every_firestore_adapter_class_translates_outages() -> None:
    modules = (
        firestore_adapters,
        firestore_agency_admin,
        firestore_anchor,
        firestore_audit,
        firestore_casework,
        firestore_reference,
        firestore_staff,
    )
    adapters = [
        cls
        for module in modules
        for name, cls in vars(module).items()
        if inspect.isclass(cls)
        and name.startswith("Firestore")
        and cls.__module__ == module.__name__
    ]
    assert len(adapters) >= 10
    assert [cls.__name__ for cls in adapters if not getattr(cls, "translates_outages", False)] == []


def test_the_library_alone_would_retry_for_a_minute_and_more(
    emulators: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why bound_calls exists: the library's defaults retry an unreachable Firestore for
    60 s (a commit) to 300 s (a read); bounded, every retrying call stops at the bound."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulators.firestore_host)
    client = firestore.Client(project=emulators.project)  # no call is made
    wrapped = client._firestore_api._transport._wrapped_methods.values()
    retries = [method._retry for method in wrapped if method._retry is not None]
    assert len(retries) >= 8 and min(retry.timeout for retry in retries) >= 60
    bound_calls(client, TIMEOUT_S)  # on a channel of its own (quick reconnects)
    wrapped = client._firestore_api._transport._wrapped_methods.values()
    retries = [method._retry for method in wrapped if method._retry is not None]
    assert {retry.timeout for retry in retries} == {TIMEOUT_S}
    client.close()


def test_a_stopped_firestore_fails_each_adapter_call_within_seconds_then_recovers(
    own_firestore: OwnFirestore,
) -> None:
    from shared.config import Settings
    from shared.ports import SystemClock
    from shared.usecases.submit import submit_report

    store = wiring.report_store()
    submitted = submit_report(
        a_draft(),
        an_identity(name="Siti Rahma"),
        client_id="client-1",
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=SystemClock(),
        settings=Settings.from_env(),
    )
    report_id = submitted.report_id
    export = own_firestore.stop_keeping_data()

    def submit_another() -> None:
        submit_report(
            a_draft(),
            an_identity(name="Budi"),
            client_id="client-2",
            idempotency_key=None,
            store=store,
            publisher=InMemoryPublisher(),
            clock=SystemClock(),
            settings=Settings.from_env(),
        )

    calls: dict[str, Callable[[], Any]] = {
        "a read": lambda: store.get(report_id),
        "a query": lambda: store.timeline(report_id),
        "a commit": submit_another,
        "a transaction": lambda: store.refresh(report_id, lambda report: report),
        "a key lookup": lambda: wiring.agency_store().api_key("0" * 64),
        "the audit log": lambda: wiring.audit_log().entries(None, None, 10),
    }
    for what, call in calls.items():
        failed, took = timed(call)
        assert isinstance(failed, StoreUnavailable), (what, repr(failed))
        assert is_outage(failed.__cause__ or failed), what
        assert took < GIVES_UP_WITHIN_S, (what, took)

    own_firestore.start(import_data=export)
    until_answering(lambda: store.get(report_id))
    report = store.get(report_id)
    assert report is not None and report.id == report_id
    assert os.environ["FIRESTORE_EMULATOR_HOST"] == own_firestore.host
