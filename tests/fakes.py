"""In-memory stand-ins for the ports, for unit tests only.

They behave like the Firestore adapters where a use case could tell the difference,
and tests/integration/test_store_contract.py holds them to it: a settled outbox
entry is deleted, an event is created under its sequence number (a second event
with the same number fails, as Firestore's create precondition does), and a
transactional decision may run more than once (here it always runs twice, so a
``decide`` with side effects shows up in unit tests, not in production), and a
transition on a ``known`` snapshot commits without a read only while the report is
still that version (a counter per report here, Firestore's update time there).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from google.api_core.exceptions import AlreadyExists

from shared.adapters.storage import BlobStats, upload_headers
from shared.adapters.webhooks import encode_body
from shared.config import Settings
from shared.domain import chain, contact
from shared.domain.casework import Assignment, ResponseTemplate, StaffNote
from shared.domain.figures import days_id_range, scope_of, unrouted_scope
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Action, Report, TimelineEvent, is_overdue
from shared.domain.retention import ended_at
from shared.domain.staff import SignInThrottle, StaffAccount, StaffLink, StaffSession
from shared.ports import (
    SETTLED,
    AgencyChannel,
    AgencyNotFound,
    ApiKeyRecord,
    AuditEntry,
    AuditPage,
    Change,
    ChannelChoice,
    Delivery,
    DeliveryClaim,
    DeliveryPage,
    DeliveryStatus,
    Digest,
    DigestPorts,
    DuePage,
    EmailTaken,
    FixedClock,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    InboxPage,
    InboxQuery,
    NewSubmission,
    NotifyPorts,
    ObjectNotFound,
    ObjectTooLarge,
    OptOut,
    OutboxMessage,
    OutgoingEmail,
    OutgoingSms,
    PublicReport,
    PublicReportPage,
    PublishFailed,
    RateSlot,
    RateSlotTaken,
    ReferenceEdit,
    ReferenceNotSeeded,
    ReportNotFound,
    SendOutcome,
    SendResult,
    SignedUpload,
    Snapshot,
    StaffNotFound,
    StaffUpdate,
    StoredObject,
    StoredReference,
    Tally,
    TemplateNotFound,
    TrackingCodeTaken,
)
from shared.reference import Agency, Notification, Reference, RoutingRule

if TYPE_CHECKING:
    from shared.ports import (
        AgencyAdminStore,
        AgencyChannels,
        ApiKeyStore,
        AuditLog,
        BlobStore,
        CaseworkStore,
        ContactPreferences,
        DeliveryHistory,
        DeliveryLog,
        DigestStore,
        EmailSender,
        EscalationStore,
        FiguresReader,
        FiguresStore,
        InboxStore,
        OutboxStore,
        PublicReportList,
        Publisher,
        ReferenceAdminStore,
        RouteStore,
        StaffStore,
        WebhookSender,
    )

# --- the report store (ReportStore, RouteStore, OutboxStore) ---------------------------


@dataclass
class InMemoryReportStore:
    reports: dict[str, Report] = field(default_factory=dict)
    events: dict[str, list[TimelineEvent]] = field(default_factory=dict)
    identities: dict[str, ReporterIdentity] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)  # pending entries only
    swept: dict[str, int] = field(default_factory=dict)  # outbox id -> sweeper attempts
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    rate_slots: dict[str, set[int]] = field(default_factory=dict)
    tallies: dict[tuple[str, str, str], int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # report id -> writes so far
    # report id -> the hash of its last event, kept with the report as the adapter does
    timeline_heads: dict[str, str] = field(default_factory=dict)
    commits: int = 0
    # Documents read, as the adapter bills them (an uncontended transaction reads once).
    reads: int = 0
    # How often ``transition`` runs ``decide`` (the last run's change is committed).
    decide_runs: int = 2
    # Change-log entries the transitions committed (Change.audit), in order.
    audit: list[AuditEntry] = field(default_factory=list)

    def new_report_id(self) -> str:
        return uuid.uuid4().hex

    def create_submission(self, submission: NewSubmission) -> None:
        report = submission.report
        record = submission.idempotency
        if record and record.key_hash in self.idempotency:
            raise IdempotencyKeyTaken(self.idempotency[record.key_hash])
        slot = submission.rate_slot
        if slot.slot in self.rate_slots.get(slot.window_key, set()):
            raise RateSlotTaken(slot.id)
        if any(r.tracking_code == report.tracking_code for r in self.reports.values()):
            raise TrackingCodeTaken(report.tracking_code)
        self.commits += 1
        self._store_report(report)
        self.events[report.id] = [self._chain(report.id, submission.event)]
        self.identities[report.id] = submission.identity
        for message in (submission.outbox, *submission.notifications):
            self.outbox[message.id] = message
        if record:
            self.idempotency[record.key_hash] = record
        self.rate_slots.setdefault(slot.window_key, set()).add(slot.slot)
        self._tally(submission.tallies)

    def _chain(self, report_id: str, event: TimelineEvent) -> TimelineEvent:
        """The event as committed: chained to the report's last one (no read)."""
        head = self.timeline_heads.get(report_id, chain.GENESIS)
        sealed = chain.seal(event, head, uuid.uuid4().hex)
        assert sealed.hash is not None
        self.timeline_heads[report_id] = sealed.hash
        return sealed

    def _store_report(self, report: Report) -> None:
        self.reports[report.id] = report
        self.versions[report.id] = self.versions.get(report.id, 0) + 1

    def _snapshot(self, report: Report) -> Snapshot:
        return Snapshot(report, self.versions.get(report.id, 0))

    def _is_current(self, known: Snapshot) -> bool:
        """Still the stored version (a test that replaced ``reports[id]`` itself made a
        new version too, as any write to the document would in Firestore)."""
        report_id = known.report.id
        return (
            self.versions.get(report_id, 0) == known.version
            and self.reports.get(report_id) == known.report
        )

    def taken_rate_slots(self, window_key: str) -> frozenset[int]:
        taken = frozenset(self.rate_slots.get(window_key, set()))
        self.reads += max(1, len(taken))
        return taken

    def claim_rate_slot(self, slot: RateSlot) -> None:
        taken = self.rate_slots.setdefault(slot.window_key, set())
        if slot.slot in taken:
            raise RateSlotTaken(slot.id)
        self.commits += 1
        taken.add(slot.slot)

    def commit_link_resend(self, slot: RateSlot, message: OutboxMessage) -> None:
        if slot.slot in self.rate_slots.get(slot.window_key, set()):
            raise RateSlotTaken(slot.id)
        self.commits += 1
        self.rate_slots.setdefault(slot.window_key, set()).add(slot.slot)
        self.outbox[message.id] = message

    def find_by_tracking_code(self, tracking_code: str) -> Report | None:
        self.reads += 1
        return next((r for r in self.reports.values() if r.tracking_code == tracking_code), None)

    def get(self, report_id: str) -> Report | None:
        self.reads += 1
        return self.reports.get(report_id)

    def timeline(self, report_id: str) -> Sequence[TimelineEvent]:
        events = sorted(self.events.get(report_id, []), key=lambda event: event.seq)
        self.reads += max(1, len(events))
        return events

    def identity(self, report_id: str) -> ReporterIdentity | None:
        self.reads += 1
        return self.identities.get(report_id)

    def masked_identity(self, report_id: str) -> ReporterIdentity | None:
        self.reads += 1
        identity = self.identities.get(report_id)
        return contact.masked(identity) if identity else None

    def contact_matches(self, report_id: str, channel: contact.Channel, value: str) -> bool:
        self.reads += 1
        identity = self.identities.get(report_id)
        stored = (identity.email if channel == "email" else identity.phone) if identity else None
        given = contact.normalize_contact(channel, value)
        return stored is not None and contact.normalize_contact(channel, stored) == given

    def transition(
        self, report_id: str, decide: Callable[[Report], Change], known: Snapshot | None = None
    ) -> Change:
        change: Change | None = None
        if known is not None:
            try:
                change = decide(known.report)  # no read: the caller holds this version
            except Exception:
                change = None  # a refusal counts only on the report as read below
            if not self._is_current(known):
                change = None  # the adapter's commit fails its precondition here
        if change is None:
            self.reads += 1
            for _ in range(self.decide_runs):  # as a retried transaction would
                report = self.reports.get(report_id)
                if report is None:
                    raise ReportNotFound(report_id)
                change = decide(report)
        assert change is not None
        if change.report.id != report_id or change.event.seq != change.report.last_seq:
            raise ValueError("a change must keep the report id and end at its event")
        events = self.events.setdefault(report_id, [])
        if any(event.seq == change.event.seq for event in events):
            raise AlreadyExists(f"event {change.event.seq} of report {report_id} exists")
        self.commits += 1
        self._store_report(change.report)
        change = dataclasses.replace(change, event=self._chain(report_id, change.event))
        events.append(change.event)
        for message in change.outbox:
            self.outbox[message.id] = message
        for message_id in change.settle:
            self.outbox.pop(message_id, None)
        self._tally(change.tallies)
        if change.event.action is Action.ERASE_CONTACT:
            self.identities.pop(report_id, None)
        self.audit.extend(change.audit)
        return dataclasses.replace(change, version=self.versions[report_id])

    def _tally(self, tallies: Sequence[Tally]) -> None:
        for tally in tallies:
            key = (tally.counter, tally.key, tally.field)
            self.tallies[key] = self.tallies.get(key, 0) + tally.by

    def pending_outbox_entry(self, message_id: str) -> OutboxMessage | None:
        self.reads += 1
        return self.outbox.get(message_id)

    def settle_outbox(self, message_ids: Sequence[str]) -> None:
        self.commits += 1  # a commit of its own, as in Firestore
        for message_id in message_ids:
            self.outbox.pop(message_id, None)

    def pending_outbox(self, created_before: dt.datetime, limit: int) -> list[OutboxMessage]:
        pending = [m for m in self.outbox.values() if m.created_at < created_before]
        found = sorted(pending, key=lambda m: m.created_at)[:limit]
        self.reads += max(1, len(found))
        return found

    def record_sweep(self, message_ids: Sequence[str], at: dt.datetime) -> None:
        for message_id in message_ids:
            if message_id in self.outbox:  # one settled meanwhile stays deleted
                self.swept[message_id] = self.swept.get(message_id, 0) + 1

    def due_reports(
        self, on_or_before: dt.date, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        due = sorted(
            (r.next_due_on.isoformat(), r.id)
            for r in self.reports.values()
            if r.next_due_on is not None and r.next_due_on <= on_or_before
        )
        if after is not None:
            due = [key for key in due if key > after]  # start_after: strictly past it
        page = due[:limit]
        self.reads += max(1, len(page))
        return DuePage(
            tuple(self._snapshot(self.reports[i]) for _, i in page),
            page[-1] if len(page) == limit else None,
        )

    def identities_ended_before(
        self, before: dt.datetime, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        held = sorted(
            (ended.astimezone(dt.UTC).isoformat(), r.id)
            for r in self.reports.values()
            if r.contact_erased is None and (ended := ended_at(r)) is not None and ended < before
        )
        if after is not None:
            held = [key for key in held if key > after]
        page = held[:limit]
        self.reads += max(1, len(page))
        return DuePage(
            tuple(self._snapshot(self.reports[i]) for _, i in page),
            page[-1] if len(page) == limit else None,
        )

    def refresh(self, report_id: str, recompute: Callable[[Report], Report]) -> Report:
        self.reads += 1
        report = self.reports.get(report_id)
        if report is None:
            raise ReportNotFound(report_id)
        fresh = recompute(report)
        if fresh.id != report_id or fresh.last_seq != report.last_seq:
            raise ValueError("a refresh keeps the report and its timeline as they are")
        if fresh != report:
            self._store_report(fresh)
        return fresh


@dataclass
class InMemoryPublisher:
    published: list[OutboxMessage] = field(default_factory=list)
    fail: bool = False

    def publish(self, message: OutboxMessage) -> None:
        if self.fail:
            raise PublishFailed("bus unavailable")
        self.published.append(message)


# --- the agency store (ApiKeyStore, InboxStore) ---------------------------------------


@dataclass
class InMemoryAgencyStore:
    """API keys, and the inbox queries over ``reports`` (the same reports the report
    store holds, as both adapters read the same collection)."""

    reports: InMemoryReportStore = field(default_factory=InMemoryReportStore)
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        return self.api_keys.get(key_hash)

    def inbox(self, query: InboxQuery) -> InboxPage:
        overdue = query.overdue_before is not None
        rows = sorted(
            (r for r in self.reports.reports.values() if _in_inbox(query, r)),
            key=lambda r: _sort_key(r, overdue),
            reverse=not overdue,
        )
        if query.after is not None:
            value, after_id = query.after
            mark = (value if overdue else dt.datetime.fromisoformat(value), after_id)
            # start_after: strictly past the cursor, in the page's own direction
            rows = [
                r
                for r in rows
                if (_sort_key(r, overdue) > mark if overdue else _sort_key(r, overdue) < mark)
            ]
        page = rows[: query.limit]
        next_after = None
        if len(rows) > query.limit:
            last = page[-1]
            key, _ = _sort_key(last, overdue)
            next_after = (key if overdue else last.submitted_at.isoformat(), last.id)
        return InboxPage(tuple(page), next_after)

    def count(self, queries: Sequence[InboxQuery]) -> list[int]:
        reports = self.reports.reports.values()
        return [sum(1 for r in reports if _in_inbox(query, r)) for query in queries]


def _sort_key(report: Report, overdue: bool) -> tuple[Any, str]:
    if overdue:  # only reports with a running clock pass the overdue filter
        return (report.clock_due.isoformat() if report.clock_due else "", report.id)
    return (report.submitted_at, report.id)


def _in_inbox(query: InboxQuery, report: Report) -> bool:
    """The filters the Firestore inbox queries apply (visibility is the use case's)."""
    if query.status is not None and report.state is not query.status:
        return False
    if query.escalated and not report.escalated:
        return False
    if query.assignee_id is not None and report.assignee_id != query.assignee_id:
        return False
    if query.overdue_before is not None and not (
        report.clock_due is not None and report.clock_due < query.overdue_before
    ):
        return False  # Firestore's "<" never matches a null
    scope = query.scope
    if scope.everything:
        return True
    if query.admin_queue:
        region = scope.queue_region
        if region is None:
            return False
        code = report.region.regency_code if "." in region else report.region.province_code
        return code == region
    return (report.unit_id if scope.units_only else report.agency_id) in scope.agencies


@dataclass
class UnfilteredInbox:
    """An inbox that answers every query with the same reports and remembers the
    queries: for checking what the use case asks, and that it filters again."""

    reports: list[Report] = field(default_factory=list)
    asked: list[InboxQuery] = field(default_factory=list)

    def inbox(self, query: InboxQuery) -> InboxPage:
        self.asked.append(query)
        return InboxPage(tuple(self.reports), None)

    def count(self, queries: Sequence[InboxQuery]) -> list[int]:
        self.asked.extend(queries)
        return [len(self.reports)] * len(queries)


# --- notifications (DeliveryLog, AgencyChannels, WebhookSender) -----------------------


@dataclass
class InMemoryNotificationStore:
    """The delivery log, the agencies' channels and the digests; ``commits`` counts the
    digest commits (the items go in the digest's own). ``outbox``: the report store's,
    when shared, so a settled notification's entry goes with its delivery write."""

    entries: dict[tuple[str | None, str], Delivery] = field(default_factory=dict)
    channels: dict[str, AgencyChannel] = field(default_factory=dict)
    digests: dict[str, Digest] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    commits: int = 0
    # Sends in progress (claim_delivery): until when each notification is held.
    claims: dict[tuple[str | None, str], dt.datetime] = field(default_factory=dict)

    def get_delivery(self, report_id: str | None, notification_id: str) -> Delivery | None:
        return self.entries.get((report_id, notification_id))

    def claim_delivery(
        self, report_id: str | None, notification_id: str, now: dt.datetime, hold: dt.timedelta
    ) -> DeliveryClaim:
        previous = self.entries.get((report_id, notification_id))
        if previous is not None and previous.status in SETTLED:
            return DeliveryClaim(previous, granted=True)
        held = self.claims.get((report_id, notification_id))
        if held is not None and held > now:
            return DeliveryClaim(previous, granted=False)
        self.claims[(report_id, notification_id)] = now + hold
        return DeliveryClaim(previous, granted=True)

    def save_delivery(self, delivery: Delivery, *, settles: str | None = None) -> None:
        self.entries[(delivery.report_id, delivery.notification_id)] = delivery
        self.claims.pop((delivery.report_id, delivery.notification_id), None)
        if settles is not None:
            self.outbox.pop(settles, None)

    def deliveries(self, report_id: str) -> list[Delivery]:
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        found = [d for (of, _), d in self.entries.items() if of == report_id]
        return sorted(found, key=lambda d: d.first_attempt_at or d.updated_at or epoch)

    def failed_deliveries(
        self, agency_id: str | None, limit: int, after: tuple[str, str] | None = None
    ) -> DeliveryPage:
        def key(d: Delivery) -> tuple[str, str]:
            return ((d.updated_at or NO_TIME).isoformat(), d.notification_id)

        failed = sorted(
            (
                d
                for d in self.entries.values()
                if d.status is DeliveryStatus.FAILED
                and (agency_id is None or d.agency_id == agency_id)
                and (after is None or _before(key(d), after))
            ),
            key=key,
            reverse=True,
        )
        page = failed[:limit]
        more = len(failed) > limit
        return DeliveryPage(page, key(page[-1]) if more and page else None)

    def agency_channel(self, agency_id: str) -> AgencyChannel | None:
        return self.channels.get(agency_id)

    def queued_items(self, agency_id: str, limit: int) -> list[Delivery]:
        queued = [
            d
            for d in self.entries.values()
            if d.agency_id == agency_id and d.status is DeliveryStatus.QUEUED
        ]
        queued.sort(key=lambda d: ((d.updated_at or NO_TIME), d.notification_id), reverse=True)
        return queued[:limit]

    def digest(self, agency_id: str, hour: dt.datetime) -> Digest | None:
        return self.digests.get(Digest(agency_id, hour, DeliveryStatus.RETRYING, ()).id)

    def save_digest(self, digest: Digest, items: Sequence[Delivery]) -> None:
        self.commits += 1
        self.digests[digest.id] = digest
        for item in items:
            self.save_delivery(item)


NO_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)


def _before(key: tuple[str, str], after: tuple[str, str]) -> bool:
    """Strictly after the cursor in (updated_at desc, notification_id desc) order."""
    moment, name = key
    at = dt.datetime.fromisoformat(after[0]).isoformat()
    return (moment, name) < (at, after[1])


@dataclass
class InMemoryWebhookSender:
    """Answers with ``results`` in turn (then "delivered") and keeps what was sent."""

    results: list[SendResult] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(
        self,
        url: str,
        secrets: Sequence[str],
        message_id: str,
        payload: Mapping[str, Any],
        at: dt.datetime,
    ) -> SendResult:
        body = encode_body(payload)
        self.sent.append({"url": url, "id": message_id, "body": body, "secrets": tuple(secrets)})
        return self.results.pop(0) if self.results else SendResult(SendOutcome.DELIVERED, 204)


@dataclass
class InMemoryEmailSender:
    """Answers with ``results`` in turn (then accepted, 250) and keeps what was sent."""

    results: list[SendResult] = field(default_factory=list)
    sent: list[OutgoingEmail] = field(default_factory=list)

    def send(self, message: OutgoingEmail) -> SendResult:
        self.sent.append(message)
        return self.results.pop(0) if self.results else SendResult(SendOutcome.DELIVERED, 250)


@dataclass
class InMemorySmsSender:
    """Answers with ``results`` in turn (then accepted, 200) and keeps what was sent."""

    results: list[SendResult] = field(default_factory=list)
    sent: list[OutgoingSms] = field(default_factory=list)

    def send(self, message: OutgoingSms) -> SendResult:
        self.sent.append(message)
        return self.results.pop(0) if self.results else SendResult(SendOutcome.DELIVERED, 200)


@dataclass
class InMemoryContactPreferences:
    """Opt-outs by key, with when each was first recorded."""

    opted_out: dict[str, dt.datetime] = field(default_factory=dict)

    def opt_out(self, who: OptOut, at: dt.datetime) -> None:
        self.opted_out.setdefault(who.key, at)

    def is_opted_out(self, who: OptOut) -> bool:
        return who.key in self.opted_out


# --- the daily report job's store (FiguresStore) --------------------------------------


@dataclass
class InMemoryFiguresStore:
    """The counters are ``reports.tallies`` (what the transitions committed), the reports
    those of ``reports``; ``days`` holds what each run saved, as the adapter would:
    day -> {"summary", "scopes", "exports"}. The outbox entries go to ``reports.outbox``."""

    reports: InMemoryReportStore = field(default_factory=InMemoryReportStore)
    days: dict[dt.date, dict[str, Any]] = field(default_factory=dict)
    saves: int = 0

    def counter_documents(
        self, counter: str, first: dt.date | None, last: dt.date
    ) -> list[tuple[str, Mapping[str, Any]]]:
        start, end = days_id_range(first, last)
        documents: dict[str, dict[str, Any]] = {}
        for (family, key, name), value in sorted(self.reports.tallies.items()):
            if family == counter and start <= key < end:
                documents.setdefault(key, {"key": key})[name] = value
        return sorted(documents.items())

    def running_totals(self, counter: str) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for (family, key, name), value in self.reports.tallies.items():
            if family == counter:
                totals.setdefault(key, {})[name] = value
        return totals

    def stored_summary(self, day: dt.date) -> Mapping[str, Any] | None:
        return copy.deepcopy(self.days[day]["summary"]) if day in self.days else None

    def previous_summary(self, before: dt.date) -> Mapping[str, Any] | None:
        earlier = [day for day in self.days if day < before]
        return self.stored_summary(max(earlier)) if earlier else None

    def scope_documents(self, day: dt.date) -> dict[str, Mapping[str, Any]]:
        return copy.deepcopy(self.days[day]["scopes"]) if day in self.days else {}

    def _overdue(self, day: dt.date) -> list[Report]:
        return [r for r in self.reports.reports.values() if is_overdue(r, day)]

    def overdue_total(self, day: dt.date) -> int:
        return len(self._overdue(day))

    def overdue_scopes(self, day: dt.date) -> list[str]:
        return [scope_of(report) for report in self._overdue(day)]

    def overdue_counts(
        self, day: dt.date, agencies: Sequence[str], regions: Sequence[str]
    ) -> dict[str, int]:
        asked = set(agencies) | {unrouted_scope(code) for code in regions}
        counts = {scope: 0 for scope in asked}
        for scope in map(scope_of, self._overdue(day)):
            if scope in asked:
                counts[scope] += 1
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
        self.saves += 1
        if outbox and day in self.days:
            return False  # another run created the day first
        for message in outbox:
            self.reports.outbox[message.id] = message
        self.days[day] = copy.deepcopy(
            {"scopes": dict(scopes), "exports": dict(exports), "summary": dict(summary)}
        )
        return True


# --- the public figures and list (FiguresReader, PublicReportList) --------------------


@dataclass
class InMemoryPublicStore:
    """``documents``: Firestore path -> document, as the daily report job stores them
    (``daily_figures/{day}``, ``.../scopes/{scope}``, ``.../exports/{name}``); the list
    reads the reports of ``reports``."""

    documents: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    reports: InMemoryReportStore = field(default_factory=InMemoryReportStore)

    def latest_figures_day(self) -> dt.date | None:
        days = [
            path.split("/")[1]
            for path in self.documents
            if path.count("/") == 1 and path.startswith("daily_figures/")
        ]
        return dt.date.fromisoformat(max(days)) if days else None

    def figures_summary(self, day: dt.date | None) -> Mapping[str, Any] | None:
        day = day or self.latest_figures_day()
        return None if day is None else self.documents.get(f"daily_figures/{day.isoformat()}")

    def figures_scope(self, day: dt.date, scope_id: str) -> Mapping[str, Any] | None:
        return self.documents.get(f"daily_figures/{day.isoformat()}/scopes/{scope_id}")

    def figures_export(self, day: dt.date, name: str) -> Mapping[str, Any] | None:
        return self.documents.get(f"daily_figures/{day.isoformat()}/exports/{name}")

    def public_reports(self, limit: int, after: tuple[str, str] | None = None) -> PublicReportPage:
        newest_first = sorted(
            (r for r in self.reports.reports.values() if not r.confidential),
            key=lambda r: (r.submitted_at, r.tracking_code),
            reverse=True,
        )
        if after is not None:
            mark = (dt.datetime.fromisoformat(after[0]), after[1])
            newest_first = [r for r in newest_first if (r.submitted_at, r.tracking_code) < mark]
        page = [
            PublicReport(
                tracking_code=r.tracking_code,
                type=r.type.value,
                category=r.category,
                province_code=r.region.province_code,
                regency_code=r.region.regency_code,
                state=r.state,
                agency_id=r.agency_id,
                submitted_at=r.submitted_at,
                updated_at=r.updated_at,
            )
            for r in newest_first[:limit]
        ]
        more = len(newest_first) > limit
        last = page[-1] if page else None
        next_after = (last.submitted_at.isoformat(), last.tracking_code) if more and last else None
        return PublicReportPage(tuple(page), next_after)


# --- notify's ports, all fakes -----------------------------------------------------------

# What notify needs configured: a relay, a gateway, the citizen site and the agency API.
NOTIFY_SETTINGS: dict[str, Any] = {
    "token_secret": "unit-test-secret-0123456789",
    "smtp_host": "relay.test",
    "sms_base_url": "https://sms.test",
    "public_base_url": "https://lapor.test",
    "agency_url": "https://agency.test",
    "mail_from": "Lapor <noreply@lapor.test>",
}


@dataclass
class NotifyFakes:
    """Every port notify and the digest talk through, in memory, and the bundles."""

    store: InMemoryReportStore = field(default_factory=InMemoryReportStore)
    notifications: InMemoryNotificationStore = field(default_factory=InMemoryNotificationStore)
    webhooks: InMemoryWebhookSender = field(default_factory=InMemoryWebhookSender)
    email: InMemoryEmailSender = field(default_factory=InMemoryEmailSender)
    sms: InMemorySmsSender = field(default_factory=InMemorySmsSender)
    preferences: InMemoryContactPreferences = field(default_factory=InMemoryContactPreferences)
    clock: FixedClock = field(
        default_factory=lambda: FixedClock(dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC))
    )
    settings: Settings = field(default_factory=lambda: Settings.model_validate(NOTIFY_SETTINGS))
    staff: InMemoryStaffStore = field(default_factory=lambda: InMemoryStaffStore())

    def __post_init__(self) -> None:
        self.notifications.outbox = self.store.outbox  # one database, one outbox

    def ports(self) -> NotifyPorts:
        from shared.reference import load_reference

        return NotifyPorts(
            store=self.store,
            deliveries=self.notifications,
            channels=self.notifications,
            sender=self.webhooks,
            clock=self.clock,
            settings=self.settings,
            reference=load_reference(),
            preferences=self.preferences,
            email_factory=lambda: self.email,
            sms_factory=lambda: self.sms,
            staff=self.staff,
        )

    def digest_ports(self) -> DigestPorts:
        from shared.reference import load_reference

        return DigestPorts(
            digests=self.notifications,
            channels=self.notifications,
            preferences=self.preferences,
            email_factory=lambda: self.email,
            clock=self.clock,
            settings=self.settings,
            reference=load_reference(),
        )


