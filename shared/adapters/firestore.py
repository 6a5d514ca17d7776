"""The report store on Firestore: the ReportStore port, one commit per submission.

Layout (every id is random or a keyed hash, so writes spread over the key space):

- ``reports/{random id}``: the report, without the reporter's identity
- ``reports/{id}/events/{seq:06d}``: the immutable timeline
- ``identities/{report id}``: who reported and how to reach them, apart from the report,
  sealed (shared/adapters/crypto.py): only the functions holding the private keyset read it
- ``outbox/{message id}``: events not yet settled; a transition that settles one
  deletes it, so the outbox holds only what the sweeper may still have to publish
- ``idempotency/{key hash}``: replays of a submission; ``expires_at`` feeds a TTL policy
- ``tracking_codes/{code}``: the claim that makes a tracking code unique
- ``rate_limits/{client}:{window}:{slot}``: one per accepted submission, claimed with
  a create precondition so the per-client limit costs no read (TTL on ``expires_at``)

The mapping between domain objects and documents is explicit (``*_to_doc`` /
``*_from_doc``): dates are ``YYYY-MM-DD`` strings (they sort and compare as dates),
datetimes are Firestore timestamps and always come back tz-aware UTC, enums are their
values, and every document carries ``schema_version`` so a later migration can tell
old documents from new ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from google.api_core.exceptions import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InternalServerError,
    NotFound,
    ServiceUnavailable,
)
from google.api_core.retry import Retry, if_exception_type
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore_outage import translates_outages
from shared.adapters.signing_secrets import stored_secrets
from shared.domain import chain, contact
from shared.domain.figures import UNROUTED, days_id_range, scope_for, unrouted_scope
from shared.domain.privacy import Language, ReporterIdentity
from shared.domain.report import (
    Action,
    ActionKey,
    Actor,
    AdminQueue,
    Attachment,
    ClosedBy,
    ContactErasedBy,
    GeoPoint,
    Priority,
    Region,
    Report,
    ReportType,
    Role,
    State,
    TimelineEvent,
)
from shared.domain.retention import ended_at
from shared.ports import (
    SETTLED,
    AgencyChannel,
    ApiKeyRecord,
    Change,
    ChannelDelivery,
    Delivery,
    DeliveryChannel,
    DeliveryClaim,
    DeliveryPage,
    DeliveryStatus,
    Digest,
    DuePage,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    InboxPage,
    InboxQuery,
    NewSubmission,
    OptOut,
    OutboxMessage,
    PublicReport,
    PublicReportPage,
    RateSlot,
    RateSlotTaken,
    ReportNotFound,
    Scope,
    Sealer,
    Snapshot,
    StoreBusy,
    Tally,
    TrackingCodeTaken,
)
from shared.reference import stored_emails

SCHEMA_VERSION = 1

REPORTS = "reports"
EVENTS = "events"
IDENTITIES = "identities"
OUTBOX = "outbox"
IDEMPOTENCY = "idempotency"
TRACKING_CODES = "tracking_codes"
RATE_LIMITS = "rate_limits"
# On the report document: the hash of its last event, so the next event is chained to
# it without reading that event (shared.domain.chain). Absent on reports whose events
# were all written before the chain existed.
TIMELINE_HEAD = "timeline_head"

Doc = dict[str, Any]


# --- values ---------------------------------------------------------------------------


def _ts(value: dt.datetime) -> dt.datetime:
    """A datetime as Firestore stores it. Naive datetimes are refused, not guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the domain works in aware datetimes")
    return value.astimezone(dt.UTC)


def _opt_ts(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _ts(value)


def _utc(value: Any) -> dt.datetime:
    """A timestamp read back (DatetimeWithNanoseconds) as a plain aware UTC datetime."""
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a timestamp, got {type(value).__name__}")
    v = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime(
        v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=dt.UTC
    )


def _opt_utc(value: Any) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _day(value: dt.date) -> str:
    return value.isoformat()


def _opt_day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def _opt_from_day(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value))


def _check_version(doc: Mapping[str, Any], what: str) -> None:
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"{what} has schema_version {version!r}, expected {SCHEMA_VERSION}")


# --- reports --------------------------------------------------------------------------

# Report fields that are not stored under their own name: the id is the document id,
# the region is flattened so it can be filtered on.
_REPORT_FIELDS_NOT_STORED = frozenset({"id", "region"})


def _admin_queue_to_doc(queue: AdminQueue | None) -> Doc | None:
    if queue is None:
        return None
    return {
        "reason": queue.reason,
        "suggested_agency_id": queue.suggested_agency_id,
        "confidence": queue.confidence,
    }


def _admin_queue_from_doc(doc: Any) -> AdminQueue | None:
    if not doc:
        return None
    confidence = doc.get("confidence")
    return AdminQueue(
        reason=str(doc["reason"]),
        suggested_agency_id=doc.get("suggested_agency_id"),
        confidence=float(confidence) if confidence is not None else None,
    )


def _point_to_doc(point: GeoPoint | None) -> Doc | None:
    if point is None:
        return None
    return {"latitude": point.latitude, "longitude": point.longitude}


def _point_from_doc(doc: Any) -> GeoPoint | None:
    if not doc:
        return None
    return GeoPoint(float(doc["latitude"]), float(doc["longitude"]))


def _attachment_to_doc(attachment: Attachment) -> Doc:
    return {
        "id": attachment.id,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "added_seq": attachment.added_seq,
        "added_by": attachment.added_by.value,
        "width": attachment.width,
        "height": attachment.height,
        "pages": attachment.pages,
        "has_thumbnail": attachment.has_thumbnail,
    }


def _attachment_from_doc(doc: Mapping[str, Any]) -> Attachment:
    return Attachment(
        id=str(doc["id"]),
        media_type=str(doc["media_type"]),
        size=int(doc["size"]),
        added_seq=int(doc["added_seq"]),
        added_by=Role(doc["added_by"]),
        width=int(doc.get("width", 0)),
        height=int(doc.get("height", 0)),
        pages=int(doc.get("pages", 0)),
        has_thumbnail=bool(doc.get("has_thumbnail", False)),
    )


