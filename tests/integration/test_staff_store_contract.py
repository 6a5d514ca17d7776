"""InMemoryStaffStore held to FirestoreStaffStore: the same assertions against both, the
adapter on the real emulator. What the staff use cases rely on: an address has one
account, a refused ``decide`` writes nothing, a change and its outbox and change-log
entries land in one commit, sessions and links read back as written."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.adapters.firestore_staff import FirestoreStaffStore
from shared.domain.report import Role
from shared.domain.staff import (
    LinkPurpose,
    SessionStage,
    SignInThrottle,
    StaffAccount,
    StaffLink,
    StaffSession,
)
from shared.ports import (
    AuditEntry,
    EmailTaken,
    OutboxMessage,
    RateSlot,
    RateSlotTaken,
    StaffNotFound,
    StaffUpdate,
)
from tests.fakes import InMemoryStaffStore
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, 15, 123456, tzinfo=dt.UTC)


@dataclass
class Backend:
    store: Any  # StaffStore
    outbox_ids: Callable[[], set[str]]
    audit_kinds: Callable[[], list[str]]


def _fake() -> Backend:
    store = InMemoryStaffStore()
    return Backend(
        store=store,
        outbox_ids=lambda: set(store.outbox),
        audit_kinds=lambda: sorted(e.kind for e in store.audit.logged.values()),
    )


def _firestore(client: firestore.Client) -> Backend:
    log = FirestoreAuditLog(client)
    return Backend(
        store=FirestoreStaffStore(client),
        outbox_ids=lambda: {doc.id for doc in client.collection("outbox").stream()},
        audit_kinds=lambda: sorted(e.kind for e in log.entries(None, None, 100).entries),
    )


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        yield _fake()
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    yield _firestore(client)
    client.close()


def an_account(account_id: str = "acc1", email: str = "budi@uptd.example") -> StaffAccount:
    return StaffAccount(
        account_id=account_id, email=email, name="Budi", agency_id="uptd-jalan-cianjur",
        role=Role.UNIT_OFFICER, created_by="system", created_at=NOW,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", totp_secret="JBSWY3DP",
        totp_last_step=5, password_changed_at=NOW,
    )  # fmt: skip


def a_session(session_id: str = "s" * 64, **changes: Any) -> StaffSession:
    session = StaffSession(
        session_id=session_id, account_id="acc1", epoch=0, stage=SessionStage.FULL,
        csrf_token="csrf", created_at=NOW, last_seen_at=NOW, client="Firefox",
    )  # fmt: skip
    return dataclasses.replace(session, **changes)


def a_link(key: str = "k" * 64) -> StaffLink:
    return StaffLink(key, LinkPurpose.INVITATION, "acc1", NOW, NOW + dt.timedelta(days=7))


def an_entry(kind: str = "staff.invited") -> AuditEntry:
    return AuditEntry(NOW, "uptd-jalan-cianjur", "system", "Lapor", kind, "acc1")


def a_message(message_id: str = "staff.0001") -> OutboxMessage:
    return OutboxMessage.cloud_event(
        message_id, "agency-notifications", {"kind": "staff.invitation"},
        type="t", source="s", subject="staff/acc1", at=NOW,
    )  # fmt: skip


# --- accounts ---


def test_an_account_reads_back_as_created_by_id_and_by_email(backend: Backend) -> None:
    account = an_account()
    backend.store.create_account(account, StaffUpdate())
    assert backend.store.account("acc1") == account
    assert backend.store.account_by_email("budi@uptd.example") == account
    assert backend.store.account("nobody") is None
    assert backend.store.account_by_email("nobody@uptd.example") is None


def test_an_account_its_link_its_mail_and_its_record_land_in_one_commit(backend: Backend) -> None:
    update = StaffUpdate(links=(a_link(),), outbox=(a_message(),), audit=(an_entry(),))
    backend.store.create_account(an_account(), update)
    assert backend.store.link("k" * 64) == a_link()
    assert backend.outbox_ids() == {"staff.0001"}
    assert backend.audit_kinds() == ["staff.invited"]


def test_a_taken_address_refuses_the_account_and_writes_nothing_of_it(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())
    update = StaffUpdate(links=(a_link("other" * 8),), outbox=(a_message(),), audit=(an_entry(),))
    with pytest.raises(EmailTaken):
        backend.store.create_account(an_account("acc2"), update)
    assert backend.store.account("acc2") is None
    assert backend.store.link("other" * 8) is None
    assert backend.outbox_ids() == set() and backend.audit_kinds() == []


def test_accounts_in_lists_those_agencies_by_name(backend: Backend) -> None:
    backend.store.create_account(
        dataclasses.replace(an_account("b"), name="Zaenal", email="z@x.example"), StaffUpdate()
    )
    backend.store.create_account(
        dataclasses.replace(an_account("a"), name="ani", email="a@x.example"), StaffUpdate()
    )
    backend.store.create_account(
        dataclasses.replace(an_account("c"), agency_id="dinkes-cianjur", email="c@x.example"),
        StaffUpdate(),
    )
    names = [a.name for a in backend.store.accounts_in(["uptd-jalan-cianjur", "dpupr-cianjur"])]
    assert names == ["ani", "Zaenal"]
    assert backend.store.accounts_in([]) == []


def test_an_update_commits_what_decide_makes(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())

    def decide(account: StaffAccount) -> StaffUpdate:
        return StaffUpdate(
            account=dataclasses.replace(account, active=False).ended_sessions(),
            audit=(an_entry("staff.deactivated"),),
        )

    update = backend.store.update_account("acc1", decide)
    assert update.account is not None and update.account.session_epoch == 1
    stored = backend.store.account("acc1")
    assert stored is not None and not stored.active and stored.session_epoch == 1
    assert backend.audit_kinds() == ["staff.deactivated"]


def test_a_refused_decide_writes_nothing(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())

    def decide(account: StaffAccount) -> StaffUpdate:
        raise PermissionError("no")

    with pytest.raises(PermissionError):
        backend.store.update_account("acc1", decide)
    assert backend.store.account("acc1") == an_account()
    with pytest.raises(StaffNotFound):
        backend.store.update_account("nobody", lambda a: StaffUpdate())


# --- sessions ---


def test_a_session_reads_back_and_is_kept_fresh_by_a_touch(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())
    backend.store.update_account("acc1", lambda a: StaffUpdate(sessions=(a_session(),)))
    assert backend.store.session("s" * 64) == a_session()
    later = NOW + dt.timedelta(minutes=6)
    backend.store.touch_session("s" * 64, later)
    assert backend.store.session("s" * 64) == a_session(last_seen_at=later)
    backend.store.touch_session("gone", later)  # signed out meanwhile: nothing happens
    assert backend.store.session("gone") is None


def test_update_session_sees_the_session_and_its_account(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())
    pending = a_session(stage=SessionStage.ENROL, pending_totp_secret="ABCDEFGH")
    backend.store.update_account("acc1", lambda a: StaffUpdate(sessions=(pending,)))

    def decide(session: StaffSession, account: StaffAccount) -> StaffUpdate:
        assert account.account_id == session.account_id == "acc1"
        return StaffUpdate(
            account=dataclasses.replace(account, totp_secret=session.pending_totp_secret),
            sessions=(dataclasses.replace(session, stage=SessionStage.FULL,
                                          pending_totp_secret=None),),
        )  # fmt: skip

    backend.store.update_session("s" * 64, decide)
    assert backend.store.session("s" * 64) == a_session()
    stored = backend.store.account("acc1")
    assert stored is not None and stored.totp_secret == "ABCDEFGH"
    with pytest.raises(StaffNotFound):
        backend.store.update_session("nope", decide)


def test_sessions_of_an_account_newest_first_and_ended_at_once(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())
    older = a_session("a" * 64)
    newer = a_session("b" * 64, created_at=NOW + dt.timedelta(minutes=1))
    other = a_session("c" * 64, account_id="acc2")
    backend.store.update_account("acc1", lambda a: StaffUpdate(sessions=(older, newer, other)))
    assert backend.store.sessions_of("acc1") == [newer, older]
    backend.store.end_sessions(["a" * 64, "b" * 64, "never-was"])
    assert backend.store.sessions_of("acc1") == []
    assert backend.store.session("c" * 64) == other
    backend.store.end_sessions([])


# --- links ---


def test_a_link_is_used_in_the_commit_that_uses_it(backend: Backend) -> None:
    backend.store.create_account(dataclasses.replace(an_account(), password_hash=None),
                                 StaffUpdate(links=(a_link(),)))  # fmt: skip
    used_at = NOW + dt.timedelta(hours=1)

    def decide(link: StaffLink, account: StaffAccount) -> StaffUpdate:
        if link.used_at is not None:
            raise PermissionError("used")
        return StaffUpdate(
            account=dataclasses.replace(account, password_hash="$argon2id$new"),
            links=(dataclasses.replace(link, used_at=used_at),),
        )

    backend.store.use_link("k" * 64, decide)
    link = backend.store.link("k" * 64)
    assert link is not None and link.used_at == used_at
    stored = backend.store.account("acc1")
    assert stored is not None and stored.password_hash == "$argon2id$new"
    with pytest.raises(PermissionError):
        backend.store.use_link("k" * 64, decide)
    with pytest.raises(StaffNotFound):
        backend.store.use_link("unknown", decide)


# --- sign-in failures and slots ---


def test_failures_are_counted_a_lock_kept_and_a_clean_slate_forgotten(
    backend: Backend,
) -> None:
    assert backend.store.throttle("t1") == SignInThrottle("t1")
    assert [backend.store.count_failure("t1", NOW) for _ in range(3)] == [1, 2, 3]
    until = NOW + dt.timedelta(minutes=15)
    backend.store.lock("t1", until)
    assert backend.store.throttle("t1") == SignInThrottle("t1", 3, until)
    assert backend.store.count_failure("t1", NOW) == 4
    assert backend.store.throttle("t1").locked_until == until
    assert backend.store.count_failure("t2", NOW) == 1  # another address counts apart


def test_a_throttle_reset_lands_with_a_new_session(backend: Backend) -> None:
    backend.store.create_account(an_account(), StaffUpdate())
    for _ in range(3):
        backend.store.count_failure("t1", NOW)
    backend.store.update_account(
        "acc1", lambda a: StaffUpdate(sessions=(a_session(),), throttle=SignInThrottle("t1"))
    )
    assert backend.store.throttle("t1") == SignInThrottle("t1")
    assert backend.store.session("s" * 64) is not None


def test_a_rate_slot_is_claimed_once(backend: Backend) -> None:
    slot = RateSlot("staff-sign-in:client:1", 3, NOW + dt.timedelta(minutes=15))
    backend.store.claim_rate_slot(slot)
    with pytest.raises(RateSlotTaken):
        backend.store.claim_rate_slot(slot)
    backend.store.claim_rate_slot(dataclasses.replace(slot, slot=4))
    assert backend.store.taken_rate_slots("staff-sign-in:client:1") == {3, 4}
    assert backend.store.taken_rate_slots("staff-sign-in:client:2") == frozenset()