if TYPE_CHECKING:  # mypy holds each fake to the ports it stands in for
    _report_store: RouteStore = InMemoryReportStore()
    _escalation_store: EscalationStore = InMemoryReportStore()
    _outbox_store: OutboxStore = InMemoryReportStore()
    _publisher: Publisher = InMemoryPublisher()
    _api_keys: ApiKeyStore = InMemoryAgencyStore()
    _inbox: InboxStore = InMemoryAgencyStore()
    _unfiltered: InboxStore = UnfilteredInbox()
    _deliveries: DeliveryLog = InMemoryNotificationStore()
    _delivery_history: DeliveryHistory = InMemoryNotificationStore()
    _channels: AgencyChannels = InMemoryNotificationStore()
    _digests: DigestStore = InMemoryNotificationStore()
    _sender: WebhookSender = InMemoryWebhookSender()
    _email_sender: EmailSender = InMemoryEmailSender()
    _preferences: ContactPreferences = InMemoryContactPreferences()
    _figures_store: FiguresStore = InMemoryFiguresStore()
    _figures_reader: FiguresReader = InMemoryPublicStore()
    _public_reports: PublicReportList = InMemoryPublicStore()


# --- console: audit (AuditLog) ----------------------------------------------------------


@dataclass
class InMemoryAuditLog:
    """The change log. A fake store that makes a change records its entry here in the
    same call (the adapters write it in the change's commit)."""

    logged: dict[str, AuditEntry] = field(default_factory=dict)

    def record(self, entry: AuditEntry) -> None:
        self.logged[uuid.uuid4().hex] = entry

    def entries(
        self,
        agency_id: str | frozenset[str] | None,
        kinds: frozenset[str] | None,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> AuditPage:
        def key(item: tuple[str, AuditEntry]) -> tuple[dt.datetime, str]:
            return item[1].at, item[0]

        agencies = {agency_id} if isinstance(agency_id, str) else agency_id

        cursor = None if after is None else (dt.datetime.fromisoformat(after[0]), after[1])
        found = sorted(
            (
                item
                for item in self.logged.items()
                if (agencies is None or item[1].agency_id in agencies)
                and (kinds is None or item[1].kind in kinds)
                and (cursor is None or key(item) < cursor)
            ),
            key=key,
            reverse=True,
        )
        page = found[:limit]
        more = len(found) > limit and page
        next_after = (page[-1][1].at.isoformat(), page[-1][0]) if more else None
        return AuditPage([entry for _, entry in page], next_after)


if TYPE_CHECKING:
    _audit_log: AuditLog = InMemoryAuditLog()


# --- console: agency admin (AgencyAdminStore) ------------------------------------------


@dataclass
class InMemoryAgencyAdminStore:
    """Channels (``channels``: the agencies that exist), secrets and API keys; each
    change records its entry in ``audit`` in the same call, as the adapter commits it."""

    audit: InMemoryAuditLog = field(default_factory=InMemoryAuditLog)
    channels: dict[str, AgencyChannel] = field(default_factory=dict)
    keys: dict[str, ApiKeyRecord] = field(default_factory=dict)

    def agency_channel(self, agency_id: str) -> AgencyChannel | None:
        return self.channels.get(agency_id)

    def save_channels(self, agency_id: str, choice: ChannelChoice, entry: AuditEntry) -> None:
        if agency_id not in self.channels:
            raise AgencyNotFound(agency_id)
        self.channels[agency_id] = dataclasses.replace(
            self.channels[agency_id],
            webhook_url=choice.webhook_url,
            emails=choice.emails,
            digest=choice.digest,
        )
        self.audit.record(entry)

    def rotate_secret(
        self, agency_id: str, secret: str, previous_until: dt.datetime, entry: AuditEntry
    ) -> None:
        before = self.channels.get(agency_id) or AgencyChannel(agency_id, None, (), None)
        self.channels[agency_id] = dataclasses.replace(
            before,
            secret=secret,
            previous_secret=before.secret,
            previous_until=previous_until if before.secret else None,
        )
        self.audit.record(entry)

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        return self.keys.get(key_hash)

    def api_keys(self, agency_ids: Collection[str] | None) -> list[ApiKeyRecord]:
        found = [k for k in self.keys.values() if agency_ids is None or k.agency_id in agency_ids]
        return sorted(found, key=lambda r: (r.created_at, r.key_hash), reverse=True)

    def create_api_key(self, record: ApiKeyRecord, entry: AuditEntry) -> None:
        if record.key_hash in self.keys:
            raise AlreadyExists(record.key_hash)
        self.keys[record.key_hash] = record
        self.audit.record(entry)

    def revoke_api_key(self, key_hash: str, at: dt.datetime, entry: AuditEntry) -> None:
        self.keys[key_hash] = dataclasses.replace(self.keys[key_hash], revoked=True, revoked_at=at)
        self.audit.record(entry)


if TYPE_CHECKING:
    _agency_admin_store: AgencyAdminStore = InMemoryAgencyAdminStore()


# --- console: casework (CaseworkStore) -------------------------------------------------


@dataclass
class InMemoryCaseworkStore:
    """Notes, assignment and templates. ``reports``: the report store the assignment is
    written into; ``audit``: where each recorded change's entry lands with it."""

    reports: InMemoryReportStore = field(default_factory=InMemoryReportStore)
    audit: InMemoryAuditLog = field(default_factory=InMemoryAuditLog)
    staff_notes: dict[str, list[StaffNote]] = field(default_factory=dict)
    response_templates: dict[tuple[str, str], ResponseTemplate] = field(default_factory=dict)
    # How often ``assign`` runs ``decide`` (as a retried transaction may).
    decide_runs: int = 2

    def add_note(self, note: StaffNote) -> StaffNote:
        kept = dataclasses.replace(note, id=uuid.uuid4().hex)
        self.staff_notes.setdefault(note.report_id, []).append(kept)
        return kept

    def notes(self, report_id: str, limit: int) -> list[StaffNote]:
        ordered = sorted(self.staff_notes.get(report_id, []), key=lambda n: n.at)
        return ordered[-limit:] if limit > 0 else []

    def assign(
        self, report_id: str, decide: Callable[[Report], tuple[Assignment, AuditEntry]]
    ) -> Report:
        decided: tuple[Assignment, AuditEntry] | None = None
        for _ in range(self.decide_runs):
            report = self.reports.reports.get(report_id)
            if report is None:
                raise ReportNotFound(report_id)
            decided = decide(report)
        assert decided is not None
        assignment, entry = decided
        assigned = dataclasses.replace(
            self.reports.reports[report_id],
            assignee_id=assignment.assignee_id,
            assignee_name=assignment.assignee_name,
            priority=assignment.priority,
        )
        self.reports.reports[report_id] = assigned
        self.audit.record(entry)
        return assigned

    def templates(self, agency_ids: Sequence[str]) -> list[ResponseTemplate]:
        wanted = set(agency_ids)
        found = [t for (agency, _), t in self.response_templates.items() if agency in wanted]
        return sorted(found, key=lambda t: (t.title.casefold(), t.id))

    def template(self, agency_id: str, template_id: str) -> ResponseTemplate | None:
        return self.response_templates.get((agency_id, template_id))

    def save_template(self, template: ResponseTemplate, entry: AuditEntry, *, new: bool) -> None:
        key = (template.agency_id, template.id)
        if new and key in self.response_templates:
            raise AlreadyExists(f"template {template.id} exists")
        if not new and key not in self.response_templates:
            raise TemplateNotFound(template.id)
        self.response_templates[key] = template
        self.audit.record(entry)

    def delete_template(self, agency_id: str, template_id: str, entry: AuditEntry) -> None:
        if self.response_templates.pop((agency_id, template_id), None) is None:
            raise TemplateNotFound(template_id)
        self.audit.record(entry)


if TYPE_CHECKING:
    _casework: CaseworkStore = InMemoryCaseworkStore()


# --- console: reference (ReferenceAdminStore) -------------------------------------------


@dataclass
class InMemoryReferenceAdminStore:
    """The stored agencies and rules at ``version`` (0: not seeded) and the rules'
    running totals; each edit records its entry in ``audit`` in the same call, as the
    adapter commits it. An edited agency keeps its stored channels, as the adapter's
    merge does."""

    audit: InMemoryAuditLog = field(default_factory=InMemoryAuditLog)
    version: int = 0
    agencies: dict[str, Agency] = field(default_factory=dict)
    rules: dict[str, RoutingRule] = field(default_factory=dict)
    routing_stats: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def seeded(cls, reference: Reference) -> InMemoryReferenceAdminStore:
        """As tools.seed leaves Firestore: ``reference``'s agencies and rules, version 1."""
        return cls(
            version=1,
            agencies={a.id: a for a in reference.agencies},
            rules={r.id: r for r in reference.routing_rules},
        )

    def stored(self) -> StoredReference:
        return StoredReference(
            self.version,
            tuple(self.agencies[k] for k in sorted(self.agencies)),
            tuple(self.rules[k] for k in sorted(self.rules)),
        )

    def edit(self, decide: Callable[[StoredReference], ReferenceEdit]) -> ReferenceEdit:
        if self.version == 0:
            raise ReferenceNotSeeded
        edit = decide(self.stored())
        if edit.agency is not None:
            before = self.agencies.get(edit.agency.id)
            channels = before.notification if before is not None else Notification()
            self.agencies[edit.agency.id] = edit.agency.model_copy(
                update={"notification": channels}
            )
        if edit.rule is not None:
            self.rules[edit.rule.id] = edit.rule
        if edit.deleted_rule is not None:
            self.rules.pop(edit.deleted_rule, None)
        self.version += 1
        self.audit.record(edit.entry)
        return edit

    def rule_stats(self, rule_ids: Sequence[str]) -> dict[str, Mapping[str, int]]:
        return {k: dict(self.routing_stats[k]) for k in rule_ids if k in self.routing_stats}


if TYPE_CHECKING:
    _reference_admin_store: ReferenceAdminStore = InMemoryReferenceAdminStore()


# --- staff (StaffStore) ---------------------------------------------------------------------


@dataclass
class InMemoryStaffStore:
    """Staff accounts, sessions, links and sign-in failures. Like the report store, a
    transactional ``decide`` runs twice (the second run's update is committed), and a
    refusal raised from it writes nothing. The outbox entries and change-log entries an
    update carries land in ``outbox`` and ``audit`` (share them with other fakes to see
    one database)."""

    accounts: dict[str, StaffAccount] = field(default_factory=dict)
    sessions: dict[str, StaffSession] = field(default_factory=dict)
    links: dict[str, StaffLink] = field(default_factory=dict)
    throttles: dict[str, SignInThrottle] = field(default_factory=dict)
    rate_slots: dict[str, set[int]] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    audit: InMemoryAuditLog = field(default_factory=InMemoryAuditLog)
    commits: int = 0

    def account(self, account_id: str) -> StaffAccount | None:
        return self.accounts.get(account_id)

    def account_by_email(self, email: str) -> StaffAccount | None:
        return next((a for a in self.accounts.values() if a.email == email), None)

    def accounts_in(self, agency_ids: Collection[str]) -> list[StaffAccount]:
        found = [a for a in self.accounts.values() if a.agency_id in set(agency_ids)]
        return sorted(found, key=lambda a: (a.name.casefold(), a.email))

    def create_account(self, account: StaffAccount, update: StaffUpdate) -> None:
        if self.account_by_email(account.email) is not None:
            raise EmailTaken(account.email)
        self.accounts[account.account_id] = account
        self._apply(dataclasses.replace(update, account=None))

    def update_account(
        self, account_id: str, decide: Callable[[StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        return self._transact(lambda: decide(self._need(self.accounts, account_id)))

    def session(self, session_id: str) -> StaffSession | None:
        return self.sessions.get(session_id)

    def update_session(
        self, session_id: str, decide: Callable[[StaffSession, StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        def run() -> StaffUpdate:
            session = self._need(self.sessions, session_id)
            return decide(session, self._need(self.accounts, session.account_id))

        return self._transact(run)

    def touch_session(self, session_id: str, at: dt.datetime) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = dataclasses.replace(
                self.sessions[session_id], last_seen_at=at
            )

    def end_sessions(self, session_ids: Sequence[str]) -> None:
        for session_id in session_ids:
            self.sessions.pop(session_id, None)

    def sessions_of(self, account_id: str) -> list[StaffSession]:
        found = [s for s in self.sessions.values() if s.account_id == account_id]
        return sorted(found, key=lambda s: s.created_at, reverse=True)

    def link(self, key: str) -> StaffLink | None:
        return self.links.get(key)

    def use_link(
        self, key: str, decide: Callable[[StaffLink, StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        def run() -> StaffUpdate:
            link = self._need(self.links, key)
            return decide(link, self._need(self.accounts, link.account_id))

        return self._transact(run)

    def throttle(self, key: str) -> SignInThrottle:
        return self.throttles.get(key, SignInThrottle(key))

    def count_failure(self, key: str, at: dt.datetime) -> int:
        current = self.throttle(key)
        self.throttles[key] = dataclasses.replace(current, failures=current.failures + 1)
        return current.failures + 1

    def lock(self, key: str, until: dt.datetime) -> None:
        self.throttles[key] = dataclasses.replace(self.throttle(key), locked_until=until)

    def claim_rate_slot(self, slot: RateSlot) -> None:
        taken = self.rate_slots.setdefault(slot.window_key, set())
        if slot.slot in taken:
            raise RateSlotTaken(slot.id)
        taken.add(slot.slot)

    def taken_rate_slots(self, window_key: str) -> frozenset[int]:
        return frozenset(self.rate_slots.get(window_key, set()))

    @staticmethod
    def _need(found: Mapping[str, Any], key: str) -> Any:
        if key not in found:
            raise StaffNotFound(key)
        return found[key]

    def _transact(self, run: Callable[[], StaffUpdate]) -> StaffUpdate:
        run()  # a transaction may run its decide more than once
        update = run()
        self._apply(update)
        return update

    def _apply(self, update: StaffUpdate) -> None:
        self.commits += 1
        if update.account is not None:
            self.accounts[update.account.account_id] = update.account
        for session in update.sessions:
            self.sessions[session.session_id] = session
        for link in update.links:
            self.links[link.key] = link
        if update.throttle is not None:
            if update.throttle.is_clean:
                self.throttles.pop(update.throttle.key, None)
            else:
                self.throttles[update.throttle.key] = update.throttle
        for message in update.outbox:
            self.outbox[message.id] = message
        for entry in update.audit:
            self.audit.record(entry)


if TYPE_CHECKING:
    _staff_store: StaffStore = InMemoryStaffStore()


# --- attachments: storage (BlobStore) ---------------------------------------------------
# Held to shared/adapters/storage.py by tests/integration/test_blob_store_contract.py.


class InMemoryBlobStore:
    """Objects in a dict. Its signed URLs have the V4 shape (the object's path, the
    expiry in seconds, the signed headers) on a host that never answers: unit tests
    read them, they do not fetch them."""

    def __init__(self, bucket: str = "lapor-test-attachments") -> None:
        self.bucket = bucket
        self.objects: dict[str, StoredObject] = {}
        self.stats = BlobStats()  # counted as GcsBlobStore counts its requests

    def put(self, name: str, data: bytes, content_type: str) -> None:
        self.stats.add("puts")
        self.objects[name] = StoredObject(name, content_type, bytes(data))

    def get(self, name: str, max_bytes: int | None = None) -> StoredObject:
        stored = self.objects.get(name)
        if max_bytes is not None:
            self.stats.add("lookups")
            if stored is None:
                raise ObjectNotFound(name)
            if len(stored.data) > max_bytes:
                raise ObjectTooLarge(name, len(stored.data), max_bytes)
        self.stats.add("gets")
        if stored is None:
            raise ObjectNotFound(name)
        return stored

    def copy(self, source: str, target: str) -> None:
        self.stats.add("copies")
        try:
            stored = self.objects[source]
        except KeyError:
            raise ObjectNotFound(source) from None
        self.objects[target] = dataclasses.replace(stored, name=target)

    def exists(self, name: str) -> bool:
        self.stats.add("lookups")
        return name in self.objects

    def delete(self, name: str) -> None:
        self.stats.add("deletes")
        self.objects.pop(name, None)

    def signed_get_url(self, name: str, expires_in: dt.timedelta) -> str:
        return self._signed_url(name, expires_in, "host")

    def signed_put_url(
        self,
        name: str,
        content_type: str,
        expires_in: dt.timedelta,
        max_bytes: int | None = None,
    ) -> SignedUpload:
        headers = upload_headers(content_type, max_bytes)
        signed = ";".join(sorted([*(k.lower() for k in headers), "host"]))
        return SignedUpload(self._signed_url(name, expires_in, signed), headers)

    def _signed_url(self, name: str, expires_in: dt.timedelta, headers: str) -> str:
        self.stats.add("signs")
        query = {
            "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
            "X-Goog-Expires": str(int(expires_in.total_seconds())),
            "X-Goog-SignedHeaders": headers,
            "X-Goog-Signature": uuid.uuid4().hex,
        }
        return f"https://storage.fake.invalid/{self.bucket}/{quote(name)}?{urlencode(query)}"


if TYPE_CHECKING:
    _blob_store: BlobStore = InMemoryBlobStore()
