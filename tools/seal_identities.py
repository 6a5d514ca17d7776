"""Bring reporters' identities written before the current format up to it.

    python -m tools.seal_identities [--page-size 200]

Run with the settings of a function that may open identities (the private keyset,
deployed: LAPOR_IDENTITY_PRIVATE_KEYSET and LAPOR_IDENTITY_KMS_KEY_URI) and the
contact-hash key (LAPOR_CONTACT_HASH_KEY), against the project's Firestore.

Which documents: ``identities`` with ``schema_version`` 1, the only ones that lack
what version 2 keeps (docs/personal-data.md): those written in clear (name, e-mail
and phone as fields) and those sealed before the contact digests and masks were kept.
Found by an equality query on ``schema_version`` (Firestore's automatic single-field
index), page by page: **one read and one write per old document**, and nothing read
of the documents already at version 2, however many there are.

Each is rewritten through the store's own mapping (sealed, digests, masks; the clear
fields deleted) with the document's update time as a precondition, so an identity
erased or changed since it was read is left as it now is. Idempotent: a rewritten
document is at version 2 and no longer matches the query; a second run finds nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from google.api_core.exceptions import FailedPrecondition, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import (
    IDENTITIES,
    IDENTITY_SCHEMA_VERSION,
    identity_from_doc,
    identity_to_doc,
)
from shared.ports import SealedDataUnreadable, Sealer

# The fields a clear identity kept outside any seal.
_CLEAR_FIELDS = ("name", "email", "phone")


@dataclass
class Migrated:
    read: int = 0
    rewritten: int = 0
    changed_meanwhile: int = 0  # erased or rewritten by someone else since it was read
    unreadable: int = 0  # sealed under another key or altered: left as it is, counted


def old_identities_query(client: firestore.Client) -> firestore.Query:
    return client.collection(IDENTITIES).where(
        filter=FieldFilter("schema_version", "<", IDENTITY_SCHEMA_VERSION)
    )


def migrate(
    client: firestore.Client, sealer: Sealer, contact_key: bytes, *, page_size: int = 200
) -> Migrated:
    done = Migrated()
    # A page's last document is the next one's cursor (documents left unreadable still
    # match, and must not be read again); the order is the version's, then the name's.
    query = old_identities_query(client).order_by("schema_version").limit(page_size)
    last: firestore.DocumentSnapshot | None = None
    while True:
        page = list((query.start_after(last) if last is not None else query).stream())
        done.read += len(page)
        for snap in page:
            _rewrite(client, snap, sealer, contact_key, done)
        if len(page) < page_size:
            return done
        last = page[-1]


def _rewrite(
    client: firestore.Client,
    snap: firestore.DocumentSnapshot,
    sealer: Sealer,
    contact_key: bytes,
    done: Migrated,
) -> None:
    try:
        identity = identity_from_doc(snap.to_dict() or {}, snap.id, sealer)
    except SealedDataUnreadable:
        done.unreadable += 1
        return
    fields: dict[str, object] = dict(identity_to_doc(identity, snap.id, sealer, contact_key))
    fields.update({name: firestore.DELETE_FIELD for name in _CLEAR_FIELDS})
    try:
        snap.reference.update(fields, option=client.write_option(last_update_time=snap.update_time))
    except (FailedPrecondition, NotFound):
        done.changed_meanwhile += 1
        return
    done.rewritten += 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page-size", type=int, default=200)
    args = parser.parse_args(argv)
    from shared.adapters.crypto import contact_key_from_settings, sealer_from_settings
    from shared.config import settings

    client = firestore.Client(project=settings().project)
    done = migrate(
        client, sealer_from_settings(), contact_key_from_settings(), page_size=args.page_size
    )
    print(
        f"read {done.read} old identities: {done.rewritten} rewritten, "
        f"{done.changed_meanwhile} changed meanwhile, {done.unreadable} unreadable"
    )
    return 1 if done.unreadable else 0


if __name__ == "__main__":
    raise SystemExit(main())
