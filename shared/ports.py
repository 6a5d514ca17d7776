"""The ports the use cases talk through, the data that crosses them, and the bundle of
ports each function hands its use cases. Adapters (shared/adapters) implement the
ports, tests/fakes.py stands in for them in unit tests, and shared/wiring.py builds
the bundles; nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from shared.domain.casework import Assignment, ResponseTemplate, StaffNote
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Report, Role, State, TimelineEvent
from shared.domain.routing import KeywordProfile, Rule
from shared.domain.staff import SignInThrottle, StaffAccount, StaffLink, StaffSession

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.reference import Agency, Reference, RoutingRule


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


@dataclass(frozen=True)
class OutboxMessage:
    """An event to publish, committed with the change that caused it (transactional outbox)."""

    id: str
    topic: str
    data: Mapping[str, object]
    attributes: Mapping[str, str]
    created_at: dt.datetime

    @classmethod
    def cloud_event(
        cls,
        id: str,
        topic: str,
        data: Mapping[str, object],
        *,
        type: str,
        source: str,
        subject: str,
        at: dt.datetime,
    ) -> OutboxMessage:
        """A JSON CloudEvent in Pub/Sub's binary mode (``ce-*`` attributes), the one way
        every outbox message is made, so every consumer reads the same envelope."""
        return cls(
            id=id,
            topic=topic,
            data=data,
            attributes={
                "ce-specversion": "1.0",
                "ce-id": id,
                "ce-type": type,
                "ce-source": source,
                "ce-subject": subject,
                "ce-time": at.isoformat(),
                "content-type": "application/json",
            },
            created_at=at,
        )


@dataclass(frozen=True)
class IdempotencyRecord:
    key_hash: str
    fingerprint: str  # of the request body: the same key with another body is refused
    report_id: str
    tracking_code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class RateSlot:
    """One of the ``limit`` submissions a client may make in a window.

    Each accepted report claims a slot document with a create precondition in the
    report's own commit, so the limit costs no read on the way in: a commit fails
    only when the slot is taken, and only then are the taken slots counted.
    """

    window_key: str  # "<client pseudonym>:<window number>"
    slot: int
    expires_at: dt.datetime

    @property
    def id(self) -> str:
        return f"{self.window_key}:{self.slot}"


@dataclass(frozen=True)
class NewSubmission:
    """Everything one accepted submission writes, in one commit: with the running
    totals it moves (the published figures count it as received)."""

    report: Report
    event: TimelineEvent
    identity: ReporterIdentity
    outbox: OutboxMessage
    rate_slot: RateSlot
    idempotency: IdempotencyRecord | None = None
    tallies: tuple[Tally, ...] = ()
    # What it tells (the reporter: accepted), outbox entries too (shared.usecases.notices).
    notifications: tuple[OutboxMessage, ...] = ()


class TrackingCodeTaken(Exception):
    """Another report already holds this tracking code; draw a new one."""


class IdempotencyKeyTaken(Exception):
    """An earlier request with the same idempotency key committed first."""

    def __init__(self, previous: IdempotencyRecord) -> None:
        super().__init__(previous.key_hash)
        self.previous = previous


class RateSlotTaken(Exception):
    """The client already used this rate-limit slot in this window; pick a free one."""


class PublishFailed(Exception):
    """The message bus did not accept the message; the outbox keeps it for the sweeper."""


@dataclass(frozen=True)
class Tally:
    """A running total moved in the same commit as the change that explains it."""

    counter: str  # a family of totals, e.g. "routing_stats"
    key: str  # which total, e.g. a routing rule id
    field: str  # e.g. "not_our_authority"
    by: int = 1


@dataclass(frozen=True)
class Change:
    """What one transition writes, atomically: the report, its event, the outbox, and
    the running totals the event moves.

    ``settle`` names outbox entries this change has dealt with (the route function
    settles the ``report.submitted`` entry it consumed), so the sweeper leaves them.
    """

    report: Report
    event: TimelineEvent
    outbox: tuple[OutboxMessage, ...] = ()
    settle: tuple[str, ...] = ()
    tallies: tuple[Tally, ...] = ()
    # Change-log entries committed with it (an erasure of the reporter's contact details).
    audit: tuple[AuditEntry, ...] = ()
    # The report's version after the commit, set by the store (None before it commits);
    # not part of what the change is, so two equal changes stay equal.
    version: object = field(default=None, compare=False)

    @property
    def committed(self) -> Snapshot | None:
        """The report as this change committed it: the ``known`` of a next transition
        of the same report, which then needs no read. None before the commit."""
        return None if self.version is None else Snapshot(self.report, self.version)


@dataclass(frozen=True)
class Snapshot:
    """A report as the store last read or wrote it, with that version of it.

    ``version`` is the store's own token (Firestore: the document's update time and
    the hash of its last event, which the next event is chained to) and means nothing
    to the caller, which only hands it back as ``known``.
    """

    report: Report
    version: object


class ReportNotFound(Exception):
    pass


class StoreBusy(Exception):
    """Others kept changing the same documents until the store gave up retrying:
    nothing was written, and the same request is likely to succeed a moment later
    (answered 503 with Retry-After)."""

    retry_after_s = 1


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time, its retries included.
    A commit is whole or nothing, but one that timed out may have landed: the caller
    retries with the same idempotency key (a form's nonce, an Idempotency-Key, the
    message's own id). Answered 503 with Retry-After; a push handler lets it propagate
    so Pub/Sub delivers the message again."""

    retry_after_s = 5


class ReportStore(Protocol):
    def new_report_id(self) -> str: ...

    def create_submission(self, submission: NewSubmission) -> None:
        """Commit all of it or nothing.

        When a claim is taken, raise IdempotencyKeyTaken (checked first: a replay wins),
        RateSlotTaken or TrackingCodeTaken; nothing is written then.
        """
        ...

    def taken_rate_slots(self, window_key: str) -> frozenset[int]: ...

    def find_by_tracking_code(self, tracking_code: str) -> Report | None: ...

    def get(self, report_id: str) -> Report | None: ...

    def timeline(self, report_id: str) -> Sequence[TimelineEvent]: ...

    def identity(self, report_id: str) -> ReporterIdentity | None: ...

    def masked_identity(self, report_id: str) -> ReporterIdentity | None:
        """The identity as kept beside the seal, masked (shared.domain.contact.masked):
        readable without the key that opens identities. None when there is none, or
        when it was sealed before masks were kept."""
        ...

    def transition(
        self, report_id: str, decide: Callable[[Report], Change], known: Snapshot | None = None
    ) -> Change:
        """Read the report, let ``decide`` compute the change, and commit it atomically.

        Runs in a transaction: a concurrent change makes ``decide`` run again on the
        fresh report, so no update is lost. ``decide`` may raise to change nothing
        (a LifecycleError, say); that exception propagates. ReportNotFound if absent.

        ``known``: the report as the caller already read it (a query's snapshot, or
        the previous change's ``committed``). ``decide`` runs on it and the change
        commits without reading the report again, on the condition that the report
        is still that version. When it is not (someone changed it since), or when
        ``decide`` refuses the known version, it goes as above: the fresh report is
        read and decided on again. So what commits, or is refused, is always decided
        on the current report; ``known`` only saves the read when nothing changed,
        which is what lets a job that has just queried its reports read each once.
        The returned change carries the new version (``Change.committed``).
        """
        ...

    def settle_outbox(self, message_ids: Sequence[str]) -> None:
        """Delete outbox entries the bus has accepted and nobody else settles."""
        ...


