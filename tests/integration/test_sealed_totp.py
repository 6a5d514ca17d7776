"""Staff TOTP secrets sealed at rest on the Firestore emulator: the stored value is
ciphertext bound to its document, a function without the key reads and writes it back
untouched but cannot seal a new one, and a secret stored in clear before still reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from google.cloud import firestore

from shared.adapters.firestore_staff import FirestoreStaffStore
from shared.domain.staff import SessionStage
from shared.ports import SealedDataUnreadable, StaffUpdate
from tests.integration.test_staff_store_contract import a_session, an_account
from tools.stack import Emulators

SECRET = "JBSWY3DP"


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


def raw(client: firestore.Client, path: str) -> dict[str, object]:
    return client.document(path).get().to_dict() or {}


def test_the_stored_secret_is_sealed_to_its_document_and_reads_back(
    client: firestore.Client,
) -> None:
    console = FirestoreStaffStore(client)  # the session's TOTP keyset, as the console's
    console.create_account(an_account(), StaffUpdate())
    stored = raw(client, "staff_accounts/acc1")["totp_secret"]
    assert isinstance(stored, bytes) and SECRET.encode() not in stored
    account = console.account("acc1")
    assert account is not None and account.totp_secret == SECRET

    # Moved to another account's document, it does not open.
    console.create_account(an_account("acc2", "siti@uptd.example"), StaffUpdate())
    client.document("staff_accounts/acc2").update({"totp_secret": stored})
    with pytest.raises(SealedDataUnreadable):
        FirestoreStaffStore(client).account("acc2")


def test_a_pending_secret_of_a_session_is_sealed_too(client: firestore.Client) -> None:
    console = FirestoreStaffStore(client)
    pending = a_session(stage=SessionStage.ENROL, pending_totp_secret="ABCDEFGH")
    console.create_account(an_account(), StaffUpdate(sessions=(pending,)))
    stored = raw(client, f"staff_sessions/{pending.session_id}")["pending_totp_secret"]
    assert isinstance(stored, bytes) and b"ABCDEFGH" not in stored
    session = console.session(pending.session_id)
    assert session is not None and session.pending_totp_secret == "ABCDEFGH"


def test_without_the_key_a_sealed_secret_is_kept_as_it_is_and_no_new_one_is_sealed(
    client: firestore.Client,
) -> None:
    FirestoreStaffStore(client).create_account(an_account(), StaffUpdate())
    sealed = raw(client, "staff_accounts/acc1")["totp_secret"]
    notify = FirestoreStaffStore(client, totp_sealer=lambda: None)  # reads accounts, no key
    account = notify.account("acc1")
    assert account is not None and account.totp_secret != SECRET

    notify.update_account("acc1", lambda a: StaffUpdate(account=dataclasses.replace(a, name="B")))
    assert raw(client, "staff_accounts/acc1")["totp_secret"] == sealed
    with pytest.raises(RuntimeError, match="LAPOR_TOTP_KEYSET"):
        notify.update_account(
            "acc1", lambda a: StaffUpdate(account=dataclasses.replace(a, totp_secret="NEWSECRET"))
        )
    read = FirestoreStaffStore(client).account("acc1")
    assert read is not None and read.totp_secret == SECRET and read.name == "B"


def test_a_secret_stored_in_clear_before_sealing_still_reads_and_is_sealed_when_written(
    client: firestore.Client,
) -> None:
    console = FirestoreStaffStore(client)
    console.create_account(an_account(), StaffUpdate())
    client.document("staff_accounts/acc1").update({"totp_secret": SECRET})
    account = console.account("acc1")
    assert account is not None and account.totp_secret == SECRET
    console.update_account("acc1", lambda a: StaffUpdate(account=dataclasses.replace(a, name="B")))
    assert isinstance(raw(client, "staff_accounts/acc1")["totp_secret"], bytes)
