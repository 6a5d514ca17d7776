"""What an agency admin changes from the console, on Firestore: the AgencyAdminStore port.

Layout (the documents notify and the agency API already read):

- ``agencies/{id}.notification``: ``webhook_url``, ``emails`` (a list), ``digest``
  ("hourly" or null), as ``tools/seed.py`` writes it (the whole map is written, so an
  older single ``email`` goes with the first save); only that field is updated, so the agency's
  other fields (its name, its place in the tree) are left to whoever maintains them;
- ``agency_secrets/{id}``: ``sealed_secret`` (the current one) and, after a rotation,
  ``sealed_previous`` with ``previous_until`` and ``rotated_at``, sealed as
  shared/adapters/signing_secrets.py says; apart from the agency document, which the
  agency API lists;
- ``api_keys/{sha256 of the key}``: ``agency_id``, ``role``, ``label``, ``created_at``,
  ``created_by``, ``revoked``, ``revoked_at``.

Each change commits with its change-log entry (shared.adapters.firestore_audit) in one
batch or transaction: a change and its record land together or not at all. A change of
channels also moves ``reference_meta/current.version`` (shared.adapters.firestore_reference),
as every change of what the running reference holds does, so every instance (the hourly
digest reads the digest choice there) reloads it within ``reference_refresh_s``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from google.api_core.exceptions import FailedPrecondition, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import (
    AGENCIES,
    AGENCY_SECRETS,
    API_KEYS,
    IN_LIMIT,
    SCHEMA_VERSION,
    FirestoreNotificationStore,
    StoreStats,
    _chunks,
    _ts,
    api_key_from_doc,
)
from shared.adapters.firestore_audit import audit_ref
from shared.adapters.firestore_outage import translates_outages
from shared.adapters.firestore_reference import bump_version
from shared.adapters.signing_secrets import (
    seal_secret,
    sealed_current,
    signing_sealer_from_settings,
)
from shared.ports import (
    AgencyChannel,
    AgencyNotFound,
    ApiKeyRecord,
    AuditEntry,
    ChannelChoice,
    Sealer,
)


def notification_to_doc(choice: ChannelChoice) -> dict[str, Any]:
    return {
        "webhook_url": choice.webhook_url,
        "emails": list(choice.emails),
        "digest": "hourly" if choice.digest else None,
    }


def api_key_to_doc(record: ApiKeyRecord) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "key_hash": record.key_hash,
        "agency_id": record.agency_id,
        "role": record.role.value,
        "label": record.label,
        "created_at": _ts(record.created_at),
        "created_by": record.created_by,
        "revoked": record.revoked,
        "revoked_at": None if record.revoked_at is None else _ts(record.revoked_at),
    }


def api_keys_query(keys: Any, agency_ids: list[str]) -> Any:
    """The keys of up to 30 agencies: one ``in`` filter, no order (sorted in memory, so
    the query needs only the automatic single-field index)."""
    return keys.where(filter=FieldFilter("agency_id", "in", agency_ids))


def clear_secrets_query(secrets: Any, limit: int) -> Any:
    """Signing-secret documents still holding their secret in clear (written before
    sealing): only documents that have the field match a range on it."""
    return secrets.where(filter=FieldFilter("webhook_secret", ">", "")).limit(limit)


@translates_outages
class FirestoreAgencyAdminStore:
    def __init__(
        self,
        client: firestore.Client,
        stats: StoreStats | None = None,
        signing_sealer: Callable[[], Sealer] = signing_sealer_from_settings,
    ) -> None:
        """``signing_sealer`` makes the signing secrets' sealer on first use: the
        console seals a new secret with the public keyset."""
        self._client = client
        self._agencies = client.collection(AGENCIES)
        self._secrets = client.collection(AGENCY_SECRETS)
        self._keys = client.collection(API_KEYS)
        self._signing_sealer = signing_sealer
        self._channels = FirestoreNotificationStore(client, signing_sealer)
        self.stats = stats or StoreStats()

    # --- channels and the signing secret ---------------------------------------------

    def agency_channel(self, agency_id: str) -> AgencyChannel | None:
        """What notify reads (shared.adapters.firestore): one batched get of two docs."""
        self.stats.add(reads=2)
        return self._channels.agency_channel(agency_id)

    def save_channels(self, agency_id: str, choice: ChannelChoice, entry: AuditEntry) -> None:
        batch = self._client.batch()
        batch.update(
            self._agencies.document(agency_id), {"notification": notification_to_doc(choice)}
        )
        batch.set(*audit_ref(self._client, entry))
        # The running reference holds the channels too (the hourly digest reads the
        # choice there): moving its version makes every instance reload them.
        bump_version(batch, self._client, entry.at)
        self.stats.add(commits=1)
        try:
            batch.commit()
        except NotFound as missing:  # update's precondition: the document exists
            raise AgencyNotFound(agency_id) from missing
        self.stats.add(writes=3)

    def rotate_secret(
        self, agency_id: str, secret: str, previous_until: dt.datetime, entry: AuditEntry
    ) -> None:
        ref = self._secrets.document(agency_id)
        audit = audit_ref(self._client, entry)
        sealer = self._signing_sealer()
        sealed = seal_secret(secret, agency_id, sealer)

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> None:
            snap = ref.get(transaction=transaction)
            self.stats.add(reads=1)
            # The current one becomes the previous one still sealed (a clear one, from
            # before sealing, is sealed now): a rotation never opens a secret.
            current = sealed_current(snap.to_dict() or {}, agency_id, sealer)
            now = _ts(entry.at)
            data: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "sealed_secret": sealed,
                "rotated_at": now,
                "sealed_previous": current,
                "previous_until": _ts(previous_until) if current else None,
                "webhook_secret": firestore.DELETE_FIELD,
                "previous_secret": firestore.DELETE_FIELD,
            }
            if not snap.exists:
                data["created_at"] = now
            transaction.set(ref, data, merge=True)
            transaction.set(*audit)

        self.stats.add(commits=1)
        run(self._client.transaction())
        self.stats.add(writes=2)

    def seal_clear_secrets(self, limit: int = 500) -> int:
        """Seal up to ``limit`` secrets stored in clear before sealing, reading only
        those documents: one read and one write each, the clear fields deleted in that
        write. A document a rotation changed meanwhile is left to it (it sealed it).
        Returns how many documents were read; 0 when none is left."""
        docs = list(clear_secrets_query(self._secrets, limit).stream())
        self.stats.add(reads=max(1, len(docs)))
        if not docs:
            return 0
        sealer = self._signing_sealer()
        for snap in docs:
            doc = snap.to_dict() or {}
            fields: dict[str, Any] = {
                "sealed_secret": seal_secret(str(doc["webhook_secret"]), snap.id, sealer),
                "webhook_secret": firestore.DELETE_FIELD,
                "previous_secret": firestore.DELETE_FIELD,
            }
            if doc.get("previous_secret"):
                fields["sealed_previous"] = seal_secret(doc["previous_secret"], snap.id, sealer)
            unchanged = self._client.write_option(last_update_time=snap.update_time)
            try:
                snap.reference.update(fields, option=unchanged)
            except FailedPrecondition:
                continue  # rotated since the query: already sealed
            self.stats.add(commits=1, writes=1)
        return len(docs)

    # --- API keys ----------------------------------------------------------------------

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        snap = self._keys.document(key_hash).get()
        self.stats.add(reads=1)
        return api_key_from_doc(key_hash, snap.to_dict() or {}) if snap.exists else None

    def api_keys(self, agency_ids: Collection[str] | None) -> list[ApiKeyRecord]:
        queries: list[Any]
        if agency_ids is None:
            queries = [self._keys]
        else:
            queries = [
                api_keys_query(self._keys, chunk) for chunk in _chunks(sorted(agency_ids), IN_LIMIT)
            ]
        found: list[ApiKeyRecord] = []
        for query in queries:
            docs = list(query.stream())
            self.stats.add(reads=max(1, len(docs)))
            found.extend(api_key_from_doc(doc.id, doc.to_dict() or {}) for doc in docs)
        return sorted(found, key=lambda r: (r.created_at, r.key_hash), reverse=True)

    def create_api_key(self, record: ApiKeyRecord, entry: AuditEntry) -> None:
        batch = self._client.batch()
        batch.create(self._keys.document(record.key_hash), api_key_to_doc(record))
        batch.set(*audit_ref(self._client, entry))
        self.stats.add(commits=1)
        batch.commit()
        self.stats.add(writes=2)

    def revoke_api_key(self, key_hash: str, at: dt.datetime, entry: AuditEntry) -> None:
        batch = self._client.batch()
        batch.update(self._keys.document(key_hash), {"revoked": True, "revoked_at": _ts(at)})
        batch.set(*audit_ref(self._client, entry))
        self.stats.add(commits=1)
        batch.commit()
        self.stats.add(writes=2)


# The queries of this module, for tests/unit/test_firestore_indexes.py: an equality (or
# ``in``) filter alone needs no composite index.
SINGLE_FIELD_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "API keys of some agencies",
        lambda client: api_keys_query(client.collection(API_KEYS), ["a", "b"]),
    ),
    (
        "signing secrets still in clear",
        lambda client: clear_secrets_query(client.collection(AGENCY_SECRETS), 500),
    ),
)