class SubmitStore(ReportStore, Protocol):
    """The submit function's store: reports, and what "Lost your link?" writes."""

    def claim_rate_slot(self, slot: RateSlot) -> None:
        """Take ``slot`` alone, by a create precondition (no read); RateSlotTaken when
        it is already taken (then ``taken_rate_slots`` says which are)."""
        ...

    def commit_link_resend(self, slot: RateSlot, message: OutboxMessage) -> None:
        """Take ``slot`` (a report's resend of the day) and commit ``message`` to the
        outbox, in one commit; RateSlotTaken, with nothing written, when it is taken."""
        ...

    def contact_matches(self, report_id: str, channel: Literal["email", "sms"], value: str) -> bool:
        """Whether ``value`` is the contact the report's reporter gave on ``channel``,
        by its keyed digest kept beside the seal (no identity opened), in constant
        time. False for no identity, or one sealed before digests were kept."""
        ...


class Publisher(Protocol):
    def publish(self, message: OutboxMessage) -> None:
        """Return once the bus has accepted the message; raise PublishFailed otherwise."""
        ...


# --- routing and the outbox sweeper ---------------------------------------------------


class RouteStore(ReportStore, Protocol):
    def pending_outbox_entry(self, message_id: str) -> OutboxMessage | None:
        """The outbox entry if it is still pending (not yet settled), else None."""
        ...


class OutboxStore(Protocol):
    def pending_outbox(self, created_before: dt.datetime, limit: int) -> list[OutboxMessage]:
        """Pending entries committed before ``created_before``, oldest first."""
        ...

    def record_sweep(self, message_ids: Sequence[str], at: dt.datetime) -> None:
        """Count one more publish attempt on each entry still there."""
        ...

    def settle_outbox(self, message_ids: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class RoutingTables:
    """The reference data as routing reads it: rules, the agencies a report may be
    dispositioned to, and their keyword profiles."""

    rules: tuple[Rule, ...]
    known_agencies: frozenset[str]
    profiles: tuple[KeywordProfile, ...]


# --- the daily escalation run ---------------------------------------------------------


@dataclass(frozen=True)
class DuePage:
    """One page of the reports the daily run must look at, in (next_due_on, id) order:
    whole reports with their versions, so the run's first transition of each needs no
    read of its own (``ReportStore.transition``'s ``known``)."""

    reports: tuple[Snapshot, ...]
    next_after: tuple[str, str] | None  # (next_due_on, id) of the last; None: no more


class EscalationStore(RouteStore, Protocol):
    def due_reports(
        self, on_or_before: dt.date, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        """Reports whose ``next_due_on`` is on or before the date, ``(next_due_on, id)``
        ascending, at most ``limit``, strictly after the cursor ``after``; one read
        per report returned (an empty page: one)."""
        ...

    def refresh(self, report_id: str, recompute: Callable[[Report], Report]) -> Report:
        """Store ``recompute(report)`` when it differs from the report, in a transaction,
        with no event (derived fields only: a reconfiguration moved ``next_due_on``)."""
        ...


# --- the agency API: API keys and the inbox -------------------------------------------


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str
    agency_id: str
    role: Role
    label: str
    created_at: dt.datetime
    revoked: bool = False
    created_by: str = ""  # who issued it (a staff member's name; older keys: empty)
    revoked_at: dt.datetime | None = None


class ApiKeyStore(Protocol):
    def api_key(self, key_hash: str) -> ApiKeyRecord | None: ...


@dataclass(frozen=True)
class Scope:
    """What a caller may see: everything, or reports whose agency or unit is listed,
    plus (regional admins) the unrouted reports of a region."""

    everything: bool = False
    agencies: frozenset[str] = frozenset()  # matched against agency_id and unit_id
    units_only: bool = False  # unit officers: matched against unit_id only
    queue_region: str | None = None  # regional admin queue


@dataclass(frozen=True)
class InboxQuery:
    """One page of an inbox, as the store runs it.

    Order: newest submission first, ``(submitted_at desc, id desc)``; with
    ``overdue_before``, most overdue first, ``(clock_due asc, id asc)``.
    """

    scope: Scope
    status: State | None = None
    # clock_due < this: the running clock ran out. No clock runs on hold, resolved or
    # terminal (clock_due is null), so no list of states is needed.
    overdue_before: dt.date | None = None
    escalated: bool = False  # a tier fired for the running clock (Report.escalated)
    admin_queue: bool = False  # state == submitted (and, regionally, in the region)
    limit: int = 25
    after: tuple[str, str] | None = None  # (sort value, report id) of the previous page
    # Reports given to this staff account ("assigned to me"): with a status or not,
    # never with overdue, escalated or the admin queue (each shape needs its own index).
    assignee_id: str | None = None

    def __post_init__(self) -> None:
        if self.assignee_id is not None and (
            self.overdue_before is not None or self.escalated or self.admin_queue
        ):
            raise ValueError("an assignee filter goes with a status only")


@dataclass(frozen=True)
class InboxPage:
    reports: Sequence[Report]
    next_after: tuple[str, str] | None


class InboxStore(Protocol):
    def inbox(self, query: InboxQuery) -> InboxPage: ...

    def count(self, queries: Sequence[InboxQuery]) -> list[int]:
        """How many reports each query's filters match (its limit and cursor ignored), in
        order: one count aggregation per query (per 30 agencies of scope), run together."""
        ...


# --- notifications: the delivery log, channels, the webhook sender ----------------------


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"  # accepted by the agency's receiver, the relay or the gateway
    RETRYING = "retrying"  # failed in a way another try may fix; Pub/Sub retries
    FAILED = "failed"  # refused for good, or dead-lettered: shown to the admins
    NO_CHANNEL = "no_channel"  # nothing to send it through (no webhook, address, contact)
    SKIPPED = "skipped"  # the report is no longer this agency's: nothing is sent
    UNSUBSCRIBED = "unsubscribed"  # the recipient stopped this channel: nothing is sent
    QUEUED = "queued"  # an item of the agency's hourly digest, not sent yet


# Nothing more is attempted for these by notify: a redelivered notification sends
# nothing on such a channel (a QUEUED item is the digest job's to send).
SETTLED = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.NO_CHANNEL,
        DeliveryStatus.SKIPPED,
        DeliveryStatus.UNSUBSCRIBED,
        DeliveryStatus.QUEUED,
    }
)

