"""The report and its lifecycle: states, who may do what, and the timeline.

Pure: no I/O, no clock. Every change goes through :func:`apply`, which either returns
the new report with the one immutable timeline event that explains it, or raises and
changes nothing. The rules are the national SP4N-LAPOR! guideline (PermenPANRB 5/2025);
its numbers are configuration (:class:`DeadlinePolicy`), as agencies publish their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from shared.domain import escalation
from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import DEFAULT_TIERS, ClockKind, Tier


class ReportType(StrEnum):
    ASPIRATION = "aspirasi"
    INFORMATION_REQUEST = "permintaan_informasi"
    COMPLAINT = "pengaduan"
    # Set by an admin only: a complaint that needs a supervisory investigation.
    SUPERVISORY_COMPLAINT = "pengaduan_pengawasan"


CITIZEN_REPORT_TYPES = (
    ReportType.ASPIRATION,
    ReportType.COMPLAINT,
    ReportType.INFORMATION_REQUEST,
)


class State(StrEnum):
    SUBMITTED = "submitted"
    ON_HOLD = "on_hold"
    ARCHIVED = "archived"
    DISPOSITIONED = "dispositioned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


TERMINAL_STATES = frozenset({State.ARCHIVED, State.CLOSED})


class Role(StrEnum):
    REPORTER = "reporter"
    NATIONAL_ADMIN = "national_admin"
    AGENCY_ADMIN = "agency_admin"
    UNIT_OFFICER = "unit_officer"
    SYSTEM = "system"  # the router, the scheduler


class Action(StrEnum):
    SUBMIT = "submit"
    DISPOSITION = "disposition"  # verified and routed to an agency
    QUEUE_FOR_ADMIN = "queue_for_admin"  # routing could not place it: an admin will
    HOLD = "hold"  # admin asks the reporter for more; the clock pauses
    ANSWER_HOLD = "answer_hold"
    ARCHIVE = "archive"
    FORWARD = "forward"  # agency passes the report to one of its units
    NOT_OUR_AUTHORITY = "not_our_authority"  # "Bukan Wewenang"
    FOLLOW_UP = "follow_up"  # tindak lanjut
    REPORTER_REPLY = "reporter_reply"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    AUTO_CLOSE = "auto_close"
    REOPEN = "reopen"
    RATE = "rate"
    ESCALATE = "escalate"  # the daily run: a tier of the running clock fired
    MARK_SUPERVISORY = "mark_supervisory"  # "berkadar pengawasan": 60 working days
    # The reporter's identity and contact details erased (UU 27/2022): by the reporter
    # through the private link, or by the retention job after the report ended.
    ERASE_CONTACT = "erase_contact"


class ClosedBy(StrEnum):
    CONFIRMED = "confirmed"  # the reporter confirmed the resolution
    TIMEOUT = "timeout"  # the reporter stayed silent: resolved, but not confirmed


class ContactErasedBy(StrEnum):
    REPORTER = "reporter"  # asked through the private link
    RETENTION = "retention"  # the retention period after the report ended ran out


class Priority(StrEnum):
    """How urgent the handling agency finds a report: staff only, never the public's."""

    NORMAL = "normal"  # biasa
    HIGH = "high"  # tinggi
    URGENT = "urgent"  # mendesak


S, A, R = State, Action, Role
ADMINS = frozenset({R.NATIONAL_ADMIN, R.AGENCY_ADMIN})
AGENCY_STAFF = frozenset({R.NATIONAL_ADMIN, R.AGENCY_ADMIN, R.UNIT_OFFICER})