def report_to_doc(report: Report) -> Doc:
    """The report document. Absent values are stored as null so every document has the
    same fields (and ``where("agency_id", "==", None)`` finds unrouted reports)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tracking_code": report.tracking_code,
        "type": report.type.value,
        "title": report.title,
        "description": report.description,
        "category": report.category,
        "province_code": report.region.province_code,
        "regency_code": report.region.regency_code,
        "district_code": report.region.district_code,
        "village_code": report.region.village_code,
        "address": report.address,
        "point": _point_to_doc(report.point),
        "show_attachments": report.show_attachments,
        "attachments": [_attachment_to_doc(a) for a in report.attachments],
        # Maps, not pairs: Firestore holds no array directly inside an array.
        "action_keys": [
            {"key_hash": k.key_hash, "fingerprint": k.fingerprint, "seq": k.seq}
            for k in report.action_keys
        ],
        "incident_date": _opt_day(report.incident_date),
        "target_agency_id": report.target_agency_id,
        "anonymous": report.anonymous,
        "confidential": report.confidential,
        "state": report.state.value,
        "submitted_at": _ts(report.submitted_at),
        "updated_at": _ts(report.updated_at),
        "verify_due": _day(report.verify_due),
        "resolve_due": _opt_day(report.resolve_due),
        "last_seq": report.last_seq,
        "agency_id": report.agency_id,
        "unit_id": report.unit_id,
        "routing_method": report.routing_method,
        "routing_rule_id": report.routing_rule_id,
        "rejected_by": list(report.rejected_by),
        "admin_queue": _admin_queue_to_doc(report.admin_queue),
        "verify_started_at": _opt_ts(report.verify_started_at),
        "dispositioned_at": _opt_ts(report.dispositioned_at),
        "clock_due": _opt_day(report.clock_due),
        "clock_id": report.clock_id,
        "escalations": list(report.escalations),
        # Derived from escalations, stored so an inbox can filter on them.
        "escalation_tier": report.escalation_tier,
        "escalated": report.escalated,
        "next_due_on": _opt_day(report.next_due_on),
        "paused_working_days": report.paused_working_days,
        "on_hold_since": _opt_ts(report.on_hold_since),
        "on_hold_by": report.on_hold_by,
        "first_response_at": _opt_ts(report.first_response_at),
        "disposition_followed_up_at": _opt_ts(report.disposition_followed_up_at),
        "resolved_at": _opt_ts(report.resolved_at),
        "auto_close_due": _opt_day(report.auto_close_due),
        "closed_at": _opt_ts(report.closed_at),
        "closed_by": report.closed_by.value if report.closed_by else None,
        "rating": report.rating,
        "reopen_count": report.reopen_count,
        "assignee_id": report.assignee_id,
        "assignee_name": report.assignee_name,
        "priority": report.priority.value,
        "contact_erased": report.contact_erased.value if report.contact_erased else None,
        # Derived (shared.domain.retention), stored for the retention job's query.
        "identity_held": report.contact_erased is None,
        "ended_at": _opt_ts(ended_at(report)),
    }


def report_from_doc(report_id: str, doc: Mapping[str, Any]) -> Report:
    _check_version(doc, f"reports/{report_id}")
    return Report(
        id=report_id,
        tracking_code=doc["tracking_code"],
        type=ReportType(doc["type"]),
        title=doc["title"],
        description=doc["description"],
        category=doc["category"],
        region=Region(
            doc["province_code"],
            doc.get("regency_code"),
            doc.get("district_code"),
            doc.get("village_code"),
        ),
        # Documents written before places and files were kept have neither.
        address=doc.get("address"),
        point=_point_from_doc(doc.get("point")),
        show_attachments=bool(doc.get("show_attachments", False)),
        attachments=tuple(_attachment_from_doc(a) for a in doc.get("attachments") or ()),
        action_keys=tuple(
            ActionKey(str(k["key_hash"]), str(k["fingerprint"]), int(k["seq"]))
            for k in doc.get("action_keys") or ()
        ),
        incident_date=_opt_from_day(doc.get("incident_date")),
        target_agency_id=doc.get("target_agency_id"),
        anonymous=bool(doc["anonymous"]),
        confidential=bool(doc["confidential"]),
        state=State(doc["state"]),
        submitted_at=_utc(doc["submitted_at"]),
        updated_at=_utc(doc["updated_at"]),
        verify_due=_from_day(doc["verify_due"]),
        resolve_due=_opt_from_day(doc.get("resolve_due")),
        last_seq=int(doc["last_seq"]),
        agency_id=doc.get("agency_id"),
        unit_id=doc.get("unit_id"),
        routing_method=doc.get("routing_method"),
        routing_rule_id=doc.get("routing_rule_id"),
        rejected_by=tuple(str(agency) for agency in doc.get("rejected_by") or ()),
        admin_queue=_admin_queue_from_doc(doc.get("admin_queue")),
        # A document written before the clocks were kept: its verification clock ran
        # from the submission, and nothing is pending for the daily run.
        verify_started_at=_opt_utc(doc.get("verify_started_at", doc["submitted_at"])),
        dispositioned_at=_opt_utc(doc.get("dispositioned_at")),
        clock_due=_opt_from_day(doc.get("clock_due")),
        clock_id=doc.get("clock_id"),
        escalations=tuple(str(tier) for tier in doc.get("escalations") or ()),
        next_due_on=_opt_from_day(doc.get("next_due_on")),
        paused_working_days=int(doc.get("paused_working_days", 0)),
        on_hold_since=_opt_utc(doc.get("on_hold_since")),
        on_hold_by=doc.get("on_hold_by"),
        first_response_at=_opt_utc(doc.get("first_response_at")),
        disposition_followed_up_at=_opt_utc(doc.get("disposition_followed_up_at")),
        resolved_at=_opt_utc(doc.get("resolved_at")),
        auto_close_due=_opt_from_day(doc.get("auto_close_due")),
        closed_at=_opt_utc(doc.get("closed_at")),
        closed_by=ClosedBy(doc["closed_by"]) if doc.get("closed_by") else None,
        rating=doc.get("rating"),
        reopen_count=int(doc.get("reopen_count", 0)),
        assignee_id=doc.get("assignee_id"),
        assignee_name=doc.get("assignee_name"),
        priority=Priority(doc.get("priority") or Priority.NORMAL.value),
        contact_erased=(
            ContactErasedBy(doc["contact_erased"]) if doc.get("contact_erased") else None
        ),
    )


def report_doc_fields() -> frozenset[str]:
    """The fields ``report_to_doc`` must write: a test checks it against the dataclass."""
    return (frozenset(f.name for f in fields(Report)) - _REPORT_FIELDS_NOT_STORED) | {
        "province_code",
        "regency_code",
        "district_code",
        "village_code",
        "schema_version",
        "escalation_tier",
        "escalated",
        "identity_held",
        "ended_at",
    }


# --- timeline events ------------------------------------------------------------------


def event_id(seq: int) -> str:
    """Zero-padded so the document ids sort in timeline order too."""
    return f"{seq:06d}"


def event_to_doc(event: TimelineEvent) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "seq": event.seq,
        "action": event.action.value,
        "at": _ts(event.at),
        "actor_role": event.actor.role.value,
        "actor_id": event.actor.id,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "reason": event.reason,
        "message": event.message,
        "data": dict(event.data),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "salt": event.salt,
    }


def event_from_doc(doc: Mapping[str, Any]) -> TimelineEvent:
    _check_version(doc, "timeline event")
    from_state = doc.get("from_state")
    return TimelineEvent(
        seq=int(doc["seq"]),
        action=Action(doc["action"]),
        at=_utc(doc["at"]),
        actor=Actor(Role(doc["actor_role"]), doc["actor_id"]),
        from_state=State(from_state) if from_state is not None else None,
        to_state=State(doc["to_state"]),
        reason=doc.get("reason"),
        message=doc.get("message"),
        data=MappingProxyType(dict(doc.get("data") or {})),
        # Events written before the chain have none of the three: legacy, not chained.
        prev_hash=doc.get("prev_hash"),
        hash=doc.get("hash"),
        salt=doc.get("salt"),
    )


def chained(event: TimelineEvent, head: str | None) -> TimelineEvent:
    """The event sealed onto the chain whose last hash is ``head`` (None: the report has
    no chained event yet), with a fresh secret salt."""
    return chain.seal(event, chain.GENESIS if head is None else head, secrets.token_hex(16))


@dataclass(frozen=True)
class _Version:
    """A report's version (``Snapshot.version``) as this store knows it: the document's
    update time (the precondition of a commit without a read) and its timeline head."""

    update_time: Any
    timeline_head: str | None


# --- the other documents --------------------------------------------------------------


def identity_context(report_id: str) -> bytes:
    """What a sealed identity is bound to: its own document, so it opens nowhere else."""
    return f"{IDENTITIES}/{report_id}".encode()


# Identities from version 2 on keep, beside the seal, a keyed digest of each contact and
# a mask of each field (shared.domain.contact), so the submit function, which cannot
# open the seal, still matches a lost-link request and shows the reporter their own
# details masked. Older ones (1) lack them: tools/seal_identities.py brings them up.
IDENTITY_SCHEMA_VERSION = 2


def identity_to_doc(
    identity: ReporterIdentity, report_id: str, sealer: Sealer, contact_key: bytes
) -> Doc:
    # Everything personal goes inside the seal; beside it only what says nothing alone.
    fields = {
        "name": identity.name,
        "email": identity.email,
        "phone": identity.phone,
        "language": identity.language,
    }
    plaintext = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    shown = contact.masked(identity)
    return {
        "schema_version": IDENTITY_SCHEMA_VERSION,
        "sealed": sealer.seal(plaintext, identity_context(report_id)),
        "contact_digests": contact.digests(contact_key, identity),
        "masked": {"name": shown.name, "email": shown.email, "phone": shown.phone},
        "language": identity.language,
    }


def identity_from_doc(doc: Mapping[str, Any], report_id: str, sealer: Sealer) -> ReporterIdentity:
    # Documents written before identities were sealed hold the fields in clear: they
    # still read, and stay in clear until a migration seals them (docs/personal-data.md).
    sealed = doc.get("sealed")
    fields = json.loads(sealer.open(sealed, identity_context(report_id))) if sealed else doc
    return ReporterIdentity(
        fields.get("name"), fields.get("email"), fields.get("phone"), _language(fields)
    )


def _language(fields: Mapping[str, Any]) -> Language:
    # Written before the language was kept: the form's default, Bahasa Indonesia.
    return "en" if fields.get("language") == "en" else "id"


def masked_identity_from_doc(doc: Mapping[str, Any]) -> ReporterIdentity | None:
    """The masked identity kept beside the seal; a clear (unsealed) document is masked
    as read; a sealed one from before masks were kept shows nothing (None)."""
    if "sealed" not in doc:
        return contact.masked(
            ReporterIdentity(doc.get("name"), doc.get("email"), doc.get("phone"), _language(doc))
        )
    shown = doc.get("masked")
    if not isinstance(shown, Mapping):
        return None
    return ReporterIdentity(
        shown.get("name"), shown.get("email"), shown.get("phone"), _language(doc)
    )


def stored_contact_digest(
    doc: Mapping[str, Any], channel: contact.Channel, contact_key: bytes
) -> str | None:
    """The digest of the contact on ``channel`` a document keeps (a clear document's
    is computed from its clear field); None when it keeps none."""
    if "sealed" not in doc:
        value = doc.get("email" if channel == "email" else "phone")
        return contact.contact_digest(contact_key, channel, value) if value else None
    kept = doc.get("contact_digests")
    return kept.get(channel) if isinstance(kept, Mapping) else None


def outbox_to_doc(message: OutboxMessage) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "topic": message.topic,
        "data": dict(message.data),
        "attributes": dict(message.attributes),
        "created_at": _ts(message.created_at),
        "status": "pending",
        "attempts": 0,
    }


def outbox_from_doc(message_id: str, doc: Mapping[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=message_id,
        topic=doc["topic"],
        data=dict(doc.get("data") or {}),
        attributes={str(k): str(v) for k, v in (doc.get("attributes") or {}).items()},
        created_at=_utc(doc["created_at"]),
    )


def idempotency_to_doc(record: IdempotencyRecord) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "fingerprint": record.fingerprint,
        "report_id": record.report_id,
        "tracking_code": record.tracking_code,
        "expires_at": _ts(record.expires_at),  # the TTL policy's field
    }


def idempotency_from_doc(key_hash: str, doc: Mapping[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        key_hash=key_hash,
        fingerprint=doc["fingerprint"],
        report_id=doc["report_id"],
        tracking_code=doc["tracking_code"],
        expires_at=_utc(doc["expires_at"]),
    )


# --- operation counts -----------------------------------------------------------------


@dataclass
class StoreStats:
    """What the store sent to Firestore, counted as Firestore bills it.

    ``commits``: commit RPCs sent (failed ones included). ``writes``: documents written
    by successful commits (one per write result the server returned; a field transform
    such as Increment rides in its document's write and costs nothing extra).
    ``reads``: documents read: one per document asked for in a lookup, found or not;
    per query, the documents returned, and at least one (an empty query is billed one).
    ``deletes``: of the writes, the documents deleted (billed at the delete price).
    """

    commits: int = 0
    writes: int = 0
    reads: int = 0
    deletes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, commits: int = 0, writes: int = 0, reads: int = 0, deletes: int = 0) -> None:
        with self._lock:
            self.commits += commits
            self.writes += writes
            self.reads += reads
            self.deletes += deletes

    def snapshot(self) -> StoreStats:
        with self._lock:
            return StoreStats(self.commits, self.writes, self.reads, self.deletes)

    def since(self, earlier: StoreStats) -> StoreStats:
        """The operations between ``earlier`` (a snapshot) and now."""
        now = self.snapshot()
        return StoreStats(
            now.commits - earlier.commits,
            now.writes - earlier.writes,
            now.reads - earlier.reads,
            now.deletes - earlier.deletes,
        )

    def reset(self) -> None:
        with self._lock:
            self.commits = self.writes = self.reads = self.deletes = 0


# --- the store ------------------------------------------------------------------------


def _change_writes(change: Change) -> int:
    """The documents a transition writes: the report, its event, the emitted and settled
    outbox entries and one per counter document its tallies move."""
    erased = 1 if change.event.action is Action.ERASE_CONTACT else 0
    return (
        2
        + len(change.outbox)
        + len(change.settle)
        + len(tally_updates(change.tallies))
        + erased
        + len(change.audit)
    )


def _snapshot(doc: Any) -> Snapshot:
    """A report document as a query returned it: the whole report, with its version."""
    data = doc.to_dict() or {}
    return Snapshot(
        report_from_doc(doc.id, data), _Version(doc.update_time, data.get(TIMELINE_HEAD))
    )


def tally_updates(tallies: Sequence[Tally]) -> dict[tuple[str, str], Doc]:
    """The tallies as one merge-set per counter document ``(collection, id)``: every field
    the commit moves in that document is an Increment of the one write (a field transform
    costs no write of its own), plus ``key``, the document's id, to read it back by."""
    updates: dict[tuple[str, str], Doc] = {}
    moved: dict[tuple[str, str, str], int] = {}
    for tally in tallies:
        moved[(tally.counter, tally.key, tally.field)] = (
            moved.get((tally.counter, tally.key, tally.field), 0) + tally.by
        )
    for (counter, key, field_name), by in moved.items():
        update = updates.setdefault((counter, key), {"key": key})
        update[field_name] = firestore.Increment(by)
    return updates


def _sealer_from_settings() -> Sealer:
    from shared.adapters.crypto import sealer_from_settings

    return sealer_from_settings()


def _contact_key_from_settings() -> bytes:
    from shared.adapters.crypto import contact_key_from_settings

    return contact_key_from_settings()


def _signing_sealer_from_settings() -> Sealer:
    from shared.adapters.signing_secrets import signing_sealer_from_settings

    return signing_sealer_from_settings()


def _contended(failed: BaseException) -> bool:
    """Whether a transaction failed only because others held the same documents: the
    client retries an aborted commit a few times, then raises ValueError from the last
    Aborted (a read can also abort with a lock timeout)."""
    return isinstance(failed, Aborted) or (
        isinstance(failed, ValueError) and isinstance(failed.__cause__, Aborted)
    )


@translates_outages
class FirestoreReportStore:
    def __init__(
        self,
        client: firestore.Client,
        sealer: Callable[[], Sealer] | None = None,
        contact_key: Callable[[], bytes] | None = None,
    ) -> None:
        """``sealer`` makes the identities' sealer on first use (by default from the
        settings' keysets), so a request that touches no identity loads no keys;
        ``contact_key`` likewise the key of contact digests (shared.domain.contact)."""
        self._client = client
        self._make_sealer = sealer or _sealer_from_settings
        self._make_contact_key = contact_key or _contact_key_from_settings
        self._reports = client.collection(REPORTS)
        self._identities = client.collection(IDENTITIES)
        self._outbox = client.collection(OUTBOX)
        self._idempotency = client.collection(IDEMPOTENCY)
        self._tracking_codes = client.collection(TRACKING_CODES)
        self._rate_limits = client.collection(RATE_LIMITS)
        self.stats = StoreStats()

    def new_report_id(self) -> str:
        # Random 20-character id made locally (no round trip); never sequential, so no
        # hot spot on the index and no volume leaked through ids.
        return str(self._reports.document().id)

    def create_submission(self, submission: NewSubmission) -> None:
        report, record, slot = submission.report, submission.idempotency, submission.rate_slot
        report_ref = self._reports.document(report.id)
        code_ref = self._tracking_codes.document(report.tracking_code)
        slot_ref = self._rate_limits.document(slot.id)
        idem_ref = self._idempotency.document(record.key_hash) if record else None
        event = chained(submission.event, None)
        batch = self._client.batch()
        batch.set(report_ref, {**report_to_doc(report), TIMELINE_HEAD: event.hash})
        batch.set(report_ref.collection(EVENTS).document(event_id(event.seq)), event_to_doc(event))
        batch.set(
            self._identities.document(report.id),
            identity_to_doc(submission.identity, report.id, self._sealer, self._contact_key),
        )
        for message in (submission.outbox, *submission.notifications):
            batch.set(self._outbox.document(message.id), outbox_to_doc(message))
        # The claims: any one taken fails the whole commit, and nothing is written.
        batch.create(code_ref, {"report_id": report.id, "created_at": _ts(report.submitted_at)})
        batch.create(slot_ref, self._rate_slot_doc(slot))
        if record is not None and idem_ref is not None:
            batch.create(idem_ref, idempotency_to_doc(record))
        for (counter, key), update in tally_updates(submission.tallies).items():
            batch.set(self._client.collection(counter).document(key), update, merge=True)
        self.stats.add(commits=1)
        try:
            results = batch.commit()
        except AlreadyExists as exc:
            # Which claim was taken? One round trip tells; a replay wins over the rest.
            refs = [ref for ref in (idem_ref, slot_ref) if ref is not None]
            taken = {
                snap.reference.path: snap for snap in self._client.get_all(refs) if snap.exists
            }
            self.stats.add(reads=len(refs))
            if idem_ref is not None and idem_ref.path in taken:
                previous = taken[idem_ref.path].to_dict() or {}
                raise IdempotencyKeyTaken(idempotency_from_doc(idem_ref.id, previous)) from exc
            if slot_ref.path in taken:
                raise RateSlotTaken(slot.id) from exc
            raise TrackingCodeTaken(report.tracking_code) from exc
        self.stats.add(writes=len(results))

    def taken_rate_slots(self, window_key: str) -> frozenset[int]:
        # Only after a refused commit: reads as many slots as the client has used.
        query = self._rate_limits.where(filter=FieldFilter("window", "==", window_key))
        docs = list(query.select(["slot"]).stream())
        self.stats.add(reads=max(1, len(docs)))
        return frozenset(int((doc.to_dict() or {}).get("slot", -1)) for doc in docs)

    def _rate_slot_doc(self, slot: RateSlot) -> Doc:
        return {"window": slot.window_key, "slot": slot.slot, "expires_at": _ts(slot.expires_at)}

    def claim_rate_slot(self, slot: RateSlot) -> None:
        self.stats.add(commits=1)
        try:
            self._rate_limits.document(slot.id).create(self._rate_slot_doc(slot))
        except AlreadyExists as exc:
            raise RateSlotTaken(slot.id) from exc
        self.stats.add(writes=1)

    def commit_link_resend(self, slot: RateSlot, message: OutboxMessage) -> None:
        batch = self._client.batch()
        batch.create(self._rate_limits.document(slot.id), self._rate_slot_doc(slot))
        batch.set(self._outbox.document(message.id), outbox_to_doc(message))
        self.stats.add(commits=1)
        try:
            results = batch.commit()
        except AlreadyExists as exc:
            raise RateSlotTaken(slot.id) from exc
        self.stats.add(writes=len(results))

    def find_by_tracking_code(self, tracking_code: str) -> Report | None:
        # A query on the report's own tracking_code field costs one read and one round
        # trip (served by the automatic single-field index); going through the
        # tracking_codes claim would cost two reads in two sequential round trips. The
        # claim exists to make codes unique at write time, not for lookups.
        query = self._reports.where(filter=FieldFilter("tracking_code", "==", tracking_code))
        found = list(query.limit(1).stream())
        self.stats.add(reads=max(1, len(found)))
        if not found:
            return None
        return report_from_doc(found[0].id, found[0].to_dict() or {})

    def get(self, report_id: str) -> Report | None:
        snap = self._reports.document(report_id).get()
        self.stats.add(reads=1)
        return report_from_doc(report_id, snap.to_dict() or {}) if snap.exists else None

    def timeline(self, report_id: str) -> Sequence[TimelineEvent]:
        events = self._reports.document(report_id).collection(EVENTS)
        docs = list(events.order_by("seq").stream())
        self.stats.add(reads=max(1, len(docs)))
        return [event_from_doc(doc.to_dict() or {}) for doc in docs]

    def first_chained_hash(self, report_id: str) -> str | None:
        """The hash of the report's first chained event (its ``prev_hash`` is the
        genesis): one query on the single-field index, one read."""
        events = self._reports.document(report_id).collection(EVENTS)
        docs = list(first_chained_event_query(events).stream())
        self.stats.add(reads=1)
        found = (docs[0].to_dict() or {}).get("hash") if docs else None
        return str(found) if found else None

    def identity(self, report_id: str) -> ReporterIdentity | None:
        snap = self._identities.document(report_id).get()
        self.stats.add(reads=1)
        if not snap.exists:
            return None
        return identity_from_doc(snap.to_dict() or {}, report_id, self._sealer)

    def masked_identity(self, report_id: str) -> ReporterIdentity | None:
        snap = self._identities.document(report_id).get()
        self.stats.add(reads=1)
        return masked_identity_from_doc(snap.to_dict() or {}) if snap.exists else None

    def contact_matches(self, report_id: str, channel: contact.Channel, value: str) -> bool:
        snap = self._identities.document(report_id).get()
        self.stats.add(reads=1)
        stored = stored_contact_digest(snap.to_dict() or {}, channel, self._contact_key)
        return contact.same_digest(
            stored, contact.contact_digest(self._contact_key, channel, value)
        )

    @functools.cached_property
    def _sealer(self) -> Sealer:
        return self._make_sealer()

    @functools.cached_property
    def _contact_key(self) -> bytes:
        return self._make_contact_key()

    def transition(
        self, report_id: str, decide: Callable[[Report], Change], known: Snapshot | None = None
    ) -> Change:
        """Decide a change of the report and commit it atomically, one of two ways.

        Either way it writes the whole report, creates the event document (a create: an
        event is never overwritten), writes the emitted outbox entries, deletes the
        settled ones and moves the tallies (running totals such as a rule's
        misroutings), in 1 commit of 2 + emitted + settled + tallied document writes
        (the settled entries are deletes); the change comes back with the report's new
        update time as its version.

        - With ``known`` still current: no read. The writes go in one batch whose
          report write holds only while the report's update time is still the
          snapshot's, so the whole batch fails if anything changed the report since.
        - Otherwise (no ``known``, a stale one, or ``decide`` refusing it): read,
          decide and write in one Firestore transaction (retried on contention), 1 read.
        """
        if known is not None:
            committed = self._commit_on_known(report_id, decide, known)
            if committed is not None:
                return committed
        return self._commit_in_transaction(report_id, decide)

    def _commit_on_known(
        self, report_id: str, decide: Callable[[Report], Change], known: Snapshot
    ) -> Change | None:
        """The change ``decide`` makes of ``known``, committed unless the report changed
        since; None when it was not committed (nothing is written then)."""
        try:
            change = decide(known.report)
        except Exception:
            # A refusal counts only on the current report, which this may not be.
            return None
        if not isinstance(known.version, _Version):
            return None  # not a version of this store's: read the report instead
        ref = self._reports.document(report_id)
        batch = self._client.batch()
        change = self._stage(batch, ref, change, known.version.timeline_head, known.version)
        self.stats.add(commits=1)
        try:
            results = batch.commit()
        except (FailedPrecondition, AlreadyExists, Aborted):
            # Nothing was written: the report changed since the snapshot (its event
            # number may be taken by now too), or a transaction held it (contention).
            return None
        self.stats.add(writes=_change_writes(change), deletes=len(change.settle))
        return replace(change, version=_Version(results[0].update_time, change.event.hash))

    def _commit_in_transaction(self, report_id: str, decide: Callable[[Report], Change]) -> Change:
        ref = self._reports.document(report_id)
        attempts = {"commits": 0, "writes": 0, "deletes": 0}

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> Change:
            snap = ref.get(transaction=transaction)
            self.stats.add(reads=1)
            if not snap.exists:
                raise ReportNotFound(report_id)
            doc = snap.to_dict() or {}
            change = decide(report_from_doc(report_id, doc))
            change = self._stage(transaction, ref, change, doc.get(TIMELINE_HEAD))
            # The wrapper commits right after this returns (and reruns us if aborted).
            attempts["commits"] += 1
            attempts["writes"] = _change_writes(change)
            attempts["deletes"] = len(change.settle)
            return change

        transaction = self._client.transaction()
        try:
            change: Change = run(transaction)
        except BaseException as failed:
            self.stats.add(commits=attempts["commits"])
            if _contended(failed):
                raise StoreBusy(report_id) from failed
            raise
        self.stats.add(
            commits=attempts["commits"], writes=attempts["writes"], deletes=attempts["deletes"]
        )
        assert transaction.write_results  # set by the commit; the report is its first write
        update_time = transaction.write_results[0].update_time
        return replace(change, version=_Version(update_time, change.event.hash))

    def _stage(
        self,
        writer: Any,
        ref: Any,
        change: Change,
        head: str | None,
        unchanged_since: _Version | None = None,
    ) -> Change:
        """Stage everything ``change`` writes on ``writer`` (a transaction or a batch),
        the report first, its event chained to ``head`` (the report's timeline head as
        read with it, so chaining costs no read); with ``unchanged_since``, the report
        write holds only while the report's update time is still that. Returns the
        change with its event as committed (chained)."""
        if change.report.id != ref.id or change.event.seq != change.report.last_seq:
            raise ValueError("a change must keep the report id and end at its event")
        change = replace(change, event=chained(change.event, head))
        doc = {**report_to_doc(change.report), TIMELINE_HEAD: change.event.hash}
        if unchanged_since is None:
            writer.set(ref, doc)
        else:
            # Only an update takes an update-time precondition; the document lists every
            # field (report_to_doc), so it replaces the report whole, as set does.
            option = self._client.write_option(last_update_time=unchanged_since.update_time)
            writer.update(ref, doc, option=option)
        writer.create(
            ref.collection(EVENTS).document(event_id(change.event.seq)),
            event_to_doc(change.event),
        )
        for message in change.outbox:
            writer.set(self._outbox.document(message.id), outbox_to_doc(message))
        for message_id in change.settle:
            writer.delete(self._outbox.document(message_id))
        for (counter, key), update in tally_updates(change.tallies).items():
            writer.set(self._client.collection(counter).document(key), update, merge=True)
        if change.event.action is Action.ERASE_CONTACT:
            writer.delete(self._identities.document(ref.id))
        if change.audit:
            # Imported here: the change log's adapter builds on this module.
            from shared.adapters.firestore_audit import audit_ref

            for entry in change.audit:
                writer.set(*audit_ref(self._client, entry))
        return change

    # --- routing and the outbox sweeper (route and sweep use cases) -------------------
    # Kept together so other additions to this class stay easy to tell apart.

    def pending_outbox_entry(self, message_id: str) -> OutboxMessage | None:
        """The outbox entry if it is still pending (1 read)."""
        snap = self._outbox.document(message_id).get()
        self.stats.add(reads=1)
        doc = snap.to_dict() or {} if snap.exists else {}
        if doc.get("status") != "pending":
            return None
        return outbox_from_doc(message_id, doc)

    def settle_outbox(self, message_ids: Sequence[str]) -> None:
        """Delete outbox entries the bus has accepted and nobody else settles."""
        for start in range(0, len(message_ids), _BATCH_LIMIT):
            batch = self._client.batch()
            chunk = message_ids[start : start + _BATCH_LIMIT]
            for message_id in chunk:
                batch.delete(self._outbox.document(message_id))
            self.stats.add(commits=1)
            batch.commit()
            self.stats.add(writes=len(chunk), deletes=len(chunk))

    def pending_outbox(self, created_before: dt.datetime, limit: int) -> list[OutboxMessage]:
        """Pending entries committed before ``created_before``, oldest first, at most
        ``limit`` (reads in proportion to the work; index: status, created_at)."""
        docs = list(pending_outbox_query(self._outbox, created_before, limit).stream())
        self.stats.add(reads=max(1, len(docs)))
        return [outbox_from_doc(doc.id, doc.to_dict() or {}) for doc in docs]

    def record_sweep(self, message_ids: Sequence[str], at: dt.datetime) -> None:
        """Count one more publish attempt on each entry (``attempts``, ``last_swept_at``).

        An update, not a set: an entry a consumer settled meanwhile stays deleted (the
        update fails for it, so each entry is written on its own, not in a batch).
        """
        for message_id in message_ids:
            try:
                self._outbox.document(message_id).update(
                    {"attempts": firestore.Increment(1), "last_swept_at": _ts(at)}
                )
            except NotFound:
                continue
            finally:
                self.stats.add(commits=1)
            self.stats.add(writes=1)

    # --- the daily escalation run (escalate use case) ----------------------------------

    def due_reports(
        self, on_or_before: dt.date, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        """One page of :func:`due_reports_query`: reads as many documents as it returns
        (at least one), never the reports with nothing due. Each comes whole, with its
        update time as its version: the run's first transition of it reads nothing."""
        docs = list(due_reports_query(self._reports, on_or_before, limit, after).stream())
        self.stats.add(reads=max(1, len(docs)))
        reports = tuple(_snapshot(doc) for doc in docs)
        last = docs[-1] if len(docs) == limit else None
        next_after = (str((last.to_dict() or {})["next_due_on"]), last.id) if last else None
        return DuePage(reports, next_after)

    # --- the retention job (retention use case) ----------------------------------------

    def identities_ended_before(
        self, before: dt.datetime, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        """One page of :func:`identities_ended_before_query`: reads as many documents as
        it returns (at least one), each whole with its version, so erasing it needs no
        read of its own."""
        query = identities_ended_before_query(self._reports, before, limit, after)
        docs = list(query.stream())
        self.stats.add(reads=max(1, len(docs)))
        last = docs[-1] if len(docs) == limit else None
        next_after = None
        if last is not None:
            next_after = (_utc((last.to_dict() or {})["ended_at"]).isoformat(), last.id)
        return DuePage(tuple(_snapshot(doc) for doc in docs), next_after)

    def refresh(self, report_id: str, recompute: Callable[[Report], Report]) -> Report:
        """Store ``recompute(report)`` if it differs, in a transaction (1 read; 1 write
        when it differs). No event: only derived fields may change this way."""
        ref = self._reports.document(report_id)
        written = {"commits": 0, "writes": 0}

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> Report:
            snap = ref.get(transaction=transaction)
            self.stats.add(reads=1)
            if not snap.exists:
                raise ReportNotFound(report_id)
            doc = snap.to_dict() or {}
            report = report_from_doc(report_id, doc)
            fresh = recompute(report)
            if fresh.id != report_id or fresh.last_seq != report.last_seq:
                raise ValueError("a refresh keeps the report and its timeline as they are")
            written["commits"] = 1
            written["writes"] = 0
            if fresh != report:
                # The head stays: a refresh adds no event.
                transaction.set(
                    ref, {**report_to_doc(fresh), TIMELINE_HEAD: doc.get(TIMELINE_HEAD)}
                )
                written["writes"] = 1
            return fresh

        try:
            refreshed: Report = run(self._client.transaction())
        except Exception as failed:
            if _contended(failed):
                raise StoreBusy(report_id) from failed
            raise
        finally:
            self.stats.add(**written)
        return refreshed


# --- agency API: API keys, inbox, routing stats ---------------------------------------
# Kept apart from the report store above: these serve only the agency function.

API_KEYS = "api_keys"
# Firestore's "in" takes at most 30 values; larger scopes are queried in chunks.
IN_LIMIT = 30


def api_key_from_doc(key_hash: str, doc: Mapping[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_hash=str(doc.get("key_hash", "")),
        agency_id=str(doc["agency_id"]),
        role=Role(doc["role"]),
        label=str(doc.get("label", "")),
        created_at=_utc(doc["created_at"]),
        revoked=bool(doc.get("revoked", False)),
        created_by=str(doc.get("created_by", "")),
        revoked_at=_opt_utc(doc.get("revoked_at")),
    )


def _chunks(values: Sequence[str], size: int) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


@translates_outages
class FirestoreAgencyStore:
    """API key lookup and the inbox queries.

    Inbox order: newest submission first, ``(submitted_at desc, id desc)``; the overdue
    view orders by ``(clock_due asc, id asc)``, most overdue first (Firestore wants the
    inequality field first). Each page is one query (one per 30 agencies of scope, the
    ``in`` limit), cursor-paged with ``start_after`` on the sort key and the id. The
    inbox's figures count the same ordered queries (a count aggregation each: a read per
    1,000 matched), so they need no index of their own.
    Composite indexes: infra/firestore_indexes.json.
    """

    def __init__(self, client: firestore.Client, stats: StoreStats | None = None) -> None:
        self._client = client
        self._reports = client.collection(REPORTS)
        self.stats = stats or StoreStats()

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        snap = self._client.collection(API_KEYS).document(key_hash).get()
        self.stats.add(reads=1)
        return api_key_from_doc(key_hash, snap.to_dict() or {}) if snap.exists else None

    def inbox(self, query: InboxQuery) -> InboxPage:
        overdue = query.overdue_before is not None
        rows: list[tuple[Any, str, Report]] = []
        for q in inbox_queries(self._reports, query):
            docs = list(q.stream())
            self.stats.add(reads=max(1, len(docs)))
            for doc in docs:
                report = report_from_doc(doc.id, doc.to_dict() or {})
                key = _opt_day(report.clock_due) if overdue else report.submitted_at
                rows.append((key, doc.id, report))
        rows.sort(key=lambda row: (row[0], row[1]), reverse=not overdue)
        page = rows[: query.limit]
        more = len(rows) > query.limit
        next_after = None
        if more and page:
            key, last_id, last = page[-1]
            next_after = (key if overdue else last.submitted_at.isoformat(), last_id)
        return InboxPage(tuple(r for _, _, r in page), next_after)

    def count(self, queries: Sequence[InboxQuery]) -> list[int]:
        # The page's own ordered queries, counted: the same filters on the same indexes.
        asked = [
            (index, q)
            for index, query in enumerate(queries)
            for q in _ordered_inbox_queries(self._reports, query)
        ]
        if not asked:
            return [0] * len(queries)
        with ThreadPoolExecutor(max_workers=min(len(asked), _INBOX_COUNT_WORKERS)) as pool:
            found = list(pool.map(self._count, [q for _, q in asked]))
        totals = [0] * len(queries)
        for (index, _), n in zip(asked, found, strict=True):
            totals[index] += n
        return totals

    def _count(self, query: Any) -> int:
        found = int(query.count().get()[0][0].value)
        self.stats.add(reads=max(1, -(-found // _AGGREGATION_ENTRIES_PER_READ)))
        return found


_INBOX_COUNT_WORKERS = 12  # an inbox's figures: about ten counts, run together


def inbox_queries(reports: Any, query: InboxQuery) -> list[Any]:
    """The Firestore queries one inbox page runs (built only; no I/O): the ordered
    queries of :func:`_ordered_inbox_queries`, from the cursor, one more than a page."""
    overdue = query.overdue_before is not None
    sort_field = "clock_due" if overdue else "submitted_at"
    built = []
    for q in _ordered_inbox_queries(reports, query):
        if query.after is not None:
            value, after_id = query.after
            cursor_value: Any = value if overdue else _ts(dt.datetime.fromisoformat(value))
            q = q.start_after({sort_field: cursor_value, "__name__": after_id})
        built.append(q.limit(query.limit + 1))
    return built


def _ordered_inbox_queries(reports: Any, query: InboxQuery) -> list[Any]:
    """The inbox's filters in its order, without cursor or limit (built only; no I/O).

    One per chunk of the caller's scope: Firestore allows 30 values in an ``in``. Overdue
    is ``clock_due < today``: a report whose clock does not run has a null clock_due,
    which no ``<`` matches, so the state needs no filter.
    """
    scope = query.scope
    overdue = query.overdue_before is not None
    sort_field = "clock_due" if overdue else "submitted_at"
    direction = firestore.Query.ASCENDING if overdue else firestore.Query.DESCENDING

    base: Any = reports
    if query.status is not None:
        base = base.where(filter=FieldFilter("state", "==", query.status.value))
    if query.escalated:
        base = base.where(filter=FieldFilter("escalated", "==", True))
    if query.assignee_id is not None:
        base = base.where(filter=FieldFilter("assignee_id", "==", query.assignee_id))
    if overdue:
        base = base.where(filter=FieldFilter("clock_due", "<", _opt_day(query.overdue_before)))

    scoped: list[Any]
    if scope.everything:
        scoped = [base]
    elif query.admin_queue:
        region = scope.queue_region
        if region is None:
            return []
        field_name = "regency_code" if "." in region else "province_code"
        scoped = [base.where(filter=FieldFilter(field_name, "==", region))]
    else:
        field_name = "unit_id" if scope.units_only else "agency_id"
        ids = sorted(scope.agencies)
        scoped = [
            base.where(filter=FieldFilter(field_name, "in", part))
            for part in _chunks(ids, IN_LIMIT)
        ]
    return [
        q.order_by(sort_field, direction=direction).order_by("__name__", direction=direction)
        for q in scoped
    ]


def _inbox_shapes() -> tuple[tuple[str, Callable[[firestore.Client], Any]], ...]:
    """One query of each shape the inbox runs, for the index check: every combination
    of the filters (status, escalated, overdue) on every kind of scope."""
    day = dt.date(2025, 1, 1)
    scopes = {
        "agency": Scope(agencies=frozenset({"a", "b"})),
        "unit": Scope(agencies=frozenset({"u"}), units_only=True),
        "national": Scope(everything=True),
        "admin queue of region 32": Scope(queue_region="32"),
        "admin queue of region 32.03": Scope(queue_region="32.03"),
    }
    shapes: list[tuple[str, InboxQuery]] = []
    for (name, scope), by_status, escalated, overdue in itertools.product(
        scopes.items(), (False, True), (False, True), (False, True)
    ):
        queue = scope.queue_region is not None
        if queue and not by_status:
            continue  # the admin queue is always of submitted reports
        if scope.everything and not by_status and not escalated:
            continue  # one field filtered and ordered: a single-field index serves it
        filters = {"by status": by_status and not queue, "escalated": escalated, "overdue": overdue}
        query = InboxQuery(
            scope,
            status=(State.SUBMITTED if queue else State.IN_PROGRESS) if by_status else None,
            escalated=escalated,
            overdue_before=day if overdue else None,
            admin_queue=queue,
        )
        shapes.append((name + "".join(f": {f}" for f, on in filters.items() if on), query))
    for (name, scope), by_status in itertools.product(
        ((n, s) for n, s in scopes.items() if s.queue_region is None), (False, True)
    ):
        query = InboxQuery(scope, status=State.IN_PROGRESS if by_status else None, assignee_id="me")
        shapes.append((f"{name}: assigned to me" + (": by status" if by_status else ""), query))
    return tuple(
        (what, lambda client, q=q: inbox_queries(client.collection(REPORTS), q)[0])
        for what, q in shapes
    )


# --- routing and sweeping: documents and queries ---------------------------------------

_BATCH_LIMIT = 500  # writes per Firestore commit


def pending_outbox_query(outbox: Any, created_before: dt.datetime, limit: int) -> Any:
    """Needs the composite index (status ASC, created_at ASC) in infra/firestore_indexes.json."""
    return (
        outbox.where(filter=FieldFilter("status", "==", "pending"))
        .where(filter=FieldFilter("created_at", "<", _ts(created_before)))
        .order_by("created_at")
        .limit(limit)
    )


def due_reports_query(
    reports: Any, on_or_before: dt.date, limit: int, after: tuple[str, str] | None
) -> Any:
    """Reports with ``next_due_on <= on_or_before`` (a null never matches), by
    ``(next_due_on, __name__)``; served by the automatic single-field index. Whole
    documents: a projection is billed the same read per document, and the run decides
    on what this returns (committing only if the report is still that version)."""
    query = (
        reports.where(filter=FieldFilter("next_due_on", "<=", _day(on_or_before)))
        .order_by("next_due_on")
        .order_by("__name__")
    )
    if after is not None:
        due_on, report_id = after
        query = query.start_after({"next_due_on": due_on, "__name__": report_id})
    return query.limit(limit)


def identities_ended_before_query(
    reports: Any, before: dt.datetime, limit: int, after: tuple[str, str] | None
) -> Any:
    """Reports that still hold their reporter's identity and ended before ``before``, by
    ``(ended_at, __name__)``. Needs the composite index (identity_held ASC, ended_at
    ASC) in infra/firestore_indexes.json. A report erased drops out of it, so a run
    that stopped at its limit is picked up by the next one where it stopped."""
    query = (
        reports.where(filter=FieldFilter("identity_held", "==", True))
        .where(filter=FieldFilter("ended_at", "<", _ts(before)))
        .order_by("ended_at")
        .order_by("__name__")
    )
    if after is not None:
        ended, report_id = after
        query = query.start_after(
            {"ended_at": dt.datetime.fromisoformat(ended), "__name__": report_id}
        )
    return query.limit(limit)


# Every composite query the code runs, as (name, builder of the query on a client):
# tests/unit/test_firestore_indexes.py checks that infra/firestore_indexes.json has an
# index for each (the emulator does not need them; production refuses the query).
COMPOSITE_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "pending outbox entries, oldest first",
        lambda client: pending_outbox_query(
            client.collection(OUTBOX), dt.datetime(2025, 1, 1, tzinfo=dt.UTC), 1
        ),
    ),
    *_inbox_shapes(),  # the agency inbox
    (
        "retention: reports still holding an identity, ended before a moment",
        lambda client: identities_ended_before_query(
            client.collection(REPORTS), dt.datetime(2025, 1, 1, tzinfo=dt.UTC), 1, None
        ),
    ),
    (
        "public list: reports not confidential, newest first",
        lambda client: public_reports_query(client.collection(REPORTS), 1, None),
    ),
    *(
        (
            f"daily report: overdue reports {what}",
            lambda client, how=how: overdue_query(
                client.collection(REPORTS), dt.date(2025, 1, 1), **how
            ),
        )
        for what, how in (
            ("of an agency", {"agency": "a"}),
            ("unrouted in a regency", {"unrouted_in": "32.03"}),
            ("unrouted in a province", {"unrouted_in": "32"}),
        )
    ),
    (
        "failed deliveries, last changed first",
        lambda client: failed_deliveries_query(
            client.collection_group(DELIVERIES), None, 1, ("2025-01-01T00:00:00+00:00", "n")
        ),
    ),
    (
        "an agency's failed deliveries, last changed first",
        lambda client: failed_deliveries_query(client.collection_group(DELIVERIES), "a", 1, None),
    ),
    (
        "an agency's deliveries queued for its digest",
        lambda client: queued_items_query(client.collection_group(DELIVERIES), "a", 1),
    ),
)

# The queries that need no composite index: one field filtered or ordered (besides the
# document id), served by Firestore's automatic single-field index. The same test checks
# they stay that way and that firestore_indexes.json does not exempt that field.
SINGLE_FIELD_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "escalation run: reports due on or before a day, by cursor",
        lambda client: due_reports_query(
            client.collection(REPORTS), dt.date(2025, 1, 1), 200, ("2025-01-01", "r")
        ),
    ),
    (
        "daily report: the latest stored day before a day",
        lambda client: previous_day_query(client.collection(DAILY_FIGURES), dt.date(2025, 1, 1)),
    ),
    (
        "daily report: the counter documents of a run of days (document ids only)",
        lambda client: counter_range_query(
            client.collection("figure_counters"), dt.date(2025, 1, 1), dt.date(2025, 1, 2)
        ),
    ),
    (
        "public figures: the latest stored day",
        lambda client: latest_day_query(client.collection(DAILY_FIGURES)),
    ),
    (
        "timeline anchor: a report's first chained event",
        lambda client: first_chained_event_query(
            client.collection(REPORTS).document("r").collection(EVENTS)
        ),
    ),
)


def first_chained_event_query(events: Any) -> Any:
    """A report's first chained event: the one whose ``prev_hash`` is the genesis."""
    return events.where(filter=FieldFilter("prev_hash", "==", chain.GENESIS)).limit(1)


# --- notifications: delivery log, digests and signing secrets --------------------------
# Owned by the notify and digest functions. ``reports/{id}/deliveries/{notification id}``
# is the delivery log of one report, ``deliveries/{notification id}`` that of a
# notification about no report (the daily figures); ``digests/{agency}.{hour}`` records
# each hourly digest sent; ``agency_secrets/{agency id}`` holds the webhook signing
# secret, apart from ``agencies/{id}`` (which the agency API lists) and written only by
# seeding. ``agencies/{id}.notification`` says where to deliver (webhook_url, emails,
# digest; an agency seeded before it could have several holds one ``email``, read as a
# list of one: shared.reference.stored_emails).

DELIVERIES = "deliveries"
AGENCIES = "agencies"
AGENCY_SECRETS = "agency_secrets"
DIGESTS = "digests"
DIGESTS = "digests"


def _channel_to_doc(part: ChannelDelivery) -> Doc:
    return {
        "status": part.status.value,
        "attempts": part.attempts,
        "address": part.address,
        "last_status_code": part.last_status_code,
        "last_error": part.last_error,
        "first_attempt_at": _opt_ts(part.first_attempt_at),
        "last_attempt_at": _opt_ts(part.last_attempt_at),
        "delivered_at": _opt_ts(part.delivered_at),
        "digest_id": part.digest_id,
    }


def _channel_from_doc(channel: DeliveryChannel, doc: Mapping[str, Any]) -> ChannelDelivery:
    code = doc.get("last_status_code")
    return ChannelDelivery(
        channel=channel,
        status=DeliveryStatus(doc["status"]),
        attempts=int(doc.get("attempts") or 0),
        address=doc.get("address"),
        last_status_code=None if code is None else int(code),
        last_error=doc.get("last_error"),
        first_attempt_at=_opt_utc(doc.get("first_attempt_at")),
        last_attempt_at=_opt_utc(doc.get("last_attempt_at")),
        delivered_at=_opt_utc(doc.get("delivered_at")),
        digest_id=doc.get("digest_id"),
    )


def delivery_to_doc(delivery: Delivery) -> Doc:
    """One document per notification, its channels a map inside (``channels.email``):
    a redelivery reads and writes one document whatever it sends."""
    return {
        "schema_version": SCHEMA_VERSION,
        "notification_id": delivery.notification_id,
        "report_id": delivery.report_id,
        "agency_id": delivery.agency_id,
        "recipient": delivery.recipient,
        "kind": delivery.kind,
        "status": delivery.status.value,
        "channels": {part.channel: _channel_to_doc(part) for part in delivery.channels},
        "last_error": delivery.last_error,
        "updated_at": _opt_ts(delivery.updated_at),
        "seq": delivery.seq,
        "tracking_code": delivery.tracking_code,
        "title": delivery.title,
    }


_CHANNEL_ORDER: tuple[DeliveryChannel, ...] = ("webhook", "email", "sms")


# A send in progress (DeliveryLog.claim_delivery): until when another copy of the
# notification must not send. Before the first attempt it is the document's only field.
SENDING_UNTIL = "sending_until"


def _logged_delivery(doc: Mapping[str, Any]) -> Delivery | None:
    """The entry a delivery document holds; None for a claim alone (no attempt yet)."""
    return delivery_from_doc(doc) if "status" in doc else None


def delivery_from_doc(doc: Mapping[str, Any]) -> Delivery:
    _check_version(doc, "delivery")
    parts = doc.get("channels") or {}
    seq = doc.get("seq")
    return Delivery(
        notification_id=doc["notification_id"],
        report_id=doc.get("report_id"),
        agency_id=doc.get("agency_id"),
        kind=doc["kind"],
        status=DeliveryStatus(doc["status"]),
        channels=tuple(
            _channel_from_doc(name, parts[name]) for name in _CHANNEL_ORDER if name in parts
        ),
        last_error=doc.get("last_error"),
        updated_at=_opt_utc(doc.get("updated_at")),
        seq=None if seq is None else int(seq),
        tracking_code=doc.get("tracking_code"),
        title=doc.get("title"),
    )


def digest_to_doc(digest: Digest) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "agency_id": digest.agency_id,
        "hour": _ts(digest.hour),
        "status": digest.status.value,
        "notification_ids": list(digest.notification_ids),
        "attempts": digest.attempts,
        "last_status_code": digest.last_status_code,
        "last_error": digest.last_error,
        "sent_at": _opt_ts(digest.sent_at),
    }


def digest_from_doc(doc: Mapping[str, Any]) -> Digest:
    _check_version(doc, "digest")
    code = doc.get("last_status_code")
    return Digest(
        agency_id=doc["agency_id"],
        hour=_utc(doc["hour"]),
        status=DeliveryStatus(doc["status"]),
        notification_ids=tuple(doc.get("notification_ids") or ()),
        attempts=int(doc.get("attempts") or 0),
        last_status_code=None if code is None else int(code),
        last_error=doc.get("last_error"),
        sent_at=_opt_utc(doc.get("sent_at")),
    )


def failed_deliveries_query(
    group: Any, agency_id: str | None, limit: int, after: tuple[str, str] | None
) -> Any:
    """Failed deliveries in every delivery log (a collection group query: the reports'
    and the one of notifications about no report), last changed first; needs the
    collection-group indexes (status, updated_at desc, notification_id desc) and the
    same after agency_id."""
    query = group.where(filter=FieldFilter("status", "==", DeliveryStatus.FAILED.value))
    if agency_id is not None:
        query = query.where(filter=FieldFilter("agency_id", "==", agency_id))
    query = query.order_by("updated_at", direction=firestore.Query.DESCENDING).order_by(
        "notification_id", direction=firestore.Query.DESCENDING
    )
    if after is not None:
        updated_at, notification_id = after
        moment = _ts(dt.datetime.fromisoformat(updated_at))
        query = query.start_after({"updated_at": moment, "notification_id": notification_id})
    return query.limit(limit)


def queued_items_query(group: Any, agency_id: str, limit: int) -> Any:
    """An agency's deliveries queued for its digest (the agency's failed deliveries'
    index, with status queued)."""
    return (
        group.where(filter=FieldFilter("agency_id", "==", agency_id))
        .where(filter=FieldFilter("status", "==", DeliveryStatus.QUEUED.value))
        .order_by("updated_at", direction=firestore.Query.DESCENDING)
        .order_by("notification_id", direction=firestore.Query.DESCENDING)
        .limit(limit)
    )


@translates_outages
class FirestoreNotificationStore:
    """The DeliveryLog, DeliveryHistory, AgencyChannels and DigestStore ports."""

    def __init__(
        self, client: firestore.Client, signing_sealer: Callable[[], Sealer] | None = None
    ) -> None:
        """``signing_sealer`` makes the sealer of the agencies' signing secrets when one
        is first opened (by default from the settings)."""
        self._client = client
        self._reports = client.collection(REPORTS)
        self._agencies = client.collection(AGENCIES)
        self._secrets = client.collection(AGENCY_SECRETS)
        self._digests = client.collection(DIGESTS)
        self._outbox = client.collection(OUTBOX)
        self._signing_sealer = signing_sealer or _signing_sealer_from_settings
        self.stats = StoreStats()

    def _delivery_ref(self, report_id: str | None, notification_id: str) -> Any:
        if report_id is None:  # about no report: the daily figures
            return self._client.collection(DELIVERIES).document(notification_id)
        return self._reports.document(report_id).collection(DELIVERIES).document(notification_id)

    def get_delivery(self, report_id: str | None, notification_id: str) -> Delivery | None:
        snap = self._delivery_ref(report_id, notification_id).get()
        self.stats.add(reads=1)
        return _logged_delivery(snap.to_dict() or {}) if snap.exists else None

    def claim_delivery(
        self, report_id: str | None, notification_id: str, now: dt.datetime, hold: dt.timedelta
    ) -> DeliveryClaim:
        """1 read, and 1 commit of one field when granted. The claim rides on the entry's
        own document (alone, before the first attempt): save_delivery's set replaces
        the whole document and so releases it."""
        ref = self._delivery_ref(report_id, notification_id)
        wrote = {"writes": 0}

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> DeliveryClaim:
            snap = ref.get(transaction=transaction)
            self.stats.add(reads=1)
            doc = (snap.to_dict() or {}) if snap.exists else {}
            previous = _logged_delivery(doc)
            if previous is not None and previous.status in SETTLED:
                return DeliveryClaim(previous, granted=True)
            held = doc.get(SENDING_UNTIL)
            if held is not None and held > now:
                return DeliveryClaim(previous, granted=False)
            transaction.set(ref, {SENDING_UNTIL: now + hold}, merge=True)
            wrote["writes"] = 1
            return DeliveryClaim(previous, granted=True)

        try:
            claim: DeliveryClaim = run(self._client.transaction())
        except BaseException as failed:
            if _contended(failed):  # another copy is claiming it this very moment
                return DeliveryClaim(None, granted=False)
            raise
        self.stats.add(commits=wrote["writes"], writes=wrote["writes"])
        return claim

    def save_delivery(self, delivery: Delivery, *, settles: str | None = None) -> None:
        """1 commit: the entry, and with ``settles`` the outbox entry's delete."""
        batch = self._client.batch()
        batch.set(
            self._delivery_ref(delivery.report_id, delivery.notification_id),
            delivery_to_doc(delivery),
        )
        if settles is not None:
            batch.delete(self._outbox.document(settles))
        self.stats.add(commits=1)
        batch.commit()
        deletes = 0 if settles is None else 1
        self.stats.add(writes=1 + deletes, deletes=deletes)

    def deliveries(self, report_id: str) -> list[Delivery]:
        """A report's delivery log, oldest first attempt first."""
        docs = list(self._reports.document(report_id).collection(DELIVERIES).stream())
        self.stats.add(reads=max(1, len(docs)))
        logged = (_logged_delivery(doc.to_dict() or {}) for doc in docs)
        found = [delivery for delivery in logged if delivery is not None]
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(found, key=lambda d: d.first_attempt_at or d.updated_at or epoch)

    def failed_deliveries(
        self, agency_id: str | None, limit: int, after: tuple[str, str] | None = None
    ) -> DeliveryPage:
        group = self._client.collection_group(DELIVERIES)
        docs = list(failed_deliveries_query(group, agency_id, limit + 1, after).stream())
        self.stats.add(reads=max(1, len(docs)))
        found = [delivery_from_doc(doc.to_dict() or {}) for doc in docs[:limit]]
        more = len(docs) > limit and found
        last = found[-1] if more else None
        next_after = (
            (_utc(last.updated_at).isoformat(), last.notification_id)
            if last is not None and last.updated_at is not None
            else None
        )
        return DeliveryPage(found, next_after)

    def agency_channel(self, agency_id: str) -> AgencyChannel | None:
        # Both documents in one BatchGetDocuments round trip.
        agency_ref = self._agencies.document(agency_id)
        secret_ref = self._secrets.document(agency_id)
        snaps = {s.reference.path: s for s in self._client.get_all([agency_ref, secret_ref])}
        self.stats.add(reads=2)
        agency = snaps.get(agency_ref.path)
        if agency is None or not agency.exists:
            return None
        notification = (agency.to_dict() or {}).get("notification") or {}
        secret = snaps.get(secret_ref.path)
        secret_doc = (secret.to_dict() or {}) if secret is not None and secret.exists else {}
        current, previous, open_secret = stored_secrets(secret_doc, agency_id, self._signing_sealer)
        return AgencyChannel(
            agency_id=agency_id,
            webhook_url=notification.get("webhook_url") or None,
            emails=tuple(stored_emails(notification)),
            secret=current,
            digest=notification.get("digest") == "hourly",
            previous_secret=previous,
            previous_until=_opt_utc(secret_doc.get("previous_until")),
            open_secret=open_secret,
        )

    # The hourly digest: ``digests/{agency id}.{YYYY-MM-DDTHH}``, and the queued items
    # are the agency's deliveries with status ``queued``.

    def queued_items(self, agency_id: str, limit: int) -> list[Delivery]:
        group = self._client.collection_group(DELIVERIES)
        docs = list(queued_items_query(group, agency_id, limit).stream())
        self.stats.add(reads=max(1, len(docs)))
        return [delivery_from_doc(doc.to_dict() or {}) for doc in docs]

    def digest(self, agency_id: str, hour: dt.datetime) -> Digest | None:
        probe = Digest(agency_id, hour, DeliveryStatus.RETRYING, ())
        snap = self._digests.document(probe.id).get()
        self.stats.add(reads=1)
        return digest_from_doc(snap.to_dict() or {}) if snap.exists else None

    def save_digest(self, digest: Digest, items: Sequence[Delivery]) -> None:
        if len(items) + 1 > _BATCH_LIMIT:
            raise ValueError(f"a digest commits at most {_BATCH_LIMIT - 1} items at once")
        batch = self._client.batch()
        batch.set(self._digests.document(digest.id), digest_to_doc(digest))
        for item in items:
            batch.set(
                self._delivery_ref(item.report_id, item.notification_id), delivery_to_doc(item)
            )
        self.stats.add(commits=1)
        results = batch.commit()
        self.stats.add(writes=len(results))


# --- the published figures ------------------------------------------------------------
# The daily report job writes ``daily_figures/{YYYY-MM-DD}`` (the day's summary) and
# ``daily_figures/{day}/scopes/{scope}`` (one document per agency, region, unrouted
# scope and the nation).

DAILY_FIGURES = "daily_figures"
FIGURE_SCOPES = "scopes"


def latest_day_query(days: Any) -> Any:
    """The latest day's summary, by its ``day`` field (the automatic single-field index;
    Firestore scans document ids only ascending), fetching no field: its id is the day."""
    return days.order_by("day", direction=firestore.Query.DESCENDING).select([]).limit(1)


# --- the daily report job: counters in, the day's figures out --------------------------
# Writes ``daily_figures/{day}`` and its ``scopes`` and ``exports`` (layout: the module
# docstring of shared.usecases.daily_report); reads the counter documents, the previous
# day and aggregation counts of the overdue reports, never the reports one by one.

FIGURE_EXPORTS = "exports"
# Aggregation counts run at once, a few at a time: a count is one round trip, and a run
# makes one per agency and region when many reports are overdue.
_COUNT_WORKERS = 16
_AGGREGATION_ENTRIES_PER_READ = 1000  # an aggregation is billed a read per 1,000 matched
# The daily report's reads go past the request functions' bound (firestore_timeout_s,
# meant for a person waiting): a count over every overdue report, or the overdue
# reports' scopes, may take longer than 10 s with 100,000 reports (measured by
# `make bench` on the emulator), and a job's caller waits up to 30 minutes. They keep
# the library's own read budget instead, transient errors retried within it.
_JOB_READ_S = 300.0
_JOB_RETRY = Retry(
    predicate=if_exception_type(ServiceUnavailable, InternalServerError, DeadlineExceeded),
    timeout=_JOB_READ_S,
)


@translates_outages
class FirestoreFiguresStore:
    """The FiguresStore port. Shares the report store's operation count; the pushes are
    outbox entries like any other, settled by notify when it delivers them."""

    def __init__(self, client: firestore.Client, reports: FirestoreReportStore) -> None:
        self._client = client
        self._reports = client.collection(REPORTS)
        self._days = client.collection(DAILY_FIGURES)
        self._outbox = client.collection(OUTBOX)
        self.stats = reports.stats

    def counter_documents(
        self, counter: str, first: dt.date | None, last: dt.date
    ) -> list[tuple[str, Mapping[str, Any]]]:
        query = counter_range_query(self._client.collection(counter), first, last)
        docs = list(query.stream(retry=_JOB_RETRY, timeout=_JOB_READ_S))
        self.stats.add(reads=max(1, len(docs)))
        return [(doc.id, doc.to_dict() or {}) for doc in docs]

    def running_totals(self, counter: str) -> dict[str, dict[str, int]]:
        collection = self._client.collection(counter)
        docs = list(collection.stream(retry=_JOB_RETRY, timeout=_JOB_READ_S))
        self.stats.add(reads=max(1, len(docs)))
        return {
            doc.id: {
                name: value
                for name, value in (doc.to_dict() or {}).items()
                if isinstance(value, int) and not isinstance(value, bool)
            }
            for doc in docs
        }

    def stored_summary(self, day: dt.date) -> Mapping[str, Any] | None:
        snap = self._days.document(_day(day)).get()
        self.stats.add(reads=1)
        return (snap.to_dict() or {}) if snap.exists else None

    def previous_summary(self, before: dt.date) -> Mapping[str, Any] | None:
        found = list(previous_day_query(self._days, before).stream())
        self.stats.add(reads=1)
        return (found[0].to_dict() or {}) if found else None

    def scope_documents(self, day: dt.date) -> dict[str, Mapping[str, Any]]:
        docs = list(self._days.document(_day(day)).collection(FIGURE_SCOPES).stream())
        self.stats.add(reads=max(1, len(docs)))
        return {doc.id: doc.to_dict() or {} for doc in docs}

    def _count(self, query: Any) -> int:
        found = int(query.count().get(retry=_JOB_RETRY, timeout=_JOB_READ_S)[0][0].value)
        self.stats.add(reads=max(1, -(-found // _AGGREGATION_ENTRIES_PER_READ)))
        return found

    def overdue_total(self, day: dt.date) -> int:
        return self._count(overdue_query(self._reports, day))

    def overdue_scopes(self, day: dt.date) -> list[str]:
        fields = ["agency_id", "province_code", "regency_code"]
        query = overdue_query(self._reports, day).select(fields)
        docs = list(query.stream(retry=_JOB_RETRY, timeout=_JOB_READ_S))
        self.stats.add(reads=max(1, len(docs)))
        scopes = []
        for doc in docs:
            data = doc.to_dict() or {}
            region = Region(str(data["province_code"]), data.get("regency_code"))
            scopes.append(scope_for(data.get("agency_id"), region))
        return scopes

    def overdue_counts(
        self, day: dt.date, agencies: Sequence[str], regions: Sequence[str]
    ) -> dict[str, int]:
        """One count per agency and per region; a province's unrouted reports are its
        count less its listed regencies' (Firestore cannot ask for a missing field)."""
        asked = [(agency, overdue_query(self._reports, day, agency=agency)) for agency in agencies]
        asked += [
            (unrouted_scope(code), overdue_query(self._reports, day, unrouted_in=code))
            for code in regions
        ]
        with ThreadPoolExecutor(max_workers=_COUNT_WORKERS) as pool:
            found = list(pool.map(self._count, [query for _, query in asked]))
        counts = {scope: n for (scope, _), n in zip(asked, found, strict=True)}
        for code in regions:
            if "." not in code:
                inside = sum(
                    n for scope, n in counts.items() if scope.startswith(f"{UNROUTED}{code}.")
                )
                counts[unrouted_scope(code)] -= inside
        return counts

    def save_day(
        self,
        day: dt.date,
        *,
        scopes: Mapping[str, Mapping[str, Any]],
        exports: Mapping[str, Mapping[str, Any]],
        outbox: Sequence[OutboxMessage],
        summary: Mapping[str, Any],
    ) -> bool:
        day_ref = self._days.document(_day(day))
        scoped = day_ref.collection(FIGURE_SCOPES)
        exported = day_ref.collection(FIGURE_EXPORTS)
        writes = [(scoped.document(k), v) for k, v in scopes.items()]
        writes += [(exported.document(k), v) for k, v in exports.items()]
        for start in range(0, len(writes), _BATCH_LIMIT):
            self._commit(writes[start : start + _BATCH_LIMIT])
        if not outbox:  # a re-run: the summary as first stored, written again
            self._commit([(day_ref, summary)])
            return True
        # The summary last: it marks the day complete. Created in one commit with the
        # day's notifications, so of two runs at once only one announces the day. Past
        # a batch's limit (an agency list that long) the rest follow that commit.
        entries = [(self._outbox.document(m.id), outbox_to_doc(m)) for m in outbox]
        first, rest = entries[: _BATCH_LIMIT - 1], entries[_BATCH_LIMIT - 1 :]
        batch = self._client.batch()
        batch.create(day_ref, dict(summary))
        for ref, doc in first:
            batch.set(ref, doc)
        self.stats.add(commits=1)
        try:
            batch.commit()
        except AlreadyExists:
            return False
        self.stats.add(writes=1 + len(first))
        for start in range(0, len(rest), _BATCH_LIMIT):
            self._commit(rest[start : start + _BATCH_LIMIT])
        return True

    def _commit(self, writes: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
        batch = self._client.batch()
        for ref, doc in writes:
            batch.set(ref, dict(doc))
        self.stats.add(commits=1)
        batch.commit()
        self.stats.add(writes=len(writes))


def counter_range_query(counters: Any, first: dt.date | None, last: dt.date) -> Any:
    """The counter documents of the days ``first`` to ``last``: their ids start with the
    ISO date, so this is one ascending range of ``__name__`` (no index of its own)."""
    start, end = days_id_range(first, last)
    query = counters.where(filter=FieldFilter("__name__", "<", counters.document(end)))
    if start:
        query = query.where(filter=FieldFilter("__name__", ">=", counters.document(start)))
    return query


def previous_day_query(days: Any, before: dt.date) -> Any:
    """The latest stored day before ``before``, by the summary's ``day`` field (its
    automatic single-field index serves the descending order; document ids are
    scanned ascending only)."""
    return (
        days.where(filter=FieldFilter("day", "<", _day(before)))
        .order_by("day", direction=firestore.Query.DESCENDING)
        .limit(1)
    )


def overdue_query(
    reports: Any, day: dt.date, *, agency: str | None = None, unrouted_in: str | None = None
) -> Any:
    """Reports overdue on ``day``: ``clock_due < day`` (a null never matches: no clock
    runs). Of one agency, or unrouted in one region: a report with a running clock and
    no agency is ``submitted`` (the verification clock), so the state stands for it.
    Ordered by ``clock_due`` as Firestore orders it anyway, so the index it needs shows."""
    query = reports
    if agency is not None:
        query = query.where(filter=FieldFilter("agency_id", "==", agency))
    if unrouted_in is not None:
        field_name = "regency_code" if "." in unrouted_in else "province_code"
        query = query.where(filter=FieldFilter("state", "==", State.SUBMITTED.value))
        query = query.where(filter=FieldFilter(field_name, "==", unrouted_in))
    return query.where(filter=FieldFilter("clock_due", "<", _day(day))).order_by("clock_due")


# --- the citizen site's public figures and public list of reports ---------------------
# Read only: the daily report job's documents (``daily_figures/{day}``, its ``scopes``
# and ``exports``) and a projection of the reports that are not confidential.

# The fields the public list fetches of a report: the title, the text, the reporter and
# the routing details never leave Firestore for it.
PUBLIC_REPORT_FIELDS = (
    "tracking_code",
    "type",
    "category",
    "province_code",
    "regency_code",
    "state",
    "agency_id",
    "submitted_at",
    "updated_at",
    "confidential",
)


@translates_outages
class FirestorePublicStore:
    """The FiguresReader and PublicReportList ports: one read per figures document (and
    one to find the latest day), a page of the list in one query (its reports plus the
    one that tells whether more follow)."""

    def __init__(self, client: firestore.Client, stats: StoreStats | None = None) -> None:
        self._days = client.collection(DAILY_FIGURES)
        self._reports = client.collection(REPORTS)
        self.stats = stats or StoreStats()

    def _read(self, ref: Any) -> Mapping[str, Any] | None:
        snap = ref.get()
        self.stats.add(reads=1)
        return (snap.to_dict() or {}) if snap.exists else None

    def latest_figures_day(self) -> dt.date | None:
        latest = list(latest_day_query(self._days).stream())
        self.stats.add(reads=1)  # an empty answer is billed one read too
        return _from_day(latest[0].id) if latest else None

    def figures_summary(self, day: dt.date | None) -> Mapping[str, Any] | None:
        day = day or self.latest_figures_day()
        return None if day is None else self._read(self._days.document(_day(day)))

    def figures_scope(self, day: dt.date, scope_id: str) -> Mapping[str, Any] | None:
        day_ref = self._days.document(_day(day))
        return self._read(day_ref.collection(FIGURE_SCOPES).document(scope_id))

    def figures_export(self, day: dt.date, name: str) -> Mapping[str, Any] | None:
        day_ref = self._days.document(_day(day))
        return self._read(day_ref.collection(FIGURE_EXPORTS).document(name))

    def public_reports(self, limit: int, after: tuple[str, str] | None = None) -> PublicReportPage:
        docs = [
            doc.to_dict() or {}
            for doc in public_reports_query(self._reports, limit + 1, after).stream()
        ]
        self.stats.add(reads=max(1, len(docs)))
        # The query leaves confidential reports out; one without the flag is left out too.
        page = [
            public_report_from_doc(doc) for doc in docs[:limit] if doc.get("confidential") is False
        ]
        last = page[-1] if page else None
        more = len(docs) > limit
        next_after = (last.submitted_at.isoformat(), last.tracking_code) if more and last else None
        return PublicReportPage(tuple(page), next_after)


def public_report_from_doc(doc: Mapping[str, Any]) -> PublicReport:
    return PublicReport(
        tracking_code=str(doc["tracking_code"]),
        type=str(doc["type"]),
        category=str(doc["category"]),
        province_code=str(doc["province_code"]),
        regency_code=doc.get("regency_code"),
        state=State(doc["state"]),
        agency_id=doc.get("agency_id"),
        submitted_at=_utc(doc["submitted_at"]),
        updated_at=_utc(doc["updated_at"]),
    )


def public_reports_query(reports: Any, limit: int, after: tuple[str, str] | None) -> Any:
    """Needs the composite index (confidential ASC, submitted_at DESC, tracking_code DESC)."""
    newest_first = firestore.Query.DESCENDING
    query = (
        reports.where(filter=FieldFilter("confidential", "==", False))
        .order_by("submitted_at", direction=newest_first)
        .order_by("tracking_code", direction=newest_first)
        .select(list(PUBLIC_REPORT_FIELDS))
    )
    if after is not None:
        submitted_at, code = after
        moment = _ts(dt.datetime.fromisoformat(submitted_at))
        query = query.start_after({"submitted_at": moment, "tracking_code": code})
    return query.limit(limit)


# --- opt-outs: ``opt_outs/{OptOut.key}``, one document per recipient that unsubscribed --

OPT_OUTS = "opt_outs"


@translates_outages
class FirestoreContactPreferences:
    """The ContactPreferences port: recording costs one write, checking one read."""

    def __init__(self, client: firestore.Client, stats: StoreStats | None = None) -> None:
        self._opt_outs = client.collection(OPT_OUTS)
        self.stats = stats or StoreStats()

    def opt_out(self, who: OptOut, at: dt.datetime) -> None:
        self.stats.add(commits=1, writes=1)
        # Created once: a second click keeps the first time.
        with contextlib.suppress(AlreadyExists):
            self._opt_outs.document(who.key).create(
                {
                    "schema_version": SCHEMA_VERSION,
                    "audience": who.audience,
                    "owner": who.owner,
                    "channel": who.channel,
                    "address": who.address or None,
                    "at": _ts(at),
                }
            )

    def is_opted_out(self, who: OptOut) -> bool:
        snap = self._opt_outs.document(who.key).get()
        self.stats.add(reads=1)
        return bool(snap.exists)
