"""Staff sign-in under contention, on the Firestore emulator: what must happen once
happens once when two requests race (each transaction re-reads and re-decides)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.cloud import firestore

from shared.config import Settings
from shared.domain.report import Role
from shared.domain.staff import MAX_FAILURES, SessionStage, link_token
from shared.usecases import staff as staff_usecases
from tools.stack import Emulators
from tools.staff import ToolPorts, tool_ports

PASSWORD = "kopi susu gula aren"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def db(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    client = firestore.Client(project=clean_emulators.project)
    yield client
    client.close()


@pytest.fixture
def ports(db: firestore.Client) -> ToolPorts:
    settings = Settings(
        token_secret="test-token-secret-not-for-production",
        staff_hash_time_cost=1,
        staff_hash_memory_kib=8192,
    )
    return tool_ports(db, settings)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once; each one's result, or the exception it raised."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_an_invitation_link_used_twice_at_once_sets_one_password(
    ports: ToolPorts, db: firestore.Client
) -> None:
    invited = staff_usecases.invite(
        staff_usecases.SYSTEM, "rina@uptd.example", "Rina", Role.UNIT_OFFICER,
        "uptd-jalan-cianjur", ports,
    )  # fmt: skip
    (entry,) = [(doc.to_dict() or {})["data"] for doc in db.collection("outbox").stream()]
    assert entry["account_id"] == invited.account_id
    token = link_token(ports.settings.token_secret, entry["link_id"])
    results = race(
        lambda: staff_usecases.accept_invitation(token, "first passphrase here", ports),
        lambda: staff_usecases.accept_invitation(token, "second passphrase here", ports),
    )
    accepted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, staff_usecases.LinkInvalid)]
    assert len(accepted) == 1 and len(refused) == 1, results
    winner = "first passphrase here" if results[0] is accepted[0] else "second passphrase here"
    signed = staff_usecases.sign_in("rina@uptd.example", winner, ports, client_key="t")
    assert signed.session.stage is SessionStage.FULL


def test_one_code_given_to_two_sessions_at_once_signs_in_one(ports: ToolPorts) -> None:
    staff_usecases.create_account(
        "admin@dpupr.example", "Admin", Role.AGENCY_ADMIN, "dpupr-cianjur", PASSWORD, ports,
        totp_secret=SECRET,
    )  # fmt: skip
    first = staff_usecases.sign_in("admin@dpupr.example", PASSWORD, ports, client_key="a")
    second = staff_usecases.sign_in("admin@dpupr.example", PASSWORD, ports, client_key="b")
    code = staff_usecases.current_code(SECRET, ports.clock.now())
    results = race(
        lambda: staff_usecases.verify_second_factor(first.token, code, ports),
        lambda: staff_usecases.verify_second_factor(second.token, code, ports),
    )
    full = [r for r in results if not isinstance(r, Exception)]
    assert len(full) == 1, results
    assert any(isinstance(r, staff_usecases.CodeRefused) for r in results), results


def test_failures_at_once_are_each_counted(ports: ToolPorts) -> None:
    staff_usecases.create_account(
        "budi@uptd.example", "Budi", Role.UNIT_OFFICER, "uptd-jalan-cianjur", PASSWORD, ports
    )

    def wrong(client: str) -> Callable[[], Any]:
        return lambda: staff_usecases.sign_in(
            "budi@uptd.example", "wrong password here", ports, client_key=client
        )

    results = race(*(wrong(f"c{i}") for i in range(MAX_FAILURES)))
    assert all(isinstance(r, staff_usecases.SignInRefused) for r in results), results
    with pytest.raises(staff_usecases.AccountLocked):
        staff_usecases.sign_in("budi@uptd.example", PASSWORD, ports, client_key="c")
