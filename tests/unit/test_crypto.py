"""Identities sealed at rest: what the public keyset can do, what only the private one
can, and that a sealed identity belongs to its own document."""

from __future__ import annotations

from functools import cache

import pytest

from shared.adapters.crypto import TinkSealer, new_keysets, sealer_from_keysets
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


def test_the_identity_document_holds_only_ciphertext_and_reads_back() -> None:
    doc = identity_to_doc(SITI, "r1", submitter())
    assert set(doc) == {"schema_version", "sealed"}
    for secret in ("Siti", "contoh", "6281234567890"):
        assert secret.encode() not in doc["sealed"]
    assert identity_from_doc(doc, "r1", reader()) == SITI


def test_an_identity_copied_to_another_report_does_not_read() -> None:
    doc = identity_to_doc(SITI, "r1", submitter())
    with pytest.raises(SealedDataUnreadable):
        identity_from_doc(doc, "r2", reader())


def test_an_identity_stored_before_sealing_still_reads() -> None:
    legacy = {"schema_version": 1, "name": "Budi", "email": None, "phone": "+628111"}
    assert identity_from_doc(legacy, "r1", submitter()) == ReporterIdentity(
        "Budi", None, "+628111", "id"
    )
