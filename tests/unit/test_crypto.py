"""Identities sealed at rest: what the public keyset can do, what only the private one
can, and that a sealed identity belongs to its own document."""

from __future__ import annotations

from functools import cache

import pytest
import tink
from tink import aead

from shared.adapters.crypto import (
    TinkSealer,
    new_keysets,
    sealer_from_keysets,
    wrap_private_keyset,
)
from shared.adapters.firestore import identity_from_doc, identity_to_doc
from shared.domain.privacy import ReporterIdentity
from shared.ports import SealedDataUnreadable

SITI = ReporterIdentity(
    name="Siti Rahayu", email="siti@contoh.id", phone="+6281234567890", language="en"
)


@cache
def keysets() -> tuple[str, str]:
    return new_keysets()


def reader() -> TinkSealer:
    private, public = keysets()
    return sealer_from_keysets(public, private)


def submitter() -> TinkSealer:
    return sealer_from_keysets(keysets()[1])


def test_what_the_public_keyset_seals_the_private_one_opens() -> None:
    sealed = submitter().seal(b"Siti Rahayu", b"identities/r1")
    assert b"Siti" not in sealed
    assert reader().open(sealed, b"identities/r1") == b"Siti Rahayu"


def test_sealing_twice_gives_two_ciphertexts() -> None:
    assert submitter().seal(b"x", b"c") != submitter().seal(b"x", b"c")


def test_the_public_keyset_alone_cannot_open() -> None:
    sealed = submitter().seal(b"Siti Rahayu", b"identities/r1")
    with pytest.raises(SealedDataUnreadable, match="no key"):
        submitter().open(sealed, b"identities/r1")


def test_the_public_keyset_holds_no_secret() -> None:
    private, public = keysets()
    assert "ASYMMETRIC_PRIVATE" in private and "ASYMMETRIC_PRIVATE" not in public
    with pytest.raises(Exception):  # noqa: B017 - Tink refuses a secret keyset as public
        sealer_from_keysets(private)


def test_a_value_opens_only_in_the_context_it_was_sealed_for() -> None:
    sealed = submitter().seal(b"Siti Rahayu", b"identities/r1")
    with pytest.raises(SealedDataUnreadable):
        reader().open(sealed, b"identities/r2")


def test_another_keyset_does_not_open_it() -> None:
    sealed = submitter().seal(b"Siti Rahayu", b"identities/r1")
    other_private, other_public = new_keysets()
    with pytest.raises(SealedDataUnreadable):
        sealer_from_keysets(other_public, other_private).open(sealed, b"identities/r1")


def test_an_altered_value_does_not_open() -> None:
    sealed = bytearray(submitter().seal(b"Siti Rahayu", b"identities/r1"))
    sealed[-1] ^= 1
    with pytest.raises(SealedDataUnreadable):
        reader().open(bytes(sealed), b"identities/r1")


CONTACT_KEY = b"k" * 32


def test_the_identity_document_holds_the_seal_and_only_masks_and_digests_beside_it() -> None:
    doc = identity_to_doc(SITI, "r1", submitter(), CONTACT_KEY)
    assert set(doc) == {"schema_version", "sealed", "contact_digests", "masked", "language"}
    outside = repr({name: value for name, value in doc.items() if name != "sealed"})
    for secret in ("Siti", "Rahayu", "contoh", "6281234567890", "81234567890"):
        assert secret.encode() not in doc["sealed"] and secret not in outside, secret
    assert identity_from_doc(doc, "r1", reader()) == SITI


def test_an_identity_copied_to_another_report_does_not_read() -> None:
    doc = identity_to_doc(SITI, "r1", submitter(), CONTACT_KEY)
    with pytest.raises(SealedDataUnreadable):
        identity_from_doc(doc, "r2", reader())


def test_an_identity_stored_before_sealing_still_reads() -> None:
    legacy = {"schema_version": 1, "name": "Budi", "email": None, "phone": "+628111"}
    assert identity_from_doc(legacy, "r1", submitter()) == ReporterIdentity(
        "Budi", None, "+628111", "id"
    )


@cache
def stand_in_for_kms() -> aead.Aead:
    """A local AEAD in the place of the Cloud KMS key: the same Tink interface."""
    aead.register()
    return tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM).primitive(aead.Aead)


def test_a_private_keyset_wrapped_under_the_kms_key_opens_only_through_that_key() -> None:
    private, public = keysets()
    wrapped = wrap_private_keyset(private, stand_in_for_kms())
    assert '"encryptedKeyset"' in wrapped and private not in wrapped
    sealed = submitter().seal(b"Siti Rahayu", b"identities/r1")

    opened = sealer_from_keysets(public, wrapped, stand_in_for_kms())
    assert opened.open(sealed, b"identities/r1") == b"Siti Rahayu"
    # A copy of the secret without the key opens nothing.
    other_key = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM).primitive(aead.Aead)
    with pytest.raises(SealedDataUnreadable):
        sealer_from_keysets(public, wrapped, other_key)
    with pytest.raises(tink.TinkError):
        sealer_from_keysets(public, wrapped)  # read as a cleartext keyset: it is not one


def test_deployed_settings_open_the_wrapped_keyset_through_kms_and_only_where_it_is_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared import config
    from shared.adapters import crypto

    private, public = keysets()
    asked: list[str] = []

    def kms(uri: str) -> aead.Aead:
        asked.append(uri)
        return stand_in_for_kms()

    monkeypatch.setattr(crypto, "kms_keyset_key", kms)
    uri = "gcp-kms://projects/demo/locations/asia-southeast2/keyRings/lapor/cryptoKeys/identity-keyset"
    monkeypatch.setenv("LAPOR_IDENTITY_KMS_KEY_URI", uri)
    monkeypatch.setenv("LAPOR_IDENTITY_PUBLIC_KEYSET", public)
    sealed = submitter().seal(b"Siti Rahayu", b"identities/r1")
    try:
        config.settings.cache_clear()
        with pytest.raises(SealedDataUnreadable, match="no key"):
            crypto.sealer_from_settings().open(sealed, b"identities/r1")
        assert asked == []  # submit: no private keyset, so no call to KMS at all

        monkeypatch.setenv(
            "LAPOR_IDENTITY_PRIVATE_KEYSET", wrap_private_keyset(private, stand_in_for_kms())
        )
        config.settings.cache_clear()
        assert crypto.sealer_from_settings().open(sealed, b"identities/r1") == b"Siti Rahayu"
        assert asked == [uri]
    finally:
        config.settings.cache_clear()