DeliveryChannel = Literal["webhook", "email", "sms"]


@dataclass(frozen=True)
class ChannelDelivery:
    """One channel's part of a notification's delivery."""

    channel: DeliveryChannel
    status: DeliveryStatus
    attempts: int = 0
    # An agency's e-mail address (shown only to that agency's staff). Never a
    # reporter's contact: that stays in the identity, read only to send.
    address: str | None = None
    last_status_code: int | None = None  # HTTP status or SMTP reply code
    last_error: str | None = None
    first_attempt_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    digest_id: str | None = None  # the hourly digest that carries (or carried) it


def overall_status(channels: Sequence[ChannelDelivery]) -> DeliveryStatus | None:
    """The status of a notification from its channels' (None when it has none): a
    channel still retrying or failed decides, so a partly failed one shows as failed."""
    statuses = {c.status for c in channels}
    for status in (
        DeliveryStatus.RETRYING,
        DeliveryStatus.FAILED,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.QUEUED,
        DeliveryStatus.UNSUBSCRIBED,
        DeliveryStatus.SKIPPED,
        DeliveryStatus.NO_CHANNEL,
    ):
        if status in statuses:
            return status
    return None


@dataclass(frozen=True)
class Delivery:
    """One notification's delivery log entry, with a part per channel.

    To an agency (``agency_id``) or to the reporter (``agency_id`` None); ``report_id``
    is None for a notification about no report (the daily figures). ``status`` is
    :func:`overall_status` of the channels, or why there is none (no channel, skipped,
    failed before any send: the report is gone, dead-lettered).
    """

    notification_id: str
    report_id: str | None
    agency_id: str | None
    kind: str
    status: DeliveryStatus
    channels: tuple[ChannelDelivery, ...] = ()
    last_error: str | None = None  # about the notification as a whole
    updated_at: dt.datetime | None = None
    seq: int | None = None  # the timeline event it tells of
    tracking_code: str | None = None
    title: str | None = None  # the report's, for a digest's line

    @property
    def recipient(self) -> Literal["agency", "reporter"]:
        return "reporter" if self.agency_id is None else "agency"

    def channel(self, name: str) -> ChannelDelivery | None:
        return next((c for c in self.channels if c.channel == name), None)

    @property
    def attempts(self) -> int:
        return sum(c.attempts for c in self.channels)

    @property
    def first_attempt_at(self) -> dt.datetime | None:
        return min((c.first_attempt_at for c in self.channels if c.first_attempt_at), default=None)

    @property
    def last_attempt_at(self) -> dt.datetime | None:
        return max((c.last_attempt_at for c in self.channels if c.last_attempt_at), default=None)

    @property
    def delivered_at(self) -> dt.datetime | None:
        return max((c.delivered_at for c in self.channels if c.delivered_at), default=None)


class SendOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRYABLE = "retryable"  # try again later: 5xx, 408, 429, timeouts, connection errors
    PERMANENT = "permanent"  # the agency refused it: another try would be refused too


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    # The HTTP status, or the SMTP reply code; None when no answer came back.
    status_code: int | None = None
    error: str | None = None  # what went wrong, short, for the delivery log


@dataclass(frozen=True)
class AgencyChannel:
    """Where and how an agency is told: its webhook (signed with ``secret``, None when
    none was seeded), else one e-mail to all of ``emails``, at once or (``digest``) in
    one message an hour.

    After a rotation the secret it replaced (``previous_secret``) still signs until
    ``previous_until``, beside the new one, so the agency's receiver can switch over
    without refusing a delivery (Standard Webhooks verifies any of the signatures)."""

    agency_id: str
    webhook_url: str | None
    emails: tuple[str, ...]
    secret: str | None
    digest: bool = False
    previous_secret: str | None = None
    previous_until: dt.datetime | None = None
    # ``secret`` and ``previous_secret`` are held as stored: sealed at rest
    # (shared/adapters/signing_secrets.py), they are opened by this only when a webhook
    # is signed, so a function that never signs never needs the key that opens them.
    open_secret: Callable[[str], str] = field(default=str, repr=False, compare=False)

    def signing_secrets(self, at: dt.datetime) -> tuple[str, ...]:
        """The secrets a webhook sent at ``at`` is signed with: the current one first,
        and the previous one while it is still valid. Empty when none was seeded."""
        if not self.secret:
            return ()
        previous = self.previous_secret
        if previous and self.previous_until is not None and at < self.previous_until:
            return (self.open_secret(self.secret), self.open_secret(previous))
        return (self.open_secret(self.secret),)


@dataclass(frozen=True)
class DeliveryClaim:
    """What :meth:`DeliveryLog.claim_delivery` found: the entry so far, and whether this
    attempt may send (no other attempt is sending the same notification right now)."""

    previous: Delivery | None
    granted: bool


class DeliveryLog(Protocol):
    def get_delivery(self, report_id: str | None, notification_id: str) -> Delivery | None:
        """The entry of ``notification_id``: in the report's log, or (``report_id``
        None) in the log of notifications about no report."""
        ...

    def claim_delivery(
        self, report_id: str | None, notification_id: str, now: dt.datetime, hold: dt.timedelta
    ) -> DeliveryClaim:
        """The entry of ``notification_id`` (as :meth:`get_delivery`), and the right to
        send it: refused while another attempt's claim holds (unexpired at ``now``),
        else recorded until ``now + hold`` in one transaction; :meth:`save_delivery`
        releases it. A settled entry is returned without a write. Pub/Sub may push one
        message twice at once: the second copy is refused instead of sending again."""
        ...

    def save_delivery(self, delivery: Delivery, *, settles: str | None = None) -> None:
        """Write the entry; with ``settles``, delete that outbox entry in the same
        commit (the notification is settled: nothing left for the sweeper to resend)."""
        ...


class AgencyChannels(Protocol):
    def agency_channel(self, agency_id: str) -> AgencyChannel | None:
        """None when the agency is unknown."""
        ...


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: Sequence[Delivery]
    # (updated_at ISO, notification id) of the last one shown; None: no more.
    next_after: tuple[str, str] | None


class DeliveryHistory(Protocol):
    def deliveries(self, report_id: str) -> list[Delivery]:
        """A report's delivery log, oldest first attempt first."""
        ...

    def failed_deliveries(
        self, agency_id: str | None, limit: int, after: tuple[str, str] | None = None
    ) -> DeliveryPage:
        """Failed deliveries, last changed first ``(updated_at desc, notification_id
        desc)``, strictly after the cursor: every one (``agency_id`` None) or those to
        one agency. One read per delivery returned (an empty page: one)."""
        ...


