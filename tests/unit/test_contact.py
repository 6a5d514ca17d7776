"""What submit keeps beside a sealed identity: keyed digests and coarse masks."""

from __future__ import annotations

import pytest

from shared.domain.contact import (
    contact_digest,
    digests,
    mask_email,
    mask_name,
    mask_phone,
    masked,
    same_digest,
)
from shared.domain.privacy import ReporterIdentity

KEY = b"k" * 32


def test_a_digest_ignores_case_and_space_of_an_email_and_spaces_in_a_phone() -> None:
    assert contact_digest(KEY, "email", " Siti@Contoh.ID ") == contact_digest(
        KEY, "email", "siti@contoh.id"
    )
    assert contact_digest(KEY, "sms", "+62 812 3456 7890") == contact_digest(
        KEY, "sms", "+6281234567890"
    )


def test_a_digest_depends_on_the_key_and_the_channel() -> None:
    email = contact_digest(KEY, "email", "6281234567890")
    assert email != contact_digest(b"x" * 32, "email", "6281234567890")
    assert email != contact_digest(KEY, "sms", "6281234567890")


def test_no_stored_digest_matches_nothing() -> None:
    given = contact_digest(KEY, "email", "siti@contoh.id")
    assert same_digest(given, given)
    assert not same_digest(None, given)
    assert not same_digest("", "")
    assert not same_digest(contact_digest(KEY, "email", "budi@contoh.id"), given)


@pytest.mark.parametrize(
    ("email", "shown"),
    [
        ("budi.santoso@gmail.com", "b***@gmail.com"),
        ("Budi@Yahoo.co.id", "B***@yahoo.co.id"),
        # A domain of few users can point at the person: masked too.
        ("siti@rahayu-keluarga.id", "s***@r***.id"),
        ("kepala@dinas.cianjurkab.go.id", "k***@d***.id"),
    ],
)
def test_an_email_mask_keeps_the_first_letter_and_only_a_mass_provider(
    email: str, shown: str
) -> None:
    assert mask_email(email) == shown


def test_a_phone_mask_keeps_the_operator_prefix_and_the_last_three() -> None:
    assert mask_phone("+6281234567890") == "0812****890"
    assert mask_phone("081298765432") == "0812****432"


def test_a_name_mask_is_its_initials() -> None:
    assert mask_name("Siti Rahayu") == "S. R."
    assert mask_name("  budi  ") == "B."
    assert mask_name("A B C D") == "A. B. C."


def test_a_masked_identity_keeps_the_language_and_digests_only_what_is_given() -> None:
    siti = ReporterIdentity("Siti Rahayu", "siti@contoh.id", None, "en")
    assert masked(siti) == ReporterIdentity("S. R.", "s***@c***.id", None, "en")
    assert set(digests(KEY, siti)) == {"email"}
    assert masked(ReporterIdentity(None, None, None)) == ReporterIdentity(None, None, None)
