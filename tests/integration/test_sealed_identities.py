"""Reporters' identities on the Firestore emulator: the stored document holds no
plaintext, a store holding only the public keyset (the submit function's) writes but
cannot read, and a document written before sealing still reads."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore

from shared.adapters.crypto import (
    contact_key_from_settings,
    sealer_from_files,
    sealer_from_keysets,
    write_local_contact_key,
    write_local_keysets,
)
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


def test_the_submit_functions_keyset_matches_a_contact_and_masks_without_opening(
    client: firestore.Client, emulators: Emulators
) -> None:
    public = str(emulators.identity_public_keyset_path)
    submitter = FirestoreReportStore(client, sealer=lambda: sealer_from_files(public))
    submission = _submission(submitter, identity=SITI)
    submitter.create_submission(submission)
    rid = submission.report.id

    assert submitter.contact_matches(rid, "email", " Siti.Rahayu@CONTOH.id ")
    assert submitter.contact_matches(rid, "sms", "+6281234567890")
    assert not submitter.contact_matches(rid, "sms", "+6281234567891")
    assert not submitter.contact_matches(rid, "email", "+6281234567890")  # not its channel
    assert not submitter.contact_matches("no-such-report", "email", "siti.rahayu@contoh.id")
    assert submitter.masked_identity(rid) == ReporterIdentity(
        "S. R.", "s***@c***.id", "0812****890", "en"
    )
    # Another digest key (a copied document elsewhere, a guessed key) matches nothing.
    other = FirestoreReportStore(
        client, sealer=lambda: sealer_from_files(public), contact_key=lambda: b"o" * 32
    )
    assert not other.contact_matches(rid, "email", "siti.rahayu@contoh.id")


def test_older_identities_match_and_mask_as_far_as_they_can(client: firestore.Client) -> None:
    store = FirestoreReportStore(client)
    identities = client.collection("identities")
    identities.document("clear-report").set(
        {"schema_version": 1, "name": "Budi", "email": None, "phone": "+628111222333"}
    )
    # Sealed before digests and masks were kept: nothing to match or show until migrated.
    sealed_only = _submission(store, identity=SITI, key_hash="key-3")
    store.create_submission(sealed_only)
    doc = identities.document(sealed_only.report.id).get().to_dict() or {}
    identities.document(sealed_only.report.id).set({"schema_version": 1, "sealed": doc["sealed"]})

    assert store.contact_matches("clear-report", "sms", "+628111222333")
    assert store.masked_identity("clear-report") == ReporterIdentity(
        "B.", None, "0811****333", "id"
    )
    assert not store.contact_matches(sealed_only.report.id, "email", "siti.rahayu@contoh.id")
    assert store.masked_identity(sealed_only.report.id) is None
    assert store.identity(sealed_only.report.id) == SITI  # the readers still open it


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


def test_the_contact_key_comes_from_its_setting_or_its_file_and_is_never_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import config

    key_file = tmp_path / "contact-hash-key"
    write_local_contact_key(key_file)
    written = key_file.read_text()
    write_local_contact_key(key_file)  # kept: the digests already stored depend on it
    assert key_file.read_text() == written and key_file.stat().st_mode & 0o077 == 0
    for env, expected in (
        ({"LAPOR_CONTACT_HASH_KEY_FILE": str(key_file)}, written.encode()),
        ({"LAPOR_CONTACT_HASH_KEY": "c" * 32}, b"c" * 32),
        ({"LAPOR_CONTACT_HASH_KEY": "short"}, None),
        ({}, None),
    ):
        for name in ("LAPOR_CONTACT_HASH_KEY", "LAPOR_CONTACT_HASH_KEY_FILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        config.settings.cache_clear()
        if expected is None:
            with pytest.raises(RuntimeError, match="LAPOR_CONTACT_HASH_KEY"):
                contact_key_from_settings()
        else:
            assert contact_key_from_settings() == expected


def test_the_tool_writes_the_private_keyset_wrapped_under_the_kms_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tink
    from tink import aead

    from tools import identity_keys

    aead.register()
    stand_in = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM).primitive(aead.Aead)
    asked: list[str] = []

    def kms(args: argparse.Namespace) -> aead.Aead:
        asked.append(args.kms_key_uri)
        return stand_in

    monkeypatch.setattr(identity_keys, "keyset_key", kms)
    uri = "gcp-kms://projects/demo/locations/asia-southeast2/keyRings/lapor/cryptoKeys/identity-keyset"
    assert identity_keys.main([str(tmp_path), "--kms-key-uri", uri]) == 0
    assert asked == [uri]
    wrapped = (tmp_path / identity_keys.PRIVATE).read_text()
    public = (tmp_path / identity_keys.PUBLIC).read_text()
    assert "encryptedKeyset" in wrapped and "ASYMMETRIC_PRIVATE" not in wrapped
    assert (tmp_path / identity_keys.PRIVATE).stat().st_mode & 0o077 == 0
    sealed = sealer_from_keysets(public).seal(b"Siti Aminah", b"identities/r1")
    opened = sealer_from_keysets(public, wrapped, stand_in).open(sealed, b"identities/r1")
    assert opened == b"Siti Aminah"
