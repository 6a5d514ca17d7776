"""The running reference data on Firestore: the ReferenceSource and ReferenceAdminStore
ports.

Layout:

- ``agencies/{id}``: an agency's reference fields (``id``, ``name``, ``short_name``,
  ``kind``, ``parent``, ``region``, ``categories``) and its ``notification`` channels,
  which its admin sets (shared.adapters.firestore_agency_admin) and notify reads;
- ``routing_rules/{id}``: ``id``, ``category``, ``region``, ``agency``;
- ``reference_meta/current``: ``version`` (an int), ``seeded`` (true once tools.seed
  has copied the bundled files), ``updated_at``. Every change of an agency or a rule
  moves ``version`` in the same commit (:func:`bump_version`): it is what the
  instances watch;
- ``routing_stats/{rule id}``: a rule's running totals, moved by the transitions
  (shared.usecases.counters); deleting a rule leaves them.

An instance serves the reference it built (:class:`FirestoreReferenceSource`). At most
every ``refresh_s`` it reads the version document (one read) and, only when the
version moved, both collections in one read-only transaction, building a Reference
from them and the bundled regions and categories, checked as the bundled files are.
An environment never seeded runs on the bundled files. A stored reference that fails
the checks (a hand edit in the Firestore console) is logged as an error and the last
good one is kept (the bundled files before the first): a typo must not stop routing.

Edits (:class:`FirestoreReferenceAdminStore`) read the version document and both
collections in a transaction and commit the document, ``version + 1`` and the
change-log entry together (a new agency's webhook signing secret too), so two admins
editing at once cannot lose an edit, and a change and its record land together or not
at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.api_core.exceptions import GoogleAPIError
from google.cloud import firestore
from pydantic import ValidationError

from shared.adapters.firestore import AGENCIES, AGENCY_SECRETS, StoreStats
from shared.adapters.firestore_audit import AUDIT_LOG, audit_document
from shared.adapters.firestore_outage import translates_outages
from shared.adapters.signing_secrets import seal_secret, signing_sealer_from_settings
from shared.adapters.webhooks import new_secret
from shared.ports import ReferenceEdit, ReferenceNotSeeded, Sealer, StoredReference
from shared.reference import Agency, Notification, Reference, RoutingRule
from shared.usecases.counters import ROUTING_STATS

ROUTING_RULES = "routing_rules"
REFERENCE_META = "reference_meta"
CURRENT = "current"

# The agency fields the reference holds and the console edits; ``notification`` is the
# agency admin's (read into the reference, never written by a reference edit).
AGENCY_FIELDS = ("id", "name", "short_name", "kind", "parent", "region", "categories")
RULE_FIELDS = ("id", "category", "region", "agency")
# ``email``: the single address agencies were seeded with before ``emails`` (Notification reads it).
_NOTIFICATION_FIELDS = (*Notification.model_fields, "email")

Doc = dict[str, Any]
log = logging.getLogger("lapor.reference")


def agency_to_doc(agency: Agency) -> Doc:
    """The reference fields of an agency (its channels are not among them)."""
    data = agency.model_dump(mode="json")
    return {name: data[name] for name in AGENCY_FIELDS}


def rule_to_doc(rule: RoutingRule) -> Doc:
    return rule.model_dump(mode="json")


def agency_from_doc(doc: Mapping[str, Any]) -> Agency:
    """The agency a stored document describes; fields the reference does not know
    (anything another part of the console keeps on the document) are left out."""
    data = {name: doc[name] for name in AGENCY_FIELDS if name in doc}
    notification = doc.get("notification")
    if isinstance(notification, Mapping):
        data["notification"] = {
            name: notification[name] for name in _NOTIFICATION_FIELDS if name in notification
        }
    return Agency.model_validate(data)


def rule_from_doc(doc: Mapping[str, Any]) -> RoutingRule:
    return RoutingRule.model_validate({name: doc[name] for name in RULE_FIELDS if name in doc})


def bump_version(writer: Any, client: firestore.Client, at: dt.datetime) -> None:
    """Stage ``version + 1`` on ``writer`` (a batch or a transaction), for a commit that
    changes what the reference holds without reading the version (an agency's
    channels, say): every instance then reloads within ``reference_refresh_s``. An
    environment not seeded stays so (``seeded`` is only ever set by tools.seed)."""
    writer.set(
        client.collection(REFERENCE_META).document(CURRENT),
        {"version": firestore.Increment(1), "updated_at": at},
        merge=True,
    )


def _meta_version(snap: Any) -> int:
    """The stored version, 0 when the reference was never seeded."""
    doc = (snap.to_dict() or {}) if snap.exists else {}
    return int(doc.get("version", 0)) if doc.get("seeded") else 0


def _read_stored(client: firestore.Client, transaction: Any, stats: StoreStats) -> StoredReference:
    meta = client.collection(REFERENCE_META).document(CURRENT).get(transaction=transaction)
    version = _meta_version(meta)
    if version == 0:
        stats.add(reads=1)
        return StoredReference(0, (), ())
    agencies = list(client.collection(AGENCIES).stream(transaction=transaction))
    rules = list(client.collection(ROUTING_RULES).stream(transaction=transaction))
    stats.add(reads=1 + max(1, len(agencies)) + max(1, len(rules)))
    return StoredReference(
        version,
        tuple(agency_from_doc(snap.to_dict() or {}) for snap in agencies),
        tuple(rule_from_doc(snap.to_dict() or {}) for snap in rules),
    )


@translates_outages
class FirestoreReferenceSource:
    """The ReferenceSource port: the reference of the stored version, re-checked at
    most every ``refresh_s`` seconds (``monotonic`` is the time it goes by)."""

    def __init__(
        self,
        client: firestore.Client,
        bundled: Reference,
        refresh_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._bundled = bundled
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._reference = bundled
        self._version = 0
        self._checked_at: float | None = None
        self.stats = StoreStats()

    @property
    def version(self) -> int:
        """The version of the reference served (0: the bundled files)."""
        return self._version

    def current(self) -> Reference:
        with self._lock:
            now = self._monotonic()
            if self._checked_at is None or now - self._checked_at >= self._refresh_s:
                try:
                    self._refresh()
                except GoogleAPIError as failed:
                    if self._checked_at is None:
                        raise  # nothing loaded yet: acting on the bundled files could misroute
                    # Firestore unreachable on a warm instance: the last good reference is
                    # better than failing every request; the next check tries again.
                    log.error(
                        "reference check failed; serving the reference in use",
                        extra={"in_use": self._version, "error": str(failed)},
                    )
                self._checked_at = now
            return self._reference

    def _refresh(self) -> None:
        meta = self._client.collection(REFERENCE_META).document(CURRENT).get()
        self.stats.add(reads=1)
        version = _meta_version(meta)
        if version == self._version:
            return
        if version == 0:  # the version document went away: back to the bundled files
            self._reference, self._version = self._bundled, 0
            return
        try:
            stored = self._load()
            reference = self._bundled.with_agencies_and_rules(stored.agencies, stored.rules)
        except ValidationError as invalid:
            log.error(
                "stored reference data is invalid; keeping the reference in use",
                extra={"version": version, "in_use": self._version, "error": str(invalid)},
            )
            self._version = version  # looked at: not again until it moves
            return
        self._reference, self._version = reference, stored.version

    def _load(self) -> StoredReference:
        @firestore.transactional
        def read(transaction: firestore.Transaction) -> StoredReference:
            return _read_stored(self._client, transaction, self.stats)

        stored: StoredReference = read(self._client.transaction(read_only=True))
        return stored


@translates_outages
class FirestoreReferenceAdminStore:
    """The ReferenceAdminStore port."""

    def __init__(
        self,
        client: firestore.Client,
        signing_sealer: Callable[[], Sealer] = signing_sealer_from_settings,
    ) -> None:
        """``signing_sealer`` seals a new agency's signing secret (the public keyset)."""
        self._client = client
        self._meta = client.collection(REFERENCE_META).document(CURRENT)
        self._agencies = client.collection(AGENCIES)
        self._rules = client.collection(ROUTING_RULES)
        self._secrets = client.collection(AGENCY_SECRETS)
        self._signing_sealer = signing_sealer
        self.stats = StoreStats()

    def stored(self) -> StoredReference:
        @firestore.transactional
        def read(transaction: firestore.Transaction) -> StoredReference:
            return _read_stored(self._client, transaction, self.stats)

        stored: StoredReference = read(self._client.transaction(read_only=True))
        return stored

    def edit(self, decide: Callable[[StoredReference], ReferenceEdit]) -> ReferenceEdit:
        """1 transaction: the version document and both collections read, 3 writes (the
        document, the version, the entry)."""

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> ReferenceEdit:
            stored = _read_stored(self._client, transaction, self.stats)
            if stored.version == 0:
                raise ReferenceNotSeeded
            edit = decide(stored)
            writes[:] = [self._stage(transaction, edit, stored)]
            return edit

        writes: list[int] = []
        edit: ReferenceEdit = run(self._client.transaction())
        self.stats.add(commits=1, writes=writes[0], deletes=1 if edit.deleted_rule else 0)
        return edit

    def _stage(self, transaction: Any, edit: ReferenceEdit, stored: StoredReference) -> int:
        """Stage the edit; returns how many documents it writes."""
        writes = 2  # the version and the entry
        if edit.agency is not None:
            # merge: the agency's channels (``notification``) are its admin's to set.
            ref = self._agencies.document(edit.agency.id)
            transaction.set(ref, agency_to_doc(edit.agency), merge=True)
            writes += 1
            if all(a.id != edit.agency.id for a in stored.agencies):
                # A new agency gets its webhook signing secret with it, as seeded ones
                # do: sealed, and shown to nobody (its admin rotates it to learn one).
                sealed = seal_secret(new_secret(), edit.agency.id, self._signing_sealer())
                secret = {"schema_version": 1, "sealed_secret": sealed, "created_at": edit.entry.at}
                transaction.set(self._secrets.document(edit.agency.id), secret)
                writes += 1
        if edit.rule is not None:
            transaction.set(self._rules.document(edit.rule.id), rule_to_doc(edit.rule))
            writes += 1
        if edit.deleted_rule is not None:
            transaction.delete(self._rules.document(edit.deleted_rule))
            writes += 1
        transaction.set(
            self._meta, {"version": stored.version + 1, "updated_at": edit.entry.at}, merge=True
        )
        entry_id, entry = audit_document(edit.entry)
        transaction.set(self._client.collection(AUDIT_LOG).document(entry_id), entry)
        return writes

    def rule_stats(self, rule_ids: Sequence[str]) -> dict[str, Mapping[str, int]]:
        if not rule_ids:
            return {}
        stats = self._client.collection(ROUTING_STATS)
        snaps = list(self._client.get_all([stats.document(rule_id) for rule_id in rule_ids]))
        self.stats.add(reads=len(rule_ids))
        found: dict[str, Mapping[str, int]] = {}
        for snap in snaps:
            if snap.exists:
                doc = snap.to_dict() or {}
                found[snap.id] = {
                    name: int(value)
                    for name, value in doc.items()
                    if isinstance(value, int) and not isinstance(value, bool)
                }
        return found
