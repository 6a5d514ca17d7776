"""Agencies' webhook signing secrets sealed at rest, as reporters' identities are.

Every function may read every Firestore document (roles/datastore.user is the
narrowest grant), so a secret stored in clear in ``agency_secrets/{id}`` would be
readable by all of them. Sealed with a keyset pair of its own (Tink HPKE, the same
functions as shared/adapters/crypto.py), it opens only where the private keyset is
mounted: notify, which signs every webhook, and the console, which signs its test
ping. The console seals a new secret with the public keyset and shows it once.

``agency_secrets/{id}``: ``sealed_secret`` (the current one) and, after a rotation,
``sealed_previous`` with ``previous_until`` and ``rotated_at``. Each is sealed with the
document's path as its context, so a ciphertext copied to another agency's document
does not open. Documents from before sealing hold ``webhook_secret`` and
``previous_secret`` in clear: they still read, and the next rotation seals them
(docs/secrets.md).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from shared.ports import Sealer

AGENCY_SECRETS = "agency_secrets"


def signing_context(agency_id: str) -> bytes:
    """What a sealed signing secret is bound to: its own agency's document."""
    return f"{AGENCY_SECRETS}/{agency_id}".encode()


def seal_secret(secret: str, agency_id: str, sealer: Sealer) -> bytes:
    return sealer.seal(secret.encode(), signing_context(agency_id))


def sealed_current(doc: Mapping[str, Any], agency_id: str, sealer: Sealer) -> bytes | None:
    """The current secret of a stored document, sealed (a clear one from before sealing
    is sealed now): what a rotation keeps as the previous one, without opening it."""
    if doc.get("sealed_secret"):
        return bytes(doc["sealed_secret"])
    clear = doc.get("webhook_secret")
    return seal_secret(str(clear), agency_id, sealer) if clear else None


def stored_secrets(
    doc: Mapping[str, Any], agency_id: str, sealer: Callable[[], Sealer]
) -> tuple[str | None, str | None, Callable[[str], str]]:
    """The current and previous secrets of a stored document as an AgencyChannel holds
    them, and how to open them: sealed ones travel as base64 and are opened only when a
    webhook is signed (a function that never signs never holds the key)."""
    if not doc.get("sealed_secret"):
        return doc.get("webhook_secret") or None, doc.get("previous_secret") or None, _in_clear

    def reveal(stored: str) -> str:
        return sealer().open(base64.b64decode(stored), signing_context(agency_id)).decode()

    previous = doc.get("sealed_previous")
    return (
        base64.b64encode(doc["sealed_secret"]).decode(),
        base64.b64encode(previous).decode() if previous else None,
        reveal,
    )


def _in_clear(stored: str) -> str:
    return stored


def signing_sealer_from_settings() -> Sealer:
    """The signing secrets' sealer of this instance's settings: the keysets themselves
    when set (LAPOR_SIGNING_*_KEYSET, from Secret Manager), else their files
    (LAPOR_SIGNING_*_KEYSET_FILE, the local stack). No public keyset: sealing a secret
    fails, never a silent fallback to a clear one."""
    from shared.adapters.crypto import given_or_file, sealer_from_keysets
    from shared.config import settings

    current = settings()
    public = given_or_file(current.signing_public_keyset, current.signing_public_keyset_file)
    private = current.signing_private_keyset
    if not current.signing_public_keyset:  # the files together, as the stack writes them
        private = given_or_file("", current.signing_private_keyset_file)
    if not public:
        raise RuntimeError("LAPOR_SIGNING_PUBLIC_KEYSET is not set: no key to seal secrets with")
    return sealer_from_keysets(public, private)