# (state, action) -> next state. Anything not listed is illegal.
TRANSITIONS: Mapping[tuple[State, Action], State] = MappingProxyType(
    {
        (S.SUBMITTED, A.DISPOSITION): S.DISPOSITIONED,
        (S.SUBMITTED, A.QUEUE_FOR_ADMIN): S.SUBMITTED,
        (S.SUBMITTED, A.HOLD): S.ON_HOLD,
        (S.SUBMITTED, A.ARCHIVE): S.ARCHIVED,
        (S.SUBMITTED, A.ESCALATE): S.SUBMITTED,
        (S.ON_HOLD, A.ANSWER_HOLD): S.SUBMITTED,
        (S.ON_HOLD, A.ARCHIVE): S.ARCHIVED,
        (S.DISPOSITIONED, A.FORWARD): S.DISPOSITIONED,
        (S.DISPOSITIONED, A.NOT_OUR_AUTHORITY): S.SUBMITTED,
        (S.DISPOSITIONED, A.FOLLOW_UP): S.IN_PROGRESS,
        # The receiving agency may archive a routed report before any follow-up.
        (S.DISPOSITIONED, A.ARCHIVE): S.ARCHIVED,
        (S.DISPOSITIONED, A.ESCALATE): S.DISPOSITIONED,
        (S.DISPOSITIONED, A.MARK_SUPERVISORY): S.DISPOSITIONED,
        (S.IN_PROGRESS, A.FOLLOW_UP): S.IN_PROGRESS,
        (S.IN_PROGRESS, A.ESCALATE): S.IN_PROGRESS,
        (S.IN_PROGRESS, A.MARK_SUPERVISORY): S.IN_PROGRESS,
        (S.IN_PROGRESS, A.REPORTER_REPLY): S.IN_PROGRESS,
        (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
        (S.RESOLVED, A.CONFIRM): S.CLOSED,
        (S.RESOLVED, A.AUTO_CLOSE): S.CLOSED,
        (S.RESOLVED, A.REOPEN): S.IN_PROGRESS,
        (S.CLOSED, A.RATE): S.CLOSED,
    }
)

# Who may take each action (the system archives only reports left on hold too long).
PERMITTED_ROLES: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        A.SUBMIT: frozenset({R.REPORTER}),
        A.DISPOSITION: ADMINS | {R.SYSTEM},
        A.QUEUE_FOR_ADMIN: frozenset({R.SYSTEM}),
        A.HOLD: ADMINS,
        A.ANSWER_HOLD: frozenset({R.REPORTER}),
        A.ARCHIVE: ADMINS | {R.SYSTEM},
        A.FORWARD: ADMINS,
        A.NOT_OUR_AUTHORITY: ADMINS,
        A.FOLLOW_UP: AGENCY_STAFF,
        A.REPORTER_REPLY: frozenset({R.REPORTER}),
        A.RESOLVE: AGENCY_STAFF,
        A.CONFIRM: frozenset({R.REPORTER}),
        A.AUTO_CLOSE: frozenset({R.SYSTEM}),
        A.REOPEN: frozenset({R.REPORTER}),
        A.RATE: frozenset({R.REPORTER}),
        A.ESCALATE: frozenset({R.SYSTEM}),
        A.MARK_SUPERVISORY: ADMINS,
        A.ERASE_CONTACT: frozenset({R.REPORTER, R.SYSTEM}),
    }
)

NEEDS_REASON = frozenset(
    {A.HOLD, A.ARCHIVE, A.NOT_OUR_AUTHORITY, A.REOPEN, A.QUEUE_FOR_ADMIN, A.MARK_SUPERVISORY}
)
NEEDS_MESSAGE = frozenset({A.FOLLOW_UP, A.REPORTER_REPLY, A.ANSWER_HOLD, A.RESOLVE})
# Actions that may bring files: the evidence of a follow-up (the repaired road), of a
# resolution, or what the reporter sends when asked for more.
ATTACHING_ACTIONS = frozenset({A.FOLLOW_UP, A.RESOLVE, A.REPORTER_REPLY, A.ANSWER_HOLD})


class LifecycleError(Exception):
    """A command the lifecycle refuses; nothing was changed."""

    code = "lifecycle_error"


class IllegalTransition(LifecycleError):
    code = "illegal_transition"

    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"cannot {action.value} a report that is {state.value}")
        self.state = state
        self.action = action


