"""Agencies' webhook signing secrets on the Firestore emulator: sealed at rest by every
writer (the seed, the console's rotation, a new agency), opened only with the private
signing keyset and only under their own agency's document, and a document written
before sealing still read, then sealed by the next rotation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.crypto import sealer_from_keysets
from shared.adapters.firestore import FirestoreNotificationStore
from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore
from shared.ports import AuditEntry, SealedDataUnreadable, Sealer
from tools import seal_signing_secrets, signing_keys
from tools.seed import seed_reference
from tools.stack import Emulators

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
DPUPR, DINKES = "dpupr-cianjur", "dinkes-cianjur"
OLD_SECRET = "whsec_b2xkLXNlY3JldC1mcm9tLWJlZm9yZS1zZWFsaW5n"


def entry(target: str) -> AuditEntry:
    return AuditEntry(NOW, target, "staff:a1", "Admin", "webhook.secret_rotated", target, {})


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


@pytest.fixture
def public_only(emulators: Emulators) -> Sealer:
    """What a function given only the public signing keyset holds (none is, deployed,
    but the seed and a console without the private half would be)."""
    return sealer_from_keysets(emulators.signing_public_keyset_path.read_text(encoding="utf-8"))


def raw(client: firestore.Client, agency_id: str) -> dict[str, Any]:
    return client.collection("agency_secrets").document(agency_id).get().to_dict() or {}


def signing(store: FirestoreNotificationStore, agency_id: str, at: dt.datetime) -> tuple[str, ...]:
    """What a webhook to the agency sent at ``at`` is signed with, as notify reads it."""
    channel = store.agency_channel(agency_id)
    assert channel is not None
    return channel.signing_secrets(at)


def dumped(doc: dict[str, Any]) -> str:
    return json.dumps(doc, default=lambda v: v.hex() if isinstance(v, bytes) else str(v))


def test_seeded_secrets_are_sealed_and_only_the_private_keyset_opens_them(
    client: firestore.Client, public_only: Sealer
) -> None:
    seed_reference(client)

    doc = raw(client, DPUPR)
    assert "webhook_secret" not in doc and "whsec_" not in dumped(doc)
    assert b"whsec_" not in doc["sealed_secret"]
    [secret] = signing(FirestoreNotificationStore(client), DPUPR, NOW)
    assert secret.startswith("whsec_")

    # A function without the private keyset reads the channel, and cannot sign with it.
    channel = FirestoreNotificationStore(client, lambda: public_only).agency_channel(DPUPR)
    assert channel is not None and channel.secret
    with pytest.raises(SealedDataUnreadable):
        channel.signing_secrets(NOW)


def test_a_sealed_secret_copied_to_another_agency_does_not_open(
    client: firestore.Client,
) -> None:
    seed_reference(client)
    stolen = raw(client, DPUPR)["sealed_secret"]
    client.collection("agency_secrets").document(DINKES).update({"sealed_secret": stolen})

    channel = FirestoreNotificationStore(client).agency_channel(DINKES)
    assert channel is not None
    with pytest.raises(SealedDataUnreadable):
        channel.signing_secrets(NOW)


def test_a_clear_secret_from_before_sealing_still_signs_and_a_rotation_seals_it(
    client: firestore.Client,
) -> None:
    seed_reference(client)
    client.collection("agency_secrets").document(DPUPR).set(
        {"schema_version": 1, "webhook_secret": OLD_SECRET}
    )
    notify = FirestoreNotificationStore(client)
    assert signing(notify, DPUPR, NOW) == (OLD_SECRET,)

    until = NOW + dt.timedelta(hours=24)
    FirestoreAgencyAdminStore(client).rotate_secret(DPUPR, "whsec_bmV3", until, entry(DPUPR))

    doc = raw(client, DPUPR)
    assert not {"webhook_secret", "previous_secret"} & set(doc)
    assert "whsec_" not in dumped(doc)
    assert signing(notify, DPUPR, NOW) == ("whsec_bmV3", OLD_SECRET)
    assert signing(notify, DPUPR, until) == ("whsec_bmV3",)


def test_a_rotation_needs_only_the_public_keyset(
    client: firestore.Client, public_only: Sealer
) -> None:
    seed_reference(client)
    [before] = signing(FirestoreNotificationStore(client), DPUPR, NOW)
    until = NOW + dt.timedelta(hours=24)

    console = FirestoreAgencyAdminStore(client, signing_sealer=lambda: public_only)
    console.rotate_secret(DPUPR, "whsec_bmV3", until, entry(DPUPR))

    opened = signing(FirestoreNotificationStore(client), DPUPR, NOW)
    assert opened == ("whsec_bmV3", before)


def test_the_production_pair_is_written_once_and_seals_and_opens(tmp_path: Path) -> None:
    assert signing_keys.main([str(tmp_path)]) == 0
    private, public = tmp_path / signing_keys.PRIVATE, tmp_path / signing_keys.PUBLIC
    assert private.stat().st_mode & 0o777 == 0o600
    sealer = sealer_from_keysets(public.read_text(), private.read_text())
    context = b"agency_secrets/dpupr-cianjur"
    assert sealer.open(sealer.seal(b"whsec_x", context), context) == b"whsec_x"
    assert signing_keys.main([str(tmp_path)]) == 1  # never overwrites a pair


def test_the_migration_seals_only_the_clear_documents_once(
    client: firestore.Client, emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference(client)  # every agency sealed
    secrets = client.collection("agency_secrets")
    secrets.document(DPUPR).set({"schema_version": 1, "webhook_secret": OLD_SECRET})
    secrets.document(DINKES).set(
        {
            "schema_version": 1,
            "webhook_secret": "whsec_bmV3",
            "previous_secret": OLD_SECRET,
            "previous_until": NOW + dt.timedelta(hours=24),
        }
    )
    store = FirestoreAgencyAdminStore(client)

    assert store.seal_clear_secrets() == 2  # read: the two clear documents, no other
    assert store.stats.reads == 2 and store.stats.writes == 2

    for agency in (DPUPR, DINKES):
        doc = raw(client, agency)
        assert not {"webhook_secret", "previous_secret"} & set(doc)
        assert "whsec_" not in dumped(doc)
    notify = FirestoreNotificationStore(client)
    assert signing(notify, DPUPR, NOW) == (OLD_SECRET,)
    assert signing(notify, DINKES, NOW) == ("whsec_bmV3", OLD_SECRET)
    assert store.seal_clear_secrets() == 0  # nothing left: a second run changes nothing

    # The command-line job, on the emulator.
    secrets.document(DPUPR).set({"schema_version": 1, "webhook_secret": OLD_SECRET})
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulators.firestore_host)
    assert seal_signing_secrets.main([]) == 0
    assert "webhook_secret" not in raw(client, DPUPR)
    assert signing(notify, DPUPR, NOW) == (OLD_SECRET,)
