"""The change log on Firestore: the AuditLog port.

Layout: ``audit_log/{random id}``, one document per entry (random ids spread the writes
over the key space). An adapter that makes a change writes the entry IN THE SAME
COMMIT: ``batch.set(*audit_ref(client, entry))`` or, in a transaction,
``transaction.set(...)`` with ``audit_document(entry)``, so a change and its record land
together or not at all. ``record`` is for what changes nothing else (an identity view).

Reads are newest first, ``(at desc, __name__ desc)``, cursor-paged on both; an agency's
log and a filter on kinds need the composite indexes in infra/firestore_indexes.json
(``COMPOSITE_QUERIES`` below; tests/unit/test_firestore_indexes.py checks them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import SCHEMA_VERSION, StoreStats, _check_version, _ts, _utc
from shared.adapters.firestore_outage import translates_outages
from shared.ports import AuditEntry, AuditPage

AUDIT_LOG = "audit_log"
IN_LIMIT = 30  # values in one Firestore "in" filter

Doc = dict[str, Any]


def audit_to_doc(entry: AuditEntry) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "at": _ts(entry.at),
        "agency_id": entry.agency_id,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "kind": entry.kind,
        "target": entry.target,
        "details": {str(k): str(v) for k, v in entry.details.items()},
    }


def audit_from_doc(entry_id: str, doc: Mapping[str, Any]) -> AuditEntry:
    _check_version(doc, f"{AUDIT_LOG}/{entry_id}")
    return AuditEntry(
        at=_utc(doc["at"]),
        agency_id=str(doc["agency_id"]),
        actor_id=str(doc["actor_id"]),
        actor_name=str(doc.get("actor_name", "")),
        kind=str(doc["kind"]),
        target=str(doc["target"]),
        details={str(k): str(v) for k, v in (doc.get("details") or {}).items()},
    )


def audit_document(entry: AuditEntry) -> tuple[str, Doc]:
    """A new entry's document id and data, for an adapter to write in its own commit
    (``collection(AUDIT_LOG).document(id)``). A transaction that runs again makes a new
    id; only the attempt that commits leaves its entry."""
    return uuid.uuid4().hex, audit_to_doc(entry)


def audit_ref(client: firestore.Client, entry: AuditEntry) -> tuple[Any, Doc]:
    """``(document reference, data)`` of a new entry: ``batch.set(*audit_ref(...))``."""
    entry_id, data = audit_document(entry)
    return client.collection(AUDIT_LOG).document(entry_id), data


def _one_of(field: str, values: frozenset[str]) -> FieldFilter:
    """``==`` for one value (what most pages ask), ``in`` for several."""
    if len(values) == 1:
        return FieldFilter(field, "==", next(iter(values)))
    return FieldFilter(field, "in", sorted(values))


def audit_entries_query(
    log: Any,
    agency_id: str | frozenset[str] | None,
    kinds: frozenset[str] | None,
    limit: int,
    after: tuple[str, str] | None,
) -> Any:
    """Newest first; needs (agency_id, at desc), (kind, at desc) or (agency_id, kind,
    at desc) when filtered (an ``in`` uses the index of its ``==``), the automatic index
    on ``at`` when not. Firestore allows 30 disjunctions: agencies times kinds."""
    agencies = frozenset({agency_id}) if isinstance(agency_id, str) else agency_id
    if agencies == frozenset() or kinds == frozenset():
        raise ValueError("an empty filter matches nothing (None: no filter)")
    if max(len(agencies or ()), 1) * max(len(kinds or ()), 1) > IN_LIMIT:
        raise ValueError(f"at most {IN_LIMIT} agencies times kinds (Firestore's disjunctions)")
    query = log
    if agencies is not None:
        query = query.where(filter=_one_of("agency_id", agencies))
    if kinds is not None:
        query = query.where(filter=_one_of("kind", kinds))
    descending = firestore.Query.DESCENDING
    query = query.order_by("at", direction=descending).order_by("__name__", direction=descending)
    if after is not None:
        at, entry_id = after
        query = query.start_after({"at": _ts(dt.datetime.fromisoformat(at)), "__name__": entry_id})
    return query.limit(limit)


@translates_outages
class FirestoreAuditLog:
    def __init__(self, client: firestore.Client, stats: StoreStats | None = None) -> None:
        self._client = client
        self._log = client.collection(AUDIT_LOG)
        self.stats = stats or StoreStats()

    def record(self, entry: AuditEntry) -> None:
        entry_id, data = audit_document(entry)
        self.stats.add(commits=1)
        self._log.document(entry_id).create(data)
        self.stats.add(writes=1)

    def entries(
        self,
        agency_id: str | frozenset[str] | None,
        kinds: frozenset[str] | None,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> AuditPage:
        query = audit_entries_query(self._log, agency_id, kinds, limit + 1, after)
        docs = list(query.stream())
        self.stats.add(reads=max(1, len(docs)))
        shown = docs[:limit]
        entries = [audit_from_doc(doc.id, doc.to_dict() or {}) for doc in shown]
        next_after = None
        if len(docs) > limit and shown:
            next_after = (entries[-1].at.isoformat(), shown[-1].id)
        return AuditPage(entries, next_after)


_SOME_KINDS = frozenset({"identity.viewed"})
_CURSOR = ("2025-01-01T00:00:00+00:00", "e")

# The queries of this module, for tests/unit/test_firestore_indexes.py (as in
# shared.adapters.firestore).
COMPOSITE_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "change log of an agency, newest first",
        lambda client: audit_entries_query(client.collection(AUDIT_LOG), "a", None, 1, _CURSOR),
    ),
    (
        "change log of some kinds, newest first",
        lambda client: audit_entries_query(
            client.collection(AUDIT_LOG), None, _SOME_KINDS, 1, None
        ),
    ),
    (
        "change log of an agency and its units, newest first",
        lambda client: audit_entries_query(
            client.collection(AUDIT_LOG), frozenset({"a", "u"}), None, 1, _CURSOR
        ),
    ),
    (
        "identity views of an agency and its units, newest first",
        lambda client: audit_entries_query(
            client.collection(AUDIT_LOG), frozenset({"a", "u"}), _SOME_KINDS, 1, None
        ),
    ),
    (
        "change log of some kinds of an agency, newest first",
        lambda client: audit_entries_query(
            client.collection(AUDIT_LOG), "a", _SOME_KINDS, 1, _CURSOR
        ),
    ),
)
SINGLE_FIELD_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "change log of every agency, newest first",
        lambda client: audit_entries_query(client.collection(AUDIT_LOG), None, None, 1, _CURSOR),
    ),
)