class NotPermitted(LifecycleError):
    code = "not_permitted"

    def __init__(self, role: Role, action: Action) -> None:
        super().__init__(f"a {role.value} may not {action.value}")
        self.role = role
        self.action = action


class InvalidCommand(LifecycleError):
    code = "invalid_command"


@dataclass(frozen=True)
class DeadlinePolicy:
    """Working-day deadlines and the escalation tiers; agencies publish their own, so all
    of it is configuration."""

    verify_days: int = 3
    resolve_days: Mapping[ReportType, int] = field(
        default_factory=lambda: MappingProxyType(
            {
                ReportType.ASPIRATION: 5,
                ReportType.INFORMATION_REQUEST: 5,
                ReportType.COMPLAINT: 14,
                ReportType.SUPERVISORY_COMPLAINT: 60,
            }
        )
    )
    auto_close_days: int = 10
    hold_silence_days: int = 10
    tiers: tuple[Tier, ...] = DEFAULT_TIERS


@dataclass(frozen=True)
class Actor:
    role: Role
    id: str  # agency or user id, "reporter", or "system:<job>"


@dataclass(frozen=True)
class TimelineEvent:
    """One immutable line of a report's history: who did what, when and why."""

    seq: int
    action: Action
    at: dt.datetime
    actor: Actor
    from_state: State | None
    to_state: State
    reason: str | None = None
    message: str | None = None
    data: Mapping[str, str | int] = field(default_factory=lambda: MappingProxyType({}))
    # Its link in the report's hash chain (shared.domain.chain), set by the store as it
    # commits the event; None on an event not yet committed or written before the chain.
    # Not part of what happened, so an event equals itself before and after its commit.
    prev_hash: str | None = field(default=None, compare=False)
    hash: str | None = field(default=None, compare=False)
    salt: str | None = field(default=None, compare=False, repr=False)  # secret: never shown


@dataclass(frozen=True)
class AdminQueue:
    """Why an unrouted report waits for an admin, and what the classifier suggested."""

    reason: str
    suggested_agency_id: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Region:
    province_code: str  # Kemendagri code, e.g. "32"
    regency_code: str | None = None  # e.g. "32.03"
    district_code: str | None = None  # kecamatan, e.g. "32.03.11"
    village_code: str | None = None  # desa/kelurahan, e.g. "32.03.11.2001"


@dataclass(frozen=True)
class GeoPoint:
    """A point in WGS84 degrees, as the phone or the reporter gave it: exact, so only
    the reporter and the agency see it so (the public a rounded one)."""

    latitude: float
    longitude: float


# What a stored file is kept as, by its media type: its name in links and downloads.
_FILE_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
ATTACHMENT_MEDIA_TYPES = frozenset(_FILE_EXTENSIONS)
# Files a report may gather over its life (the submission's and every follow-up's).
MAX_ATTACHMENTS_PER_REPORT = 30


@dataclass(frozen=True)
class Attachment:
    """One file of a report; its bytes live in the bucket (shared.usecases.evidence).

    The name the reporter's device gave the file is never kept: it may name them
    ("IMG_Budi.jpg"), so a file is called by its id."""

    id: str  # "f" + 10 hex characters, random: concurrent follow-ups never clash
    media_type: str  # what is stored (a HEIC photo is stored as JPEG)
    size: int  # bytes stored
    added_seq: int  # the timeline event that added it (1: the submission)
    added_by: Role  # the reporter, or the staff member's role
    width: int = 0
    height: int = 0
    pages: int = 0  # a PDF's
    has_thumbnail: bool = False  # an image has a small WebP beside it

    @property
    def file_name(self) -> str:
        return f"lampiran-{self.id}.{_FILE_EXTENSIONS.get(self.media_type, 'bin')}"

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(frozen=True)
class ReportDraft:
    """What a reporter submits, already validated at the edge."""

    type: ReportType
    title: str
    description: str
    category: str
    region: Region
    incident_date: dt.date | None
    target_agency_id: str | None
    anonymous: bool
    confidential: bool
    address: str | None = None  # free text: a landmark, a street; never public
    point: GeoPoint | None = None
    show_attachments: bool = False  # the reporter lets the public page show the files