@dataclass(frozen=True)
class Digest:
    """One agency's digest of one hour: ``{agency_id}.{YYYY-MM-DDTHH}`` (Asia/Jakarta)."""

    agency_id: str
    hour: dt.datetime  # the hour's start, aware
    status: DeliveryStatus  # DELIVERED, FAILED or UNSUBSCRIBED; RETRYING: not sent yet
    notification_ids: tuple[str, ...]
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    sent_at: dt.datetime | None = None

    @property
    def id(self) -> str:
        return f"{self.agency_id}.{self.hour:%Y-%m-%dT%H}"


class DigestStore(Protocol):
    def queued_items(self, agency_id: str, limit: int) -> list[Delivery]:
        """The agency's deliveries waiting for its digest (QUEUED), at most ``limit``;
        one read per item (none queued: one)."""
        ...

    def digest(self, agency_id: str, hour: dt.datetime) -> Digest | None: ...

    def save_digest(self, digest: Digest, items: Sequence[Delivery]) -> None:
        """Write the digest record and its items' deliveries in one commit."""
        ...


class WebhookSender(Protocol):
    def send(
        self,
        url: str,
        secrets: Sequence[str],
        message_id: str,
        payload: Mapping[str, Any],
        at: dt.datetime,
    ) -> SendResult:
        """POST ``payload`` signed with each of ``secrets`` (one signature each) as
        attempt time ``at``; never raises for what the network or the agency did: that
        is the result's outcome."""
        ...


# --- e-mail, and the recipients' opt-outs ---------------------------------------------


@dataclass(frozen=True)
class OutgoingEmail:
    """One message, composed (shared.usecases.mail) and ready to send: to one address,
    or to all of an agency's in one SMTP transaction (one RCPT TO each; the To: header
    lists them). The sender adds From and Date; ``headers`` are the rest."""

    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_id: str  # "<hash@domain>": the same for every attempt of one notification
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def to(self) -> str:
        """The To: header: every recipient, comma-separated."""
        return ", ".join(self.recipients)


class EmailSender(Protocol):
    def send(self, message: OutgoingEmail) -> SendResult:
        """Hand ``message`` to the relay; never raises for what the network or the relay
        did: that is the result's outcome (accepted: delivered; 5xx: permanent; 4xx,
        no connection, a timeout: retryable)."""
        ...


OptOutAudience = Literal["reporter", "agency"]
OptOutChannel = Literal["email", "sms"]
_OPT_OUT_OWNER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class OptOut:
    """Whom an unsubscribe stops: a reporter's messages about one report on one channel
    (``address`` empty: a report has one contact per channel), or one address of an
    agency (``address`` is a keyed hash of it, shared.tokens.agency_opt_out: another
    address of the same agency still gets its mail). What an unsubscribe token names."""

    audience: OptOutAudience
    owner: str  # the report id, or the agency id
    channel: OptOutChannel
    address: str = ""

    def __post_init__(self) -> None:
        if self.audience not in ("reporter", "agency") or self.channel not in ("email", "sms"):
            raise ValueError("unknown opt-out audience or channel")
        if not _OPT_OUT_OWNER.fullmatch(self.owner):
            raise ValueError("an opt-out owner is a report or agency id")
        if self.address and not _OPT_OUT_OWNER.fullmatch(self.address):
            raise ValueError("an opt-out address is a hash")

    @property
    def key(self) -> str:
        """Stable and unique per recipient: the opt-out's document id."""
        return ".".join(filter(None, (self.audience, self.owner, self.channel, self.address)))


class ContactPreferences(Protocol):
    def opt_out(self, who: OptOut, at: dt.datetime) -> None:
        """Record that ``who`` wants no more messages; doing it again changes nothing."""
        ...

    def is_opted_out(self, who: OptOut) -> bool: ...


# --- SMS ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingSms:
    """One text to one phone, composed (shared.usecases.sms) and ready to send."""

    to: str  # E.164, "+6281234567890"
    text: str
    # The notification's id: the gateway's message id, so a resend of the same
    # notification is recognised by the gateway and not sent twice.
    reference: str


class SmsSender(Protocol):
    def send(self, message: OutgoingSms) -> SendResult:
        """Hand ``message`` to the SMS gateway; never raises for what the network or the
        gateway did: that is the result's outcome (accepted: delivered; refused, an
        invalid number: permanent; 5xx, 429, no connection, a timeout: retryable)."""
        ...


# --- attachments: scanning ---------------------------------------------------------------


