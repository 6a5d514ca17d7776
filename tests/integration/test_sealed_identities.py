"""Reporters' identities on the Firestore emulator: the stored document holds no
plaintext, a store holding only the public keyset (the submit function's) writes but
cannot read, and a document written before sealing still reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore

from shared.adapters.crypto import sealer_from_files, sealer_from_keysets, write_local_keysets
from shared.adapters.firestore import FirestoreReportStore
from shared.domain.privacy import ReporterIdentity
from shared.ports import SealedDataUnreadable
from tests.integration.test_firestore_store import _submission
from tools.stack import Emulators

SITI = ReporterIdentity(
    name="Siti Rahayu", email="siti.rahayu@contoh.id", phone="+6281234567890", language="en"
)


@pytest.fixture
def client(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


def test_the_stored_identity_holds_no_plaintext_and_reads_back(
    client: firestore.Client,
) -> None:
    store = FirestoreReportStore(client)  # the session's keysets, as every function reads them
    submission = _submission(store, identity=SITI)
    store.create_submission(submission)

    raw = client.collection("identities").document(submission.report.id).get().to_dict() or {}
    dumped = json.dumps(
        raw, default=lambda value: value.hex() if isinstance(value, bytes) else str(value)
    )
    for secret in ("Siti", "Rahayu", "contoh", "6281234567890", "81234567890"):
        assert secret not in dumped and secret.encode() not in raw["sealed"], secret
    assert store.identity(submission.report.id) == SITI


def test_the_submit_functions_keyset_writes_but_cannot_read(
    client: firestore.Client, emulators: Emulators
) -> None:
    public = str(emulators.identity_public_keyset_path)
    private = str(emulators.identity_private_keyset_path)
    submitter = FirestoreReportStore(client, sealer=lambda: sealer_from_files(public))
    reader = FirestoreReportStore(client, sealer=lambda: sealer_from_files(public, private))
    submission = _submission(submitter, identity=SITI)
    submitter.create_submission(submission)

    with pytest.raises(SealedDataUnreadable):
        submitter.identity(submission.report.id)
    assert reader.identity(submission.report.id) == SITI


def test_an_identity_moved_to_another_report_does_not_read(client: firestore.Client) -> None:
    store = FirestoreReportStore(client)
    first, second = _submission(store, identity=SITI), _submission(store, key_hash="key-2")
    store.create_submission(first)
    store.create_submission(second)
    identities = client.collection("identities")
    identities.document(second.report.id).set(
        identities.document(first.report.id).get().to_dict() or {}
    )

    with pytest.raises(SealedDataUnreadable):
        store.identity(second.report.id)


def test_an_identity_stored_in_clear_before_sealing_still_reads(client: firestore.Client) -> None:
    store = FirestoreReportStore(client)
    client.collection("identities").document("legacy-report").set(
        {"schema_version": 1, "name": "Budi", "email": None, "phone": "+628111222333"}
    )
    assert store.identity("legacy-report") == ReporterIdentity("Budi", None, "+628111222333", "id")


def test_the_local_keysets_are_written_once_and_the_private_one_is_not_world_readable(
    tmp_path: Path,
) -> None:
    private, public = tmp_path / "keys" / "private.json", tmp_path / "keys" / "public.json"
    write_local_keysets(private, public)
    first = private.read_text()
    write_local_keysets(private, public)
    assert private.read_text() == first
    assert private.stat().st_mode & 0o077 == 0
    assert "ASYMMETRIC_PRIVATE" not in public.read_text()


def test_deployed_keysets_come_as_settings_and_a_file_pair_from_the_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import config
    from shared.adapters.crypto import sealer_from_settings
    from tools.identity_keys import PRIVATE, PUBLIC, main

    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path)]) == 1  # never overwrites a keyset
    assert (tmp_path / PRIVATE).stat().st_mode & 0o077 == 0
    public = (tmp_path / PUBLIC).read_text()
    private = (tmp_path / PRIVATE).read_text()
    monkeypatch.setenv("LAPOR_IDENTITY_PUBLIC_KEYSET", public)
    monkeypatch.setenv("LAPOR_IDENTITY_PRIVATE_KEYSET", private)
    monkeypatch.delenv("LAPOR_IDENTITY_PUBLIC_KEYSET_FILE", raising=False)
    config.settings.cache_clear()
    try:
        sealer = sealer_from_settings()
        sealed = sealer.seal(b"Siti Aminah", b"identities/r1")
        assert sealer_from_keysets(public, private).open(sealed, b"identities/r1") == b"Siti Aminah"
    finally:
        config.settings.cache_clear()