# Idempotency keys a report remembers (the most recent): a client retries within
# seconds, long before this many other keyed actions reach the same report.
ACTION_KEYS_KEPT = 16


@dataclass(frozen=True)
class ActionKey:
    """An Idempotency-Key an action came with, scoped to its caller (``key_hash`` is
    keyed by the caller and the key), what the request asked (``fingerprint``) and the
    event it made: the same key again is that event, not a second one."""

    key_hash: str
    fingerprint: str
    seq: int = 0


@dataclass(frozen=True)
class Report:
    """A report and its clocks (docs/lifecycle.md, "Which clock runs when").

    The verification clock runs in ``submitted`` from ``verify_started_at`` (the
    submission, and again each return to ``submitted``) to ``verify_due``; the
    resolution clock runs per disposition, in ``dispositioned`` and ``in_progress``,
    from ``dispositioned_at`` to ``resolve_due``. ``clock_due`` is the running clock's
    due date (None on hold, resolved and terminal), ``clock_id`` names that clock and
    ``escalations`` lists the tiers fired for it. What can still happen to the report
    is kept current by every transition: ``next_due_on`` is the next local date the
    daily run must look at it; ``auto_close_due`` is set only while ``resolved``, and
    ``on_hold_since`` and ``on_hold_by`` only while ``on_hold``.
    """

    id: str
    tracking_code: str
    type: ReportType
    title: str
    description: str
    category: str
    region: Region
    incident_date: dt.date | None
    target_agency_id: str | None
    anonymous: bool
    confidential: bool
    state: State
    submitted_at: dt.datetime
    updated_at: dt.datetime
    verify_due: dt.date
    resolve_due: dt.date | None  # the current disposition's; None while none is current
    last_seq: int = 1
    agency_id: str | None = None
    unit_id: str | None = None
    # How the current disposition was decided, so a "Bukan Wewenang" counts against it.
    routing_method: str | None = None
    routing_rule_id: str | None = None
    # Agencies that answered "Bukan Wewenang": routing never sends the report back.
    rejected_by: tuple[str, ...] = ()
    # Set while routing has given the report to an admin; any other action clears it.
    admin_queue: AdminQueue | None = None
    verify_started_at: dt.datetime | None = None
    dispositioned_at: dt.datetime | None = None
    clock_due: dt.date | None = None
    clock_id: str | None = None
    escalations: tuple[str, ...] = ()
    next_due_on: dt.date | None = None
    # Working days spent on hold, for the record: an answered hold restarts the clock.
    paused_working_days: int = 0
    on_hold_since: dt.datetime | None = None
    # Who put it on hold (the admin's agency): told when the reporter answers.
    on_hold_by: str | None = None
    first_response_at: dt.datetime | None = None  # the report's first follow-up ever
    disposition_followed_up_at: dt.datetime | None = None  # the current disposition's first
    resolved_at: dt.datetime | None = None
    auto_close_due: dt.date | None = None
    closed_at: dt.datetime | None = None
    closed_by: ClosedBy | None = None
    rating: int | None = None
    reopen_count: int = 0
    # Casework of the handling agency, for its staff only (shared.domain.privacy keeps it
    # from the reporter and the public). Set without a timeline event; a new handler
    # (another agency or unit) starts unassigned.
    assignee_id: str | None = None  # a staff account id
    assignee_name: str | None = None
    priority: Priority = Priority.NORMAL
    address: str | None = None
    point: GeoPoint | None = None
    show_attachments: bool = False
    # The submission's files and those added since (follow-ups, replies), in order.
    attachments: tuple[Attachment, ...] = ()
    # The last keyed actions (ACTION_KEYS_KEPT), so a retried one is not taken twice.
    action_keys: tuple[ActionKey, ...] = ()
    # Set once the reporter's identity and contact details are erased (and by whom):
    # nobody is told anything more, and the agency sees that the contact is gone.
    contact_erased: ContactErasedBy | None = None

    @property
    def escalation_tier(self) -> str | None:
        """The last tier fired for the running clock, as the inbox shows it."""
        return self.escalations[-1] if self.escalations else None

    @property
    def escalated(self) -> bool:
        """Whether a tier has fired for the clock that runs now (the inbox filters on it):
        a resolved report keeps its disposition's tiers, but its clock has stopped."""
        return self.clock_due is not None and bool(self.escalations)


