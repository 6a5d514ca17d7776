"""The migration of old identity documents on the Firestore emulator: it reads only
the old ones, seals the clear ones, adds digests and masks to the sealed ones, leaves
an identity erased meanwhile erased, and a second run finds nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import firestore

from shared.adapters.crypto import contact_key_from_settings, sealer_from_settings
from shared.adapters.firestore import FirestoreReportStore
from shared.domain.privacy import ReporterIdentity
from tests.integration.test_firestore_store import _submission
from tests.integration.test_sealed_identities import SITI
from tools.seal_identities import migrate
from tools.stack import Emulators

BUDI = ReporterIdentity("Budi Santoso", None, "+628111222333", "id")


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


def test_old_identities_are_brought_to_the_current_format_once(client: firestore.Client) -> None:
    store = FirestoreReportStore(client)  # the session's keysets and contact key
    identities = client.collection("identities")
    identities.document("clear-report").set(
        {"schema_version": 1, "name": BUDI.name, "email": None, "phone": BUDI.phone}
    )
    old_sealed = _submission(store, identity=SITI, key_hash="key-old")
    store.create_submission(old_sealed)
    sealed_doc = identities.document(old_sealed.report.id).get().to_dict() or {}
    identities.document(old_sealed.report.id).set(
        {"schema_version": 1, "sealed": sealed_doc["sealed"]}
    )
    current = _submission(store, identity=SITI, key_hash="key-new")
    store.create_submission(current)
    before = identities.document(current.report.id).get().update_time
    assert not store.contact_matches(old_sealed.report.id, "email", "siti.rahayu@contoh.id")

    done = migrate(client, sealer_from_settings(), contact_key_from_settings(), page_size=1)

    assert (done.read, done.rewritten, done.unreadable) == (2, 2, 0)  # never the current one
    assert identities.document(current.report.id).get().update_time == before
    clear = identities.document("clear-report").get().to_dict() or {}
    assert clear["schema_version"] == 2 and not {"name", "email", "phone"} & set(clear)
    assert "Budi" not in repr(clear) and "8111222333" not in repr(clear)
    assert store.identity("clear-report") == BUDI
    assert store.contact_matches("clear-report", "sms", "+628111222333")
    assert store.masked_identity("clear-report") == ReporterIdentity("B. S.", None, "0811****333")
    assert store.identity(old_sealed.report.id) == SITI
    assert store.contact_matches(old_sealed.report.id, "email", "siti.rahayu@contoh.id")
    assert store.masked_identity(old_sealed.report.id) is not None

    again = migrate(client, sealer_from_settings(), contact_key_from_settings())
    assert (again.read, again.rewritten) == (0, 0)


def test_an_identity_erased_after_it_was_read_stays_erased(
    client: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools import seal_identities

    identities = client.collection("identities")
    identities.document("erased-report").set(
        {"schema_version": 1, "name": BUDI.name, "email": None, "phone": BUDI.phone}
    )
    opened = seal_identities.identity_from_doc

    def erased_meanwhile(*args: object, **kwargs: object) -> ReporterIdentity:
        identity = opened(*args, **kwargs)  # type: ignore[arg-type]
        identities.document("erased-report").delete()  # the retention job, say
        return identity

    monkeypatch.setattr(seal_identities, "identity_from_doc", erased_meanwhile)
    done = migrate(client, sealer_from_settings(), contact_key_from_settings())

    assert (done.read, done.rewritten, done.changed_meanwhile) == (1, 0, 1)
    assert not identities.document("erased-report").get().exists
