"""What the public submit function may keep of a reporter's contact beside the seal.

Submit seals an identity it can never open (shared/adapters/crypto.py), yet it must
still answer "Lost your link?" (is this the contact given?) and show the reporter
their own details back. So at submission it stores two things apart from the seal:

- a **digest** of each contact: HMAC-SHA256 under a dedicated key, of the contact
  normalised. Without the key the digest cannot be tested against guesses (there are
  few enough Indonesian phone numbers to try them all against a plain hash).
- a **mask** of each field, coarse enough to say nothing on its own: a name's
  initials, an e-mail's first letter and its provider when it is a mass provider,
  a phone's operator prefix and last three digits (docs/personal-data.md).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from shared.domain.privacy import ReporterIdentity

Channel = Literal["email", "sms"]

# Providers with millions of users: naming one says nothing about who. Any other
# domain (an office's, a family's own) can point at a person, so it is masked too.
_MASS_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.id",
        "ymail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "proton.me",
        "protonmail.com",
    }
)


def normalize_contact(channel: Channel, value: str) -> str:
    """The form a contact is compared in: e-mail addresses without regard to case or
    surrounding space; phone numbers as the form normalises them (+62...), spaces out."""
    if channel == "email":
        return value.strip().casefold()
    return "".join(value.split())


def contact_digest(key: bytes, channel: Channel, value: str) -> str:
    """The keyed digest of one contact; the channel is part of the message, so an
    e-mail and a phone number never share a digest."""
    message = f"{channel}:{normalize_contact(channel, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def same_digest(stored: str | None, given: str) -> bool:
    """Whether a stored digest is the given one, in constant time (no digest stored:
    never, after the same comparison)."""
    return hmac.compare_digest((stored or "").encode(), given.encode()) and bool(stored)


def mask_name(name: str) -> str:
    """The initials: "Siti Rahayu" -> "S. R." (at most three)."""
    return " ".join(f"{word[0].upper()}." for word in name.split()[:3])


def mask_email(email: str) -> str:
    """ "budi.santoso@gmail.com" -> "b***@gmail.com"; "siti@dinas.go.id" -> "s***@d***.id"."""
    local, _, domain = email.strip().rpartition("@")
    domain = domain.casefold()
    if domain not in _MASS_PROVIDERS:
        domain = f"{domain[:1]}***.{domain.rpartition('.')[2]}"
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """ "+6281234567890" -> "0812****890": the operator's prefix and the last three."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    local = "0" + digits[2:] if digits.startswith("62") else digits
    return f"{local[:4]}****{local[-3:]}"


def masked(identity: ReporterIdentity) -> ReporterIdentity:
    """The identity as the reporter's own view shows it: every field masked."""
    return ReporterIdentity(
        mask_name(identity.name) if identity.name else None,
        mask_email(identity.email) if identity.email else None,
        mask_phone(identity.phone) if identity.phone else None,
        identity.language,
    )


def digests(key: bytes, identity: ReporterIdentity) -> dict[Channel, str]:
    """The digest of each contact the identity holds, by channel."""
    found: dict[Channel, str] = {}
    if identity.email:
        found["email"] = contact_digest(key, "email", identity.email)
    if identity.phone:
        found["sms"] = contact_digest(key, "sms", identity.phone)
    return found