@dataclass(frozen=True)
class Command:
    action: Action
    actor: Actor
    reason: str | None = None
    message: str | None = None
    agency_id: str | None = None  # DISPOSITION
    unit_id: str | None = None  # FORWARD; DISPOSITION straight to the agency's unit
    rating: int | None = None  # RATE
    data: Mapping[str, str | int] = field(default_factory=lambda: MappingProxyType({}))
    # Files this action adds (FOLLOW_UP, RESOLVE, REPORTER_REPLY), already stored safely.
    attachments: tuple[Attachment, ...] = ()


def is_overdue(report: Report, today: dt.date) -> bool:
    """Whether the clock of the report's current state ran out before ``today`` (a local
    date): a deadline is met all through its day."""
    return report.clock_due is not None and report.clock_due < today


def age_working_days(report: Report, today: dt.date, calendar: WorkingCalendar) -> int:
    """The report's total age in working days: from its submission to ``today`` (a local
    date), or to the day it ended (closed or archived). Every agency's time counts, and
    every hold: it is the age the reporter lives with, whichever clock runs."""
    end = today
    if report.state is State.CLOSED and report.closed_at is not None:
        end = calendar.local_date(report.closed_at)
    elif report.state is State.ARCHIVED:
        end = calendar.local_date(report.updated_at)  # nothing follows an archive
    return max(0, calendar.working_days_between(calendar.local_date(report.submitted_at), end))


