"""The agency-admin store's fake held to its Firestore adapter (the same assertions, the
adapter on the real emulator): channels set leave the rest of the agency alone and read
back as notify reads them; a rotation keeps the replaced secret for its day; keys come
back newest first per agency and revoked; each change lands with its change-log entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore import FirestoreNotificationStore
from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore
from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.domain.report import Role
from shared.ports import (
    AgencyChannel,
    AgencyNotFound,
    ApiKeyRecord,
    AuditEntry,
    ChannelChoice,
)
from tests.fakes import InMemoryAgencyAdminStore
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, 15, 123000, tzinfo=dt.UTC)
DPUPR, UPTD, DINKES = "dpupr-cianjur", "uptd-jalan-cianjur", "dinkes-cianjur"
OLD_SECRET = "whsec_b2xkLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc="


def entry(kind: str, target: str, agency: str = DPUPR) -> AuditEntry:
    return AuditEntry(NOW, agency, "staff:a1", "Admin DPUPR", kind, target, {"k": "v"})


@dataclass
class Backend:
    store: Any  # AgencyAdminStore
    entries: Callable[[], list[AuditEntry]]
    # Whether the agency document still has its other fields (its name).
    agency_kept: Callable[[str], bool]


def _fake() -> Backend:
    store = InMemoryAgencyAdminStore()
    for agency in (DPUPR, UPTD, DINKES):
        store.channels[agency] = AgencyChannel(agency, None, ("lama@contoh.id",), OLD_SECRET)
    return Backend(
        store,
        lambda: list(store.audit.entries(None, None, 100).entries),
        lambda agency: agency in store.channels,
    )


def seed_agencies(client: firestore.Client) -> None:
    for agency in (DPUPR, UPTD, DINKES):
        # The documents tools/seed.py writes.
        client.collection("agencies").document(agency).set(
            {
                "id": agency,
                "name": agency.upper(),
                "notification": {"webhook_url": None, "email": "lama@contoh.id", "digest": None},
            }
        )
        client.collection("agency_secrets").document(agency).set(
            {"schema_version": 1, "webhook_secret": OLD_SECRET}
        )


def _firestore(client: firestore.Client) -> Backend:
    seed_agencies(client)
    log = FirestoreAuditLog(client)

    def agency_kept(agency: str) -> bool:
        doc = client.collection("agencies").document(agency).get().to_dict() or {}
        return doc.get("name") == agency.upper()

    return Backend(
        FirestoreAgencyAdminStore(client),
        lambda: list(log.entries(None, None, 100).entries),
        agency_kept,
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


def test_channels_set_read_back_as_notify_reads_them_with_their_entry(backend: Backend) -> None:
    choice = ChannelChoice("https://dpupr.example/hook", ("humas@dpupr.example",), digest=True)
    backend.store.save_channels(DPUPR, choice, entry("channels.updated", DPUPR))
    channel = backend.store.agency_channel(DPUPR)
    assert channel == AgencyChannel(
        DPUPR, "https://dpupr.example/hook", ("humas@dpupr.example",), OLD_SECRET, digest=True
    )
    assert backend.agency_kept(DPUPR)
    assert [e.kind for e in backend.entries()] == ["channels.updated"]
    backend.store.save_channels(DPUPR, ChannelChoice(None, ()), entry("channels.updated", DPUPR))
    cleared = backend.store.agency_channel(DPUPR)
    assert (cleared.webhook_url, cleared.emails, cleared.digest) == (None, (), False)


def test_an_agency_stored_with_one_email_reads_it_as_a_list_and_saves_a_list(
    backend: Backend,
) -> None:
    """seed_agencies writes the single ``email`` agencies were seeded with before they
    had several: it reads as a list of one, and a save writes the list."""
    assert backend.store.agency_channel(UPTD).emails == ("lama@contoh.id",)
    several = ("lama@contoh.id", "kepala@uptd.example", "admin@uptd.example")
    backend.store.save_channels(UPTD, ChannelChoice(None, several), entry("channels.updated", UPTD))
    assert backend.store.agency_channel(UPTD).emails == several


def test_channels_of_an_unknown_agency_are_refused_and_nothing_is_recorded(
    backend: Backend,
) -> None:
    with pytest.raises(AgencyNotFound):
        backend.store.save_channels(
            "no-such-agency", ChannelChoice(None, ()), entry("channels.updated", "x")
        )
    assert backend.store.agency_channel("no-such-agency") is None
    assert backend.entries() == []


def test_a_rotation_keeps_the_replaced_secret_for_its_day(backend: Backend) -> None:
    until = NOW + dt.timedelta(hours=24)
    backend.store.rotate_secret(DPUPR, "whsec_bmV3", until, entry("webhook.secret_rotated", DPUPR))
    channel = backend.store.agency_channel(DPUPR)
    assert channel.previous_until == until
    assert channel.signing_secrets(NOW) == ("whsec_bmV3", OLD_SECRET)
    assert channel.signing_secrets(until) == ("whsec_bmV3",)
    # A second rotation replaces the (now previous) secret: only the last one rolls over.
    backend.store.rotate_secret(
        DPUPR, "whsec_bmV3ZXI=", until, entry("webhook.secret_rotated", DPUPR)
    )
    again = backend.store.agency_channel(DPUPR)
    assert again.signing_secrets(NOW) == ("whsec_bmV3ZXI=", "whsec_bmV3")
    assert [e.kind for e in backend.entries()] == ["webhook.secret_rotated"] * 2


def test_notify_reads_what_the_console_wrote(clean_emulators: Emulators) -> None:
    """The adapter notify uses sees the rotated secrets and the channels as set."""
    client = firestore.Client(project=clean_emulators.project)
    seed_agencies(client)
    store = FirestoreAgencyAdminStore(client)
    until = NOW + dt.timedelta(hours=24)
    store.save_channels(
        DPUPR, ChannelChoice("https://d.example/h", ()), entry("channels.updated", DPUPR)
    )
    store.rotate_secret(DPUPR, "whsec_bmV3", until, entry("webhook.secret_rotated", DPUPR))
    seen = FirestoreNotificationStore(client).agency_channel(DPUPR)
    assert seen is not None
    assert (seen.webhook_url, seen.emails, seen.previous_until) == (
        "https://d.example/h",
        (),
        until,
    )
    assert seen.signing_secrets(NOW) == ("whsec_bmV3", OLD_SECRET)
    client.close()


def _key(n: int, agency: str, minutes: int) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_hash=f"{n:064x}",
        agency_id=agency,
        role=Role.UNIT_OFFICER,
        label=f"kunci {n}",
        created_at=NOW + dt.timedelta(minutes=minutes),
        created_by="Admin DPUPR",
    )


def test_keys_come_back_per_agency_newest_first_and_revoked(backend: Backend) -> None:
    keys = [_key(1, DPUPR, 0), _key(2, UPTD, 5), _key(3, DINKES, 9), _key(4, DPUPR, 2)]
    for record in keys:
        backend.store.create_api_key(record, entry("api_key.issued", record.key_hash))
    assert backend.store.api_key(keys[0].key_hash) == keys[0]
    assert backend.store.api_key("f" * 64) is None
    listed = backend.store.api_keys([DPUPR, UPTD])
    assert [k.key_hash for k in listed] == [keys[1].key_hash, keys[3].key_hash, keys[0].key_hash]
    assert len(backend.store.api_keys(None)) == 4
    assert backend.store.api_keys(["nobody"]) == []

    at = NOW + dt.timedelta(hours=1)
    backend.store.revoke_api_key(keys[0].key_hash, at, entry("api_key.revoked", keys[0].key_hash))
    revoked = backend.store.api_key(keys[0].key_hash)
    assert revoked is not None and revoked.revoked and revoked.revoked_at == at
    assert [e.kind for e in backend.entries()].count("api_key.revoked") == 1


def test_a_key_is_created_once(backend: Backend) -> None:
    from google.api_core.exceptions import AlreadyExists

    record = _key(7, DPUPR, 0)
    backend.store.create_api_key(record, entry("api_key.issued", record.key_hash))
    with pytest.raises(AlreadyExists):
        backend.store.create_api_key(record, entry("api_key.issued", record.key_hash))
    assert len(backend.entries()) == 1  # the refused commit left no entry


def test_the_command_line_issues_and_revokes_through_the_same_use_case(
    clean_emulators: Emulators,
) -> None:
    from shared.usecases.agency import authenticate
    from tools.api_keys import issue_key, revoke_key

    client = firestore.Client(project=clean_emulators.project)
    store = FirestoreAgencyAdminStore(client)
    key = issue_key(client, UPTD, "unit_officer", "aplikasi UPTD")
    assert authenticate(f"Bearer {key}", store).agency_id == UPTD
    with pytest.raises(ValueError):
        issue_key(client, "no-such-agency", "unit_officer", "x")
    with pytest.raises(ValueError):
        issue_key(client, UPTD, "reporter", "x")
    assert revoke_key(client, key) and not revoke_key(client, "lpr_never-issued")
    log = FirestoreAuditLog(client).entries(UPTD, None, 10).entries
    assert [(e.kind, e.actor_id) for e in log] == [
        ("api_key.revoked", "system"),
        ("api_key.issued", "system"),
    ]
    client.close()


def test_the_running_reference_sees_a_channel_change_at_once(seeded_emulators: Emulators) -> None:
    """The hourly digest reads the digest choice from the running reference: a change of
    channels moves its version, so an instance reloads it."""
    from shared.adapters.firestore_reference import FirestoreReferenceSource
    from shared.reference import load_reference

    client = firestore.Client(project=seeded_emulators.project)
    source = FirestoreReferenceSource(client, load_reference(), refresh_s=0)
    before = source.current().agency(DPUPR).notification
    choice = ChannelChoice(None, ("humas@dpupr.example",), digest=not before.digest)
    FirestoreAgencyAdminStore(client).save_channels(DPUPR, choice, entry("channels.updated", DPUPR))
    after = source.current().agency(DPUPR).notification
    assert (after.emails, after.digest) == (
        ("humas@dpupr.example",),
        None if before.digest else "hourly",
    )
    client.close()