class ScanVerdict(StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    # The scanner did not (or could not) look: the file is judged by its type checks
    # alone (shared.domain.attachments), as where no scanner is configured.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ScanResult:
    verdict: ScanVerdict
    detail: str = ""  # the scanner's own words (a signature name), for the log only


class MalwareScanner(Protocol):
    """The plug-in point for a malware scan of an uploaded file (ClamAV, a cloud
    scanning API), chosen by LAPOR_ATTACHMENT_SCANNER in shared/wiring.py. It sees the
    bytes as uploaded, before any re-encoding; an INFECTED verdict refuses the file."""

    def scan(self, data: bytes, *, media_type: str) -> ScanResult: ...


# --- the citizen site's public figures and its public list of reports -----------------


class FiguresReader(Protocol):
    """The documents the daily report job stores under ``daily_figures/{day}``, as
    stored (plain JSON values; the public pages validate what they use). Each method
    reads one document."""

    def latest_figures_day(self) -> dt.date | None:
        """The last day with a published summary; None before the first run."""
        ...

    def figures_summary(self, day: dt.date | None) -> Mapping[str, Any] | None:
        """The summary of ``day`` (of the latest day when None), or None."""
        ...

    def figures_scope(self, day: dt.date, scope_id: str) -> Mapping[str, Any] | None:
        """One agency's, region's or the nation's figures of ``day``, or None."""
        ...

    def figures_export(self, day: dt.date, name: str) -> Mapping[str, Any] | None:
        """A ready-made export of ``day`` (``agencies_csv``), or None."""
        ...


@dataclass(frozen=True)
class PublicReport:
    """All the public list shows of a report that is not confidential."""

    tracking_code: str
    type: str
    category: str
    province_code: str
    regency_code: str | None
    state: State
    agency_id: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class PublicReportPage:
    reports: Sequence[PublicReport]
    # (submitted_at ISO, tracking code) of the last report shown; None: no more.
    next_after: tuple[str, str] | None


class PublicReportList(Protocol):
    def public_reports(self, limit: int, after: tuple[str, str] | None = None) -> PublicReportPage:
        """Reports that are not confidential, newest submission first
        ``(submitted_at desc, tracking_code desc)``, strictly after the cursor. A
        confidential report is never returned."""
        ...


# --- the daily report job: counters in, the day's figures out ------------------------


class FiguresStore(Protocol):
    """What the daily report reads and writes (shared.usecases.daily_report says which
    documents, and what each costs)."""

    def counter_documents(
        self, counter: str, first: dt.date | None, last: dt.date
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """``(id, data)`` of the ``counter`` documents of the days ``first`` (None: the
        very first) to ``last``, whose ids start with the ISO date: one id range."""
        ...

    def running_totals(self, counter: str) -> dict[str, dict[str, int]]:
        """Every ``counter`` document's totals, by id (a rule's, say)."""
        ...

    def stored_summary(self, day: dt.date) -> Mapping[str, Any] | None: ...

    def previous_summary(self, before: dt.date) -> Mapping[str, Any] | None:
        """The summary of the latest stored day before ``before``, or None."""
        ...

    def scope_documents(self, day: dt.date) -> dict[str, Mapping[str, Any]]:
        """Every scope document of ``day``, by scope."""
        ...

    def overdue_total(self, day: dt.date) -> int:
        """Reports overdue on ``day``: their running clock's due date is before it."""
        ...

    def overdue_scopes(self, day: dt.date) -> list[str]:
        """The scope (shared.domain.figures.scope_of) of each report overdue on ``day``."""
        ...

    def overdue_counts(
        self, day: dt.date, agencies: Sequence[str], regions: Sequence[str]
    ) -> dict[str, int]:
        """Reports overdue on ``day`` per scope: each agency's, and each region's
        unrouted ones (``unrouted:<code>``; a province's are those in no listed regency)."""
        ...

    def save_day(
        self,
        day: dt.date,
        *,
        scopes: Mapping[str, Mapping[str, Any]],
        exports: Mapping[str, Mapping[str, Any]],
        outbox: Sequence[OutboxMessage],
        summary: Mapping[str, Any],
    ) -> bool:
        """Write the day's scope and export documents, then the summary last: a day whose
        summary exists is complete. With ``outbox`` (the run found the day new) the
        summary is created in one commit with the entries; False when another run
        created it first: this run then wrote no entry and publishes nothing."""
        ...


# --- personal data at rest (shared/adapters/crypto.py) -----------------------------------


class SealedDataUnreadable(Exception):
    """A sealed value cannot be opened: this instance holds no key to open with, the
    value was sealed for another document, or it was altered."""


class Sealer(Protocol):
    """Encrypts personal data before it is stored. ``context`` names the document the
    value belongs to (``identities/{report id}``): a value opens only with the context
    it was sealed with, so a ciphertext copied into another document reads as nothing.
    A sealer may seal without being able to open (the public submit function)."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes: ...

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        """The plaintext, or SealedDataUnreadable."""
        ...


@dataclass
class FixedClock:
    """A clock for tests and benchmarks that moves only when told."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


# --- the bundles: what each function hands its use cases (built in shared/wiring.py) ---


def _unwired_blobs() -> BlobStore:
    raise RuntimeError("this bundle was built without a blob store (blobs_factory)")


def _unwired_scanner() -> MalwareScanner:
    raise RuntimeError("this bundle was built without a malware scanner (scanner_factory)")


@dataclass(frozen=True)
class SubmitPorts:
    """The submit function's: the form, the reporter's API and the tracking pages.

    Each part is made on first use, so the form (GET /) builds no store and no
    publisher: it needs only the running reference (the agencies it offers), whose
    source re-reads one version document at most every ``reference_refresh_s``.
    """

    settings: Settings
    clock: Clock
    # The running reference (ReferenceSource.current): the agencies the national admin
    # maintains, for the form's choices, its validation and the names on the pages.
    reference_factory: Callable[[], Reference]
    store_factory: Callable[[], SubmitStore]
    publisher_factory: Callable[[], Publisher]
    # The public figures and list (shared/web/public_pages.py), made on first use too.
    public_factory: Callable[[], PublicPorts]
    # The unsubscribe page's (shared/web/unsubscribe_pages.py), made on first use too.
    preferences_factory: Callable[[], ContactPreferences]
    # The delivery log, read for the reporter's own tracking page ("Anda diberi tahu").
    deliveries_factory: Callable[[], DeliveryHistory]
    # The reports' files and the scan of uploads: made only by a request with files.
    blobs_factory: Callable[[], BlobStore] = _unwired_blobs
    scanner_factory: Callable[[], MalwareScanner] = _unwired_scanner

    @property
    def reference(self) -> Reference:
        return self.reference_factory()

    @property
    def blobs(self) -> BlobStore:
        return self.blobs_factory()

    @property
    def scanner(self) -> MalwareScanner:
        return self.scanner_factory()

    @property
    def store(self) -> SubmitStore:
        return self.store_factory()

    @property
    def publisher(self) -> Publisher:
        return self.publisher_factory()

    @property
    def public(self) -> PublicPorts:
        return self.public_factory()

    @property
    def preferences(self) -> ContactPreferences:
        return self.preferences_factory()

    @property
    def deliveries(self) -> DeliveryHistory:
        return self.deliveries_factory()


@dataclass(frozen=True)
class PublicPorts:
    """The public figures pages' and the public list's: read only."""

    settings: Settings
    figures: FiguresReader
    reports: PublicReportList
    reference: Reference


@dataclass(frozen=True)
class RoutePorts:
    store: RouteStore
    publisher: Publisher
    clock: Clock
    settings: Settings
    tables: RoutingTables  # derived from ``reference`` (shared.usecases.route.routing_tables)
    reference: Reference  # whom an unrouted report's notification goes to
    # The reports' files: route promotes the files a commit announced (made on first use).
    blobs_factory: Callable[[], BlobStore] = _unwired_blobs

    @property
    def blobs(self) -> BlobStore:
        return self.blobs_factory()


@dataclass(frozen=True)
class AgencyPorts:
    store: ReportStore
    keys: ApiKeyStore
    inbox: InboxStore
    publisher: Publisher
    clock: Clock
    settings: Settings
    reference: Reference
    # The Ombudsman dossier's: the delivery log and the published figures.
    deliveries: DeliveryHistory
    figures: FiguresReader
    # Where every view of a reporter's identity by staff is recorded (and the console's
    # changes: ConsolePorts.audit is this one).
    audit: AuditLog
    # The reports' files and the scan of uploads, made on first use.
    blobs_factory: Callable[[], BlobStore] = _unwired_blobs
    scanner_factory: Callable[[], MalwareScanner] = _unwired_scanner

    @property
    def blobs(self) -> BlobStore:
        return self.blobs_factory()

    @property
    def scanner(self) -> MalwareScanner:
        return self.scanner_factory()


@dataclass(frozen=True)
class NotifyPorts:
    """The notify function's. The e-mail and SMS senders are made on first use: a
    deployment without a relay or a gateway still delivers webhooks, and a message
    that needs the missing one is retried (and shows why) until it is configured."""

    store: ReportStore
    deliveries: DeliveryLog
    channels: AgencyChannels
    sender: WebhookSender
    clock: Clock
    settings: Settings
    reference: Reference
    preferences: ContactPreferences
    email_factory: Callable[[], EmailSender]
    sms_factory: Callable[[], SmsSender]
    # Staff accounts, read for a staff member's own e-mail (an invitation, a reset).
    staff: StaffDirectory

    @property
    def email(self) -> EmailSender:
        return self.email_factory()

    @property
    def sms(self) -> SmsSender:
        return self.sms_factory()


@dataclass(frozen=True)
class DigestPorts:
    """The hourly digest's: the queued items, the agencies' addresses, the relay."""

    digests: DigestStore
    channels: AgencyChannels
    preferences: ContactPreferences
    email_factory: Callable[[], EmailSender]
    clock: Clock
    settings: Settings
    reference: Reference

    @property
    def email(self) -> EmailSender:
        return self.email_factory()


@dataclass(frozen=True)
class EscalatePorts:
    store: EscalationStore
    publisher: Publisher
    clock: Clock  # when the run was asked for: the default run date
    settings: Settings
    reference: Reference


class RetentionStore(ReportStore, Protocol):
    def identities_ended_before(
        self, before: dt.datetime, limit: int, after: tuple[str, str] | None = None
    ) -> DuePage:
        """Reports that ended (closed or archived) before ``before`` and still hold their
        reporter's identity, ``(ended_at, id)`` ascending, at most ``limit``, strictly
        after the cursor ``after`` (``next_after`` is the last one's ``(ended_at ISO,
        id)``); one read per report returned (an empty page: one)."""
        ...


@dataclass(frozen=True)
class RetentionPorts:
    store: RetentionStore
    clock: Clock  # when the run was asked for: the default run date
    settings: Settings
    reference: Reference


@dataclass(frozen=True)
class SweepPorts:
    store: OutboxStore
    publisher: Publisher
    clock: Clock
    settings: Settings


@dataclass(frozen=True)
class DailyReportPorts:
    figures: FiguresStore
    publisher: Publisher
    clock: Clock  # when the run happens: the summary's generated_at
    settings: Settings
    reference: Reference


@dataclass(frozen=True)
class ChangedTimeline:
    """A report whose last event is at or after a moment, as the anchor needs it."""

    report_id: str
    tracking_code: str
    confidential: bool
    head: str | None  # None: every event was written before the chain


class AnchorStore(Protocol):
    """The daily anchor of the timelines (shared.usecases.anchor says what it costs)."""

    def changed_since(self, moment: dt.datetime) -> list[ChangedTimeline]:
        """Every report whose ``updated_at`` (its last event's time) is at or after
        ``moment``: one query on its single-field index, a read per report."""
        ...

    def first_chained_hash(self, report_id: str) -> str | None:
        """The hash of the report's first chained event (one read), None if none."""
        ...

    def anchor_header(self, day: dt.date) -> Mapping[str, Any] | None:
        """The stored anchor of ``day`` without its entries (one read), or None before
        it is complete."""
        ...

    def save_anchor(
        self, day: dt.date, header: Mapping[str, Any], pages: Sequence[Mapping[str, Any]]
    ) -> bool:
        """Store the anchor of ``day``: its pages of entries first (named by its root, so
        two runs never overwrite each other's), then the header, created: False when
        another run created it first (that anchor stands)."""
        ...


@dataclass(frozen=True)
class AnchorPorts:
    anchors: AnchorStore
    clock: Clock  # when the run happens: the anchor's anchored_at
    settings: Settings


# --- console: audit -------------------------------------------------------------------
# The change log: who changed what in the console or the agency API, and every staff
# view of a reporter's identity. An adapter that makes a change writes its entry in the
# same commit (shared.adapters.firestore_audit.audit_document), so a change and its
# record land together or not at all.

AUDIT_KINDS = frozenset(
    {
        "identity.viewed",
        "identity.erased",  # by the reporter, or by the retention job
        "report.assigned",
        "staff.invited",
        "staff.deactivated",
        "staff.reactivated",
        "staff.second_factor_reset",
        "staff.second_factor_replaced",  # by its owner, with the password and the old code
        "staff.password_reset_requested",
        "channels.updated",
        "webhook.tested",
        "webhook.secret_rotated",
        "api_key.issued",
        "api_key.revoked",
        "agency.created",
        "agency.updated",
        "rule.created",
        "rule.updated",
        "rule.deleted",
        "template.created",
        "template.updated",
        "template.deleted",
    }
)


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change (or identity view). ``details`` are short facts for the log
    page (a role, a new priority, an e-mail address): never a password, a secret, a key
    or anything of the reporter's identity."""

    at: dt.datetime
    agency_id: str  # whose log shows it: the agency acted on, or the report's agency
    actor_id: str  # "staff:<account id>", "key:<first 12 of the key hash>", "system"
    actor_name: str
    kind: str  # one of AUDIT_KINDS
    target: str  # a report, account, key, agency, rule or template id
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in AUDIT_KINDS:
            raise ValueError(f"unknown change-log kind {self.kind!r}")
        if self.at.tzinfo is None:
            raise ValueError("an audit entry's time is aware")


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    # (at ISO, entry id) of the last entry shown; None: no more.
    next_after: tuple[str, str] | None


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None:
        """Write one entry on its own (a change that writes nothing else: an identity
        view, a test delivery)."""
        ...

    def entries(
        self,
        agency_id: str | frozenset[str] | None,
        kinds: frozenset[str] | None,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> AuditPage:
        """Entries newest first ``(at desc, id desc)``, strictly after the cursor: of one
        agency, of several (an agency admin's: the agency and its units; at most 30
        agencies times kinds), or of every agency (None: the national admin's view); of
        the ``kinds`` given (None: all). One read per entry returned (an empty page: one)."""
        ...


# --- console: casework ----------------------------------------------------------------
# An agency's casework around a report (shared.domain.casework): internal notes,
# assignment and priority, response templates. Staff only, never the reporter's, the
# public's or a webhook's.


class TemplateNotFound(Exception):
    """No such template in that agency (or it was deleted meanwhile)."""


class CaseworkStore(Protocol):
    def add_note(self, note: StaffNote) -> StaffNote:
        """Store a new note (its ``id`` is the store's to give: the one passed is
        ignored); returns it with its id."""
        ...

    def notes(self, report_id: str, limit: int) -> list[StaffNote]:
        """The report's newest ``limit`` notes, oldest first; one read per note (none: one)."""
        ...

    def assign(
        self, report_id: str, decide: Callable[[Report], tuple[Assignment, AuditEntry]]
    ) -> Report:
        """In one transaction: read the report, let ``decide`` compute the assignment and
        its change-log entry (it may raise to change nothing; that propagates), and
        commit both; returns the report as committed. No timeline event, and neither
        ``updated_at`` nor ``last_seq`` moves (nothing the reporter sees changed).
        ReportNotFound if absent. ``decide`` may run more than once."""
        ...

    def templates(self, agency_ids: Sequence[str]) -> list[ResponseTemplate]:
        """The templates of these agencies, by title; one read per template (and one
        per agency without any)."""
        ...

    def template(self, agency_id: str, template_id: str) -> ResponseTemplate | None: ...

    def save_template(self, template: ResponseTemplate, entry: AuditEntry, *, new: bool) -> None:
        """Create (``new``: the id must be free) or replace (it must exist, else
        TemplateNotFound) the template, with its change-log entry in the same commit."""
        ...

    def delete_template(self, agency_id: str, template_id: str, entry: AuditEntry) -> None:
        """Delete it with its change-log entry in one commit; TemplateNotFound if absent."""
        ...


# --- console: agency admin ------------------------------------------------------------
# What an agency admin runs from the console: where the agency is told (the agency
# document's ``notification``), its webhook signing secret and its API keys
# (shared.usecases.agency_admin). Every change commits with its change-log entry.


class AgencyNotFound(Exception):
    """No ``agencies/{id}`` document: nothing to set the channels of."""


@dataclass(frozen=True)
class ChannelChoice:
    """Where an agency wants to be told, as its admin set it: a signed webhook, else one
    e-mail to all of ``emails``, at once or (``digest``) collected into one message an
    hour."""

    webhook_url: str | None
    emails: tuple[str, ...]
    digest: bool = False


class AgencyAdminStore(AgencyChannels, ApiKeyStore, Protocol):
    def save_channels(self, agency_id: str, choice: ChannelChoice, entry: AuditEntry) -> None:
        """Set the agency's channels and record ``entry``, in one commit; the rest of the
        agency document is left as it is. AgencyNotFound when there is none."""
        ...

    def rotate_secret(
        self, agency_id: str, secret: str, previous_until: dt.datetime, entry: AuditEntry
    ) -> None:
        """Make ``secret`` the agency's webhook signing secret, keeping the one it
        replaces (if any) as the previous secret until ``previous_until``, and record
        ``entry``, in one transaction (a rotation at the same moment is read, never
        overwritten unseen)."""
        ...

    def api_keys(self, agency_ids: Collection[str] | None) -> list[ApiKeyRecord]:
        """Every key of these agencies (None: of every agency), revoked ones too, newest
        first. One read per key (none found: one per query, a query per 30 agencies)."""
        ...

    def create_api_key(self, record: ApiKeyRecord, entry: AuditEntry) -> None:
        """Store a new key (by its hash) and record ``entry``, in one commit."""
        ...

    def revoke_api_key(self, key_hash: str, at: dt.datetime, entry: AuditEntry) -> None:
        """Mark the key revoked at ``at`` and record ``entry``, in one commit."""
        ...


@dataclass(frozen=True)
class AgencyAdminPorts:
    """What shared.usecases.agency_admin talks through (the console builds it from its
    own bundle): the store, the change log (for a test delivery, which changes nothing
    else), the webhook sender, the time, the settings and the agency tree."""

    store: AgencyAdminStore
    audit: AuditLog
    sender: WebhookSender
    clock: Clock
    settings: Settings
    reference: Reference

    @property
    def keys(self) -> ApiKeyPorts:
        return ApiKeyPorts(self.store, self.clock, self.reference)


@dataclass(frozen=True)
class ApiKeyPorts:
    """What issuing, listing and revoking API keys needs: no sender, no settings, so the
    command line (tools/api_keys.py) calls the same use cases as the console."""

    store: AgencyAdminStore
    clock: Clock
    reference: Reference


# --- console: reference ----------------------------------------------------------------
# The running agencies and routing rules live in Firestore (``agencies/{id}``,
# ``routing_rules/{id}``, ``reference_meta/current`` with its ``version``), where the
# national admin edits them in the console; regions and categories stay bundled with
# the code. Each instance keeps the reference it built and re-reads the version at most
# every ``reference_refresh_s`` (shared.adapters.firestore_reference), so every function
# sees an edit within that time, without a deployment.


class ReferenceSource(Protocol):
    def current(self) -> Reference:
        """The reference data as it is now (at most ``reference_refresh_s`` old)."""
        ...


@dataclass(frozen=True)
class StoredReference:
    """The editable part of the reference as stored, at ``version``. Version 0: never
    seeded (the bundled files run, and nothing can be edited until tools.seed runs)."""

    version: int
    agencies: tuple[Agency, ...]
    rules: tuple[RoutingRule, ...]


@dataclass(frozen=True)
class ReferenceEdit:
    """What one edit writes, in one commit with the version bump and its change-log
    entry: an agency (its reference fields; its notification channels are its admin's
    and stay as they are), a rule, or a rule's deletion (its counters remain)."""

    entry: AuditEntry
    agency: Agency | None = None
    rule: RoutingRule | None = None
    deleted_rule: str | None = None


class ReferenceNotSeeded(Exception):
    """No reference in Firestore yet (``python -m tools.seed`` copies the bundled
    files): nothing can be edited, or the edits would replace the whole of it."""


class ReferenceAdminStore(Protocol):
    def stored(self) -> StoredReference:
        """The agencies and rules as stored now, with their version."""
        ...

    def edit(self, decide: Callable[[StoredReference], ReferenceEdit]) -> ReferenceEdit:
        """In one transaction: read the stored reference, let ``decide`` compute the
        edit (it may raise to change nothing; that exception propagates), and commit
        it with ``version + 1`` and its entry. A concurrent edit makes ``decide`` run
        again on the fresh data, so no edit is lost. ReferenceNotSeeded (nothing
        decided) while the version is 0."""
        ...

    def rule_stats(self, rule_ids: Sequence[str]) -> dict[str, Mapping[str, int]]:
        """The running totals of each rule that has any (``routing_stats/{rule id}``:
        dispositions, not_our_authority), in one batched read."""
        ...


# --- console: staff ---------------------------------------------------------------------
# Staff accounts, their sessions and one-time links (the rules: shared.domain.staff; the
# use cases: shared.usecases.staff). Every change of them is one commit of a StaffUpdate.


class EmailTaken(Exception):
    """Another account already has this e-mail address."""


class StaffNotFound(Exception):
    """No such account, session or link (or it is gone since it was read)."""


@dataclass(frozen=True)
class StaffUpdate:
    """What one staff change writes, in one commit: the account as it is to be saved,
    sessions created or replaced, links created or marked used, an address's sign-in
    failures, what it tells (outbox) and records (the change log)."""

    account: StaffAccount | None = None
    sessions: tuple[StaffSession, ...] = ()
    links: tuple[StaffLink, ...] = ()
    throttle: SignInThrottle | None = None
    outbox: tuple[OutboxMessage, ...] = ()
    audit: tuple[AuditEntry, ...] = ()


class StaffStore(Protocol):
    """Accounts, sessions, links and sign-in failures. A ``decide`` runs inside a
    transaction on what it is given fresh, and may run more than once (contention):
    it must not have side effects; raising from it writes nothing."""

    def account(self, account_id: str) -> StaffAccount | None: ...

    def account_by_email(self, email: str) -> StaffAccount | None:
        """The account of ``email`` (shared.domain.staff.normal_email); one read."""
        ...

    def accounts_in(self, agency_ids: Collection[str]) -> list[StaffAccount]:
        """Every account (active or not) of these agencies, by name then e-mail."""
        ...

    def create_account(self, account: StaffAccount, update: StaffUpdate) -> None:
        """Create ``account`` with what ``update`` writes besides it (its link, its
        e-mail, its record) in one commit; EmailTaken when the address has an account."""
        ...

    def update_account(
        self, account_id: str, decide: Callable[[StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        """Commit what ``decide`` makes of the account; StaffNotFound when there is none."""
        ...

    def session(self, session_id: str) -> StaffSession | None: ...

    def update_session(
        self, session_id: str, decide: Callable[[StaffSession, StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        """Commit what ``decide`` makes of the session and its account; StaffNotFound
        when either is gone."""
        ...

    def touch_session(self, session_id: str, at: dt.datetime) -> None:
        """Set the session's last_seen_at (the idle timer): one write, no read."""
        ...

    def end_sessions(self, session_ids: Sequence[str]) -> None:
        """Delete these sessions (gone already: nothing happens)."""
        ...

    def sessions_of(self, account_id: str) -> list[StaffSession]:
        """The account's stored sessions, over or not, newest first."""
        ...

    def link(self, key: str) -> StaffLink | None: ...

    def use_link(
        self, key: str, decide: Callable[[StaffLink, StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        """Commit what ``decide`` makes of the link and its account (it marks the link
        used); StaffNotFound when either is gone."""
        ...

    def throttle(self, key: str) -> SignInThrottle:
        """An address's sign-in failures (none stored: a clean one)."""
        ...

    def count_failure(self, key: str, at: dt.datetime) -> int:
        """One more failure in a row for the address, counted by an atomic increment
        (no read, no transaction: attempts at once are each counted); the new count."""
        ...

    def lock(self, key: str, until: dt.datetime) -> None:
        """Lock the address until then (one write); a success clears it (StaffUpdate's
        throttle, a clean SignInThrottle)."""
        ...

    def claim_rate_slot(self, slot: RateSlot) -> None:
        """As the submissions' (RateSlotTaken when taken)."""
        ...

    def taken_rate_slots(self, window_key: str) -> frozenset[int]: ...


class StaffDirectory(Protocol):
    """What notify reads of the accounts: the address to send a link to."""

    def account(self, account_id: str) -> StaffAccount | None: ...


class HasReference(Protocol):
    @property
    def reference(self) -> Reference: ...


class StaffPorts(Protocol):
    """What the staff use cases need; ConsolePorts is one, and so is the tools' bundle."""

    @property
    def staff(self) -> StaffStore: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def publisher(self) -> Publisher: ...

    @property
    def agency(self) -> HasReference: ...


# --- console: the bundle ---------------------------------------------------------------
# The console function's ports (built in shared/wiring.py:console_ports). Each area of
# the console adds the one field for its store here and its line in the wiring.


@dataclass(frozen=True)
class ConsolePorts:
    """The staff console's: the agency API's bundle (the same use cases, the same
    rules), the staff accounts and sessions, and each console area's store."""

    agency: AgencyPorts
    staff: StaffStore
    clock: Clock
    settings: Settings
    publisher: Publisher
    casework: CaseworkStore  # notes, assignment, response templates
    agency_admin: AgencyAdminStore  # channels, the webhook secret, API keys
    webhooks: WebhookSender  # the settings page's test delivery
    reference_admin: ReferenceAdminStore  # the agencies and rules (national admin)

    @property
    def audit(self) -> AuditLog:
        """The change log: the agency API's, so both record into the one log."""
        return self.agency.audit


# --- attachments: storage ---------------------------------------------------------------
# The files of a report live as objects in one private bucket (Cloud Storage; locally
# fake-gcs-server, docs/storage.md). Nobody reads the bucket directly: a reporter or
# agency gets a short-lived signed URL for one object, and a client that can upload
# directly gets a signed PUT URL bound to the content type it declared.


class ObjectNotFound(Exception):
    """No object of that name in the bucket."""


class ObjectTooLarge(Exception):
    """The object is larger than the caller would read (checked before downloading)."""

    def __init__(self, name: str, size: int, max_bytes: int) -> None:
        super().__init__(f"{name}: {size} bytes, more than {max_bytes}")
        self.name = name
        self.size = size
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class StoredObject:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class SignedUpload:
    """Where and how a client PUTs one object: ``headers`` are part of the signature,
    so the PUT must send every one of them with exactly these values."""

    url: str
    headers: dict[str, str]


class BlobStore(Protocol):
    def put(self, name: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``name`` (replacing any object of that name)."""

    def get(self, name: str, max_bytes: int | None = None) -> StoredObject:
        """The object with its content type; raise ObjectNotFound when there is none.

        With ``max_bytes``, raise ObjectTooLarge for a larger object without downloading
        it: a client's direct upload is read this way, and it may be anything.
        """

    def copy(self, source: str, target: str) -> None:
        """Copy ``source`` to ``target`` inside the bucket, content type included (the
        bytes never pass through the function); raise ObjectNotFound when there is no
        ``source``. A staged file is promoted this way once its report is committed."""

    def exists(self, name: str) -> bool:
        """Whether the object is there: a promotion that is retried skips what it copied."""

    def delete(self, name: str) -> None:
        """Remove the object; an object already gone is not an error (retries repeat it)."""

    def signed_get_url(self, name: str, expires_in: dt.timedelta) -> str:
        """A URL anyone holding it can GET the object with until ``expires_in`` has passed."""

    def signed_put_url(
        self,
        name: str,
        content_type: str,
        expires_in: dt.timedelta,
        max_bytes: int | None = None,
    ) -> SignedUpload:
        """A URL to PUT the object with, only with this Content-Type, until it expires.

        With ``max_bytes``, Cloud Storage refuses a larger body (the signed
        x-goog-content-length-range header): a client cannot store more than the limit.
        """