def _resolve_due(
    report_type: ReportType,
    dispositioned_at: dt.datetime,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> dt.date:
    start = calendar.local_date(dispositioned_at)
    return calendar.add_working_days(start, policy.resolve_days[report_type])


def _verify_clock(
    now: dt.datetime, seq: int, calendar: WorkingCalendar, policy: DeadlinePolicy
) -> dict[str, Any]:
    """A new verification clock, started by event ``seq``; no disposition is current."""
    return {
        "verify_started_at": now,
        "verify_due": calendar.add_working_days(calendar.local_date(now), policy.verify_days),
        "dispositioned_at": None,
        "resolve_due": None,
        "disposition_followed_up_at": None,
        "clock_id": escalation.clock_id(ClockKind.VERIFY, seq),
        "escalations": (),
    }


def _resolve_clock(
    report_type: ReportType,
    now: dt.datetime,
    seq: int,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> dict[str, Any]:
    """A new resolution clock: each disposition gets its own full deadline."""
    return {
        "dispositioned_at": now,
        "resolve_due": _resolve_due(report_type, now, calendar, policy),
        "disposition_followed_up_at": None,
        "clock_id": escalation.clock_id(ClockKind.RESOLVE, seq),
        "escalations": (),
    }


def with_current_clocks(
    report: Report, calendar: WorkingCalendar, policy: DeadlinePolicy
) -> Report:
    """The report with ``clock_due`` and ``next_due_on`` as its state, dates and the
    policy now say: the verification clock runs in ``submitted``, the resolution clock
    while an agency holds the report unresolved, none on hold, resolved or terminal.

    Every transition ends here; a job that finds a report whose ``next_due_on`` no
    longer holds (the tiers were reconfigured) stores what this returns."""
    clock_due: dt.date | None = None
    if report.state is State.SUBMITTED:
        clock_due = report.verify_due
    elif report.state in (State.DISPOSITIONED, State.IN_PROGRESS):
        clock_due = report.resolve_due
    current = dataclasses.replace(report, clock_due=clock_due)
    return dataclasses.replace(
        current, next_due_on=escalation.next_due_on(current, calendar, policy)
    )


def _added(
    report_attachments: tuple[Attachment, ...],
    new: tuple[Attachment, ...],
    seq: int,
    role: Role,
) -> tuple[Attachment, ...]:
    """The report's files with ``new`` added by event ``seq``: the event, not the
    caller, says when and by whom."""
    _require(
        len(report_attachments) + len(new) <= MAX_ATTACHMENTS_PER_REPORT,
        f"a report keeps at most {MAX_ATTACHMENTS_PER_REPORT} files",
    )
    known = {a.id for a in report_attachments}
    for attachment in new:
        _require(attachment.media_type in ATTACHMENT_MEDIA_TYPES, "a file of an unknown type")
        _require(attachment.id not in known, f"file {attachment.id} is already attached")
        known.add(attachment.id)
    return (
        *report_attachments,
        *(dataclasses.replace(a, added_seq=seq, added_by=role) for a in new),
    )


def submit(
    draft: ReportDraft,
    report_id: str,
    tracking_code: str,
    now: dt.datetime,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
    attachments: tuple[Attachment, ...] = (),
) -> tuple[Report, TimelineEvent]:
    if draft.type not in CITIZEN_REPORT_TYPES:
        raise InvalidCommand(f"a reporter cannot submit a {draft.type.value} report")
    files = _added((), attachments, 1, Role.REPORTER)
    report = Report(
        id=report_id,
        tracking_code=tracking_code,
        state=State.SUBMITTED,
        submitted_at=now,
        updated_at=now,
        last_seq=1,
        attachments=files,
        **{f.name: getattr(draft, f.name) for f in dataclasses.fields(ReportDraft)},
        **_verify_clock(now, 1, calendar, policy),
    )
    event = TimelineEvent(
        seq=1,
        action=Action.SUBMIT,
        at=now,
        actor=Actor(Role.REPORTER, "reporter"),
        from_state=None,
        to_state=State.SUBMITTED,
        data=MappingProxyType({"files": ",".join(a.id for a in files)} if files else {}),
    )
    return with_current_clocks(report, calendar, policy), event


def _require(condition: object, message: str) -> None:
    if not condition:
        raise InvalidCommand(message)


def _held_days(report: Report, now: dt.datetime, calendar: WorkingCalendar) -> int:
    """Working days the current hold lasted, added to the report's total on leaving it."""
    if report.on_hold_since is None:
        return report.paused_working_days
    return report.paused_working_days + calendar.working_days_between(
        calendar.local_date(report.on_hold_since), calendar.local_date(now)
    )


def apply(
    report: Report,
    command: Command,
    now: dt.datetime,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> tuple[Report, TimelineEvent]:
    """The report after ``command`` and the timeline event recording it, or raise."""
    action, actor = command.action, command.actor
    target = TRANSITIONS.get((report.state, action))
    if target is None:
        raise IllegalTransition(report.state, action)
    if actor.role not in PERMITTED_ROLES[action]:
        raise NotPermitted(actor.role, action)
    if action in NEEDS_REASON:
        _require(command.reason and command.reason.strip(), f"{action.value} needs a reason")
    if action in NEEDS_MESSAGE:
        _require(command.message and command.message.strip(), f"{action.value} needs a message")
    if command.attachments:
        _require(action in ATTACHING_ACTIONS, f"{action.value} cannot bring files")

    seq = report.last_seq + 1
    today = calendar.local_date(now)
    changes: dict[str, object] = {"state": target, "updated_at": now, "admin_queue": None}
    data = dict(command.data)
    if command.attachments:
        changes["attachments"] = _added(report.attachments, command.attachments, seq, actor.role)
        data["files"] = ",".join(a.id for a in command.attachments)
    match action:
        case Action.DISPOSITION:
            _require(command.agency_id, "disposition needs an agency")
            _require(
                command.agency_id not in report.rejected_by,
                "this agency has already answered Bukan Wewenang for this report",
            )
            method = str(data.get("method", "manual"))
            rule_id = data.get("rule_id")
            changes.update(
                agency_id=command.agency_id,
                unit_id=command.unit_id,
                routing_method=method,
                routing_rule_id=str(rule_id) if rule_id else None,
                **_resolve_clock(report.type, now, seq, calendar, policy),
            )
            data["agency_id"] = str(command.agency_id)
            data["method"] = method
            if command.unit_id:
                data["unit_id"] = str(command.unit_id)
        case Action.QUEUE_FOR_ADMIN:
            suggested = data.get("suggested_agency_id")
            confidence = data.get("confidence")
            changes["admin_queue"] = AdminQueue(
                reason=str(command.reason).strip(),
                suggested_agency_id=str(suggested) if suggested else None,
                confidence=float(confidence) if confidence is not None else None,
            )
        case Action.FORWARD:
            _require(command.unit_id, "forward needs a unit")
            changes["unit_id"] = command.unit_id
            data["unit_id"] = str(command.unit_id)
        case Action.NOT_OUR_AUTHORITY:
            changes.update(
                agency_id=None,
                unit_id=None,
                routing_method=None,
                routing_rule_id=None,
                rejected_by=(
                    *report.rejected_by,
                    *([report.agency_id] if report.agency_id else []),
                ),
                **_verify_clock(now, seq, calendar, policy),
            )
            if report.agency_id:
                data["agency_id"] = report.agency_id
            if report.routing_rule_id:
                data["rule_id"] = report.routing_rule_id
        case Action.HOLD:
            changes.update(on_hold_since=now, on_hold_by=actor.id)
        case Action.ANSWER_HOLD:
            changes.update(
                on_hold_since=None,
                on_hold_by=None,
                paused_working_days=_held_days(report, now, calendar),
                **_verify_clock(now, seq, calendar, policy),
            )
        case Action.ARCHIVE:
            if actor.role is Role.SYSTEM:
                # The daily run archives only a hold the reporter left unanswered.
                if report.state is not State.ON_HOLD:
                    raise NotPermitted(actor.role, action)
                _require(
                    escalation.hold_archive_due_on(report, today, calendar, policy),
                    "the reporter may still answer this hold",
                )
            changes.update(
                on_hold_since=None,
                on_hold_by=None,
                paused_working_days=_held_days(report, now, calendar),
            )
        case Action.FOLLOW_UP:
            if report.first_response_at is None:
                changes["first_response_at"] = now
            if report.disposition_followed_up_at is None:
                changes["disposition_followed_up_at"] = now
        case Action.RESOLVE:
            changes.update(
                resolved_at=now,
                auto_close_due=calendar.add_working_days(today, policy.auto_close_days),
            )
        case Action.CONFIRM:
            changes.update(closed_at=now, closed_by=ClosedBy.CONFIRMED, auto_close_due=None)
        case Action.AUTO_CLOSE:
            _require(
                escalation.auto_close_due_on(report, today),
                "the reporter may still confirm or reopen this report",
            )
            changes.update(closed_at=now, closed_by=ClosedBy.TIMEOUT, auto_close_due=None)
        case Action.REOPEN:
            # The disposition's resolution clock runs again, with the tiers it has fired.
            changes.update(
                resolved_at=None, auto_close_due=None, reopen_count=report.reopen_count + 1
            )
        case Action.RATE:
            _require(report.rating is None, "this report has already been rated")
            _require(
                command.rating is not None and 1 <= command.rating <= 5,
                "a rating is a whole number from 1 to 5",
            )
            changes["rating"] = command.rating
            data["rating"] = int(command.rating or 0)
        case Action.ESCALATE:
            tier_id = str(data.get("tier", ""))
            _require(
                data.get("clock") == report.clock_id,
                "this escalation is for a clock that no longer runs",
            )
            _require(tier_id not in report.escalations, "this tier has already fired")
            _require(
                tier_id
                in {t.id for t in escalation.due_tiers(report, today, policy.tiers, calendar)},
                f"escalation tier {tier_id!r} is not due for this report",
            )
            # An escalation tells people; it decides nothing, so an admin queue stays.
            changes.update(
                escalations=(*report.escalations, tier_id), admin_queue=report.admin_queue
            )
            data = {
                "tier": tier_id,
                "clock": str(report.clock_id),
                "notified": str(data.get("notified", "")),
            }
        case Action.MARK_SUPERVISORY:
            _require(
                report.type is ReportType.COMPLAINT,
                "only a complaint can be marked berkadar pengawasan",
            )
            if report.dispositioned_at is None:
                raise InvalidCommand("this report has no current disposition")
            # The same disposition, with the longer deadline counted from its start.
            supervisory = ReportType.SUPERVISORY_COMPLAINT
            resolve_due = _resolve_due(supervisory, report.dispositioned_at, calendar, policy)
            longer = dataclasses.replace(
                report, type=supervisory, resolve_due=resolve_due, clock_due=resolve_due
            )
            changes.update(
                type=supervisory,
                resolve_due=resolve_due,
                escalations=escalation.escalations_still_due(longer, today, policy.tiers, calendar),
            )
            data["resolve_due"] = resolve_due.isoformat()

    changes["last_seq"] = seq
    event = TimelineEvent(
        seq=seq,
        action=action,
        at=now,
        actor=actor,
        from_state=report.state,
        to_state=target,
        reason=command.reason.strip() if command.reason else None,
        message=command.message.strip() if command.message else None,
        data=MappingProxyType(data),
    )
    after = dataclasses.replace(report, **changes)  # type: ignore[arg-type]
    if (after.agency_id, after.unit_id) != (report.agency_id, report.unit_id):
        after = dataclasses.replace(after, assignee_id=None, assignee_name=None)
    return with_current_clocks(after, calendar, policy), event


def erase_contact(
    report: Report, command: Command, now: dt.datetime
) -> tuple[Report, TimelineEvent]:
    """The report after its reporter's identity and contact details are erased (UU
    27/2022), and the event recording it, or raise.

    Not a step of the lifecycle (so not among the transitions): possible in every
    state, it leaves the state and the clocks as they are. The reporter may ask for it
    at any time; the retention job (the system) only once the report ended. The event
    names no one: it says only who asked (``by``).
    """
    action, actor = command.action, command.actor
    if action is not Action.ERASE_CONTACT:
        raise InvalidCommand(f"{action.value} is not an erasure")
    if actor.role not in PERMITTED_ROLES[action]:
        raise NotPermitted(actor.role, action)
    by = ContactErasedBy.RETENTION if actor.role is Role.SYSTEM else ContactErasedBy.REPORTER
    if by is ContactErasedBy.RETENTION and report.state not in TERMINAL_STATES:
        raise NotPermitted(actor.role, action)
    _require(report.contact_erased is None, "the contact details are already erased")
    seq = report.last_seq + 1
    event = TimelineEvent(
        seq=seq,
        action=action,
        at=now,
        actor=actor,
        from_state=report.state,
        to_state=report.state,
        data=MappingProxyType({"by": by.value}),
    )
    after = dataclasses.replace(report, contact_erased=by, updated_at=now, last_seq=seq)
    return after, event


def keyed_action(report: Report, key: ActionKey) -> int | None:
    """The event an action with this key already made, or None; raises
    ActionKeyReused when the key came before with another request."""
    for done in report.action_keys:
        if done.key_hash == key.key_hash:
            if done.fingerprint != key.fingerprint:
                raise ActionKeyReused("this Idempotency-Key came with another request")
            return done.seq
    return None


def remember_key(report: Report, key: ActionKey, seq: int) -> Report:
    """``report`` remembering that ``key`` made event ``seq`` (the oldest forgotten)."""
    kept = (*report.action_keys, dataclasses.replace(key, seq=seq))[-ACTION_KEYS_KEPT:]
    return dataclasses.replace(report, action_keys=kept)


class ActionKeyReused(LifecycleError):
    code = "idempotency_key_reused"


def legal_actions(state: State) -> frozenset[Action]:
    return frozenset(action for (source, action) in TRANSITIONS if source == state)
