"""Agency staff acting on reports: who the caller is, what they may see, what they may do.

An API key names one agency and one role (``national_admin``, ``agency_admin``,
``unit_officer``). What a caller may see follows the agency tree:

- the national admin sees every report;
- an agency admin sees reports dispositioned (or forwarded) to its agency or any agency
  or unit below it, and, when it is a local government (province, regency, city), the
  unrouted reports of its region: its regional admin queue;
- a unit officer sees only reports forwarded to its unit (or a unit below it).

Anything else answers "not found", never "forbidden": a caller must not learn that a
report it may not see exists. Every change goes through :func:`shared.usecases.act.act`
with a guard that re-checks visibility and the target on the fresh report inside the
transaction, so a report re-routed meanwhile cannot be acted on by its old agency.

A routed report may be archived before any follow-up only by the admin of the agency it
was dispositioned to: routing by rule or classifier is not verification, so that agency
may still find it is spam or a duplicate. Any admin who sees a complaint may mark it
"berkadar pengawasan" (60 working days) with a reason.

A caller that acts on what it last read (the console's forms carry the report's
``last_seq``) passes it as ``expected_seq``: when the report changed meanwhile the action
is refused with :class:`ReportChanged` and nothing is written, so nobody resolves a
report on the strength of a timeline that is no longer the current one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.domain.privacy import Audience, view
from shared.domain.report import (
    TRANSITIONS,
    Action,
    Actor,
    Command,
    InvalidCommand,
    LifecycleError,
    NotPermitted,
    Report,
    Role,
    State,
    age_working_days,
    is_overdue,
)
from shared.domain.routing import covers
from shared.domain.tracking import normalize_tracking_code
from shared.ports import (
    AgencyPorts,
    ApiKeyStore,
    AuditEntry,
    InboxQuery,
    ReportNotFound,
    Scope,
)
from shared.reference import AgencyKind, Reference
from shared.usecases import evidence
from shared.usecases.act import Acted, AlreadyTaken, act, action_key, replay
from shared.usecases.deliveries import delivery_view
from shared.usecases.outbox import publish_committed

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile

log = logging.getLogger(__name__)

API_KEY_PREFIX = "lpr_"
STAFF_ROLES = frozenset({Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN, Role.UNIT_OFFICER})
MAX_LIMIT = 100
_LOCAL_GOVERNMENTS = frozenset({AgencyKind.PROVINCE, AgencyKind.REGENCY, AgencyKind.CITY})


# --- API keys -------------------------------------------------------------------------


def key_hash(key: str) -> str:
    """The document id a key is stored under. Keys carry 256 random bits, so an unsalted
    SHA-256 is enough (no dictionary to attack), and lookup costs one read."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the agency and role their key (or staff account) names.

    ``actor_id`` names them in the change log: ``key:<first 12 of the key hash>`` for the
    API, ``staff:<account id>`` for the console; ``key_label`` is the name shown beside it.
    """

    agency_id: str
    role: Role
    key_label: str = ""
    actor_id: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.agency_id)

    @property
    def is_national(self) -> bool:
        return self.role is Role.NATIONAL_ADMIN

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN)

    @property
    def audience(self) -> Audience:
        return Audience.ADMIN if self.is_national else Audience.AGENCY


class Unauthenticated(Exception):
    """No key, an unknown key, or a revoked one (deliberately not told apart)."""


def authenticate(authorization: str | None, keys: ApiKeyStore) -> Caller:
    scheme, _, value = (authorization or "").partition(" ")
    key = value.strip()
    if scheme.lower() != "bearer" or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        raise Unauthenticated
    wanted = key_hash(key)
    record = keys.api_key(wanted)
    # The lookup is by id; compare again in constant time so a store that ever answers
    # a near match (a prefix scan, a cache) cannot let a wrong key through.
    if record is None or not hmac.compare_digest(record.key_hash, wanted) or record.revoked:
        raise Unauthenticated
    if record.role not in STAFF_ROLES:
        raise Unauthenticated
    return Caller(record.agency_id, record.role, record.label, actor_id=f"key:{wanted[:12]}")


# --- visibility -----------------------------------------------------------------------


def scope_of(caller: Caller, reference: Reference) -> Scope:
    if caller.is_national:
        return Scope(everything=True)
    if not reference.has_agency(caller.agency_id):
        return Scope()  # a key for an agency since removed sees nothing
    below = reference.descendants(caller.agency_id)
    if caller.role is Role.UNIT_OFFICER:
        return Scope(agencies=below, units_only=True)
    agency = reference.agency(caller.agency_id)
    region = agency.region if agency.kind in _LOCAL_GOVERNMENTS else None
    return Scope(agencies=below, queue_region=region)


def _report_region(report: Report) -> str:
    return report.region.regency_code or report.region.province_code


def may_see(scope: Scope, report: Report) -> bool:
    if scope.everything:
        return True
    if report.unit_id is not None and report.unit_id in scope.agencies:
        return True
    if not scope.units_only and report.agency_id in scope.agencies:
        return True
    return (
        scope.queue_region is not None
        and report.agency_id is None
        and report.state in (State.SUBMITTED, State.ON_HOLD)
        and covers(scope.queue_region, _report_region(report))
    )


def may_route_to(caller: Caller, reference: Reference, agency_id: str) -> bool:
    """National admins route anywhere; an agency admin to itself or below it."""
    if not reference.has_agency(agency_id):
        return False
    if caller.is_national:
        return True
    return caller.role is Role.AGENCY_ADMIN and agency_id in reference.descendants(caller.agency_id)


# --- reading --------------------------------------------------------------------------


def clock_figures(report: Report, ports: AgencyPorts) -> dict[str, Any]:
    """What the clocks say today (Asia/Jakarta): whether the current state's clock ran
    out, and the report's total age in working days."""
    calendar = ports.settings.calendar()
    today = calendar.local_date(ports.clock.now())
    return {
        "overdue": is_overdue(report, today),
        "age_working_days": age_working_days(report, today, calendar),
    }


def summary(report: Report, caller: Caller, ports: AgencyPorts) -> dict[str, Any]:
    """An inbox line: the privacy-applied view without the timeline or the identity."""
    shown = view(report, (), caller.audience, None) or {}
    shown.pop("timeline", None)
    shown.pop("description", None)
    shown["id"] = report.id
    shown["seq"] = report.last_seq  # the version: what a stale-action check compares
    shown.update(casework_fields(report))
    shown.update(clock_figures(report, ports))
    return shown


def inbox(
    caller: Caller,
    ports: AgencyPorts,
    *,
    status: State | None = None,
    overdue: bool = False,
    escalated: bool = False,
    admin_queue: bool = False,
    limit: int = 25,
    after: tuple[str, str] | None = None,
    assigned_to: str | None = None,
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """One page of the caller's inbox. ``assigned_to`` (a staff account id: the
    console's "assigned to me") goes with ``status`` only, not with ``overdue``,
    ``escalated`` or ``admin_queue`` (ValueError)."""
    if admin_queue and not caller.is_admin:
        raise NotPermitted(caller.role, Action.DISPOSITION)
    scope = scope_of(caller, ports.reference)
    today = ports.settings.calendar().local_date(ports.clock.now())
    query = InboxQuery(
        scope=scope,
        status=State.SUBMITTED if admin_queue else status,
        overdue_before=today if overdue else None,
        escalated=escalated,
        admin_queue=admin_queue,
        limit=max(1, min(limit, MAX_LIMIT)),
        after=after,
        assignee_id=assigned_to,
    )
    page = ports.inbox.inbox(query)
    # The store's query already filters; this is the one visibility rule, applied again
    # so a query bug can never show another agency's report.
    shown = [summary(r, caller, ports) for r in page.reports if may_see(scope, r)]
    return shown, page.next_after


# A report in these states has no agency (it waits for routing), so only the national
# admin's inbox and the admin queue can hold one: other inboxes do not count them.
_UNROUTED_STATES = frozenset({State.SUBMITTED, State.ON_HOLD})


@dataclass(frozen=True)
class InboxCounts:
    """What waits in the caller's inbox: per state, overdue, escalated, and (admins with
    a queue: regional and national) the unrouted reports waiting for them."""

    by_state: Mapping[State, int]
    overdue: int
    escalated: int
    admin_queue: int | None  # None: the caller has no admin queue
    assigned: int | None = None  # given to ``assigned_to``; None when not asked


def inbox_counts(
    caller: Caller, ports: AgencyPorts, *, assigned_to: str | None = None
) -> InboxCounts:
    """The inbox's figures, as :func:`inbox` would filter them: one count aggregation
    each. Counts are numbers of reports the query matches in scope; unlike a listing
    they cannot be re-checked one by one, so they rest on the same scoped queries.
    ``assigned_to`` (a staff account id) adds how many are given to that person."""
    scope = scope_of(caller, ports.reference)
    today = ports.settings.calendar().local_date(ports.clock.now())
    states = [s for s in State if scope.everything or s not in _UNROUTED_STATES]
    queries = [InboxQuery(scope=scope, status=s) for s in states]
    queries += [
        InboxQuery(scope=scope, overdue_before=today),
        InboxQuery(scope=scope, escalated=True),
    ]
    has_queue = caller.is_admin and (scope.everything or scope.queue_region is not None)
    if has_queue and not scope.everything:
        queries.append(InboxQuery(scope=scope, status=State.SUBMITTED, admin_queue=True))
    if assigned_to is not None:
        queries.append(InboxQuery(scope=scope, assignee_id=assigned_to))
    found = iter(ports.inbox.count(queries))
    by_state = {s: next(found) for s in states}
    overdue, escalated = next(found), next(found)
    queue: int | None = None
    if has_queue:
        queue = by_state[State.SUBMITTED] if scope.everything else next(found)
    return InboxCounts(
        by_state={s: by_state.get(s, 0) for s in State},
        overdue=overdue,
        escalated=escalated,
        admin_queue=queue,
        assigned=next(found) if assigned_to is not None else None,
    )


def find_by_code(code_text: str, caller: Caller, ports: AgencyPorts) -> str:
    """The id of the report with this tracking code, typed as a citizen would (the
    citizen lookup's normalisation); ReportNotFound when there is none or the caller
    may not see it, InvalidTrackingCode when the text is not a well-formed code."""
    code = normalize_tracking_code(code_text)
    report = ports.store.find_by_tracking_code(code)
    if report is None or not may_see(scope_of(caller, ports.reference), report):
        raise ReportNotFound(code)
    return report.id


def detail(
    report_id: str, caller: Caller, ports: AgencyPorts, *, with_identity: bool = True
) -> dict[str, Any]:
    """The report as the caller may see it, with the reporter's identity when the
    privacy view allows it (not anonymous) and ``with_identity``: that view is recorded
    in the change log before it is returned (:func:`reporter_identity`). The console
    asks without it and shows the identity only on request."""
    store = ports.store
    report = store.get(report_id)
    if report is None or not may_see(scope_of(caller, ports.reference), report):
        raise ReportNotFound(report_id)
    shown = view(report, store.timeline(report_id), caller.audience, None)
    if shown is None:  # pragma: no cover - view hides reports from the public only
        raise ReportNotFound(report_id)
    if with_identity:
        reporter = recorded_identity(report, caller, ports)
        if reporter is not None:
            shown["reporter"] = reporter
    shown["id"] = report.id
    shown["seq"] = report.last_seq  # the version: what a stale-action check compares
    shown.update(casework_fields(report))
    shown.update(clock_figures(report, ports))
    # Who was told what, and how it went (shared.usecases.deliveries: no contact of the
    # reporter, an agency's address only to its own staff).
    shown["deliveries"] = [
        delivery_view(d, caller.agency_id) for d in ports.deliveries.deliveries(report_id)
    ]
    return shown


def casework_fields(report: Report) -> dict[str, Any]:
    """Who handles the report in its agency and how urgent it is: staff only (no
    privacy view has them, so neither the reporter, the public nor a webhook sees them)."""
    return {
        "assignee_id": report.assignee_id,
        "assignee_name": report.assignee_name,
        "priority": report.priority.value,
    }


# --- the reporter's identity: every view by staff is recorded ------------------------


def reporter_identity(report_id: str, caller: Caller, ports: AgencyPorts) -> dict[str, Any] | None:
    """The reporter's name and contact as the caller may see them, recorded as
    ``identity.viewed`` (who, when, which report) before they are returned; None when
    the privacy view shows none (an anonymous reporter: nothing is recorded).
    ReportNotFound when the caller may not see the report."""
    report = ports.store.get(report_id)
    if report is None or not may_see(scope_of(caller, ports.reference), report):
        raise ReportNotFound(report_id)
    return recorded_identity(report, caller, ports)


def recorded_identity(report: Report, caller: Caller, ports: AgencyPorts) -> dict[str, Any] | None:
    """The reporter's identity of ``report`` as the caller's privacy view shows it, its
    view recorded first; None (nothing read or recorded) for an anonymous reporter."""
    if report.anonymous:
        return None
    identity = ports.store.identity(report.id)
    shown = view(report, (), caller.audience, identity) or {}
    reporter = shown.get("reporter")
    if reporter is None:
        return None
    # Recorded first: if the record cannot be written, the identity is not shown.
    ports.audit.record(
        AuditEntry(
            at=ports.clock.now(),
            agency_id=report.agency_id or caller.agency_id,
            actor_id=caller.actor_id or f"agency:{caller.agency_id}",
            actor_name=caller.key_label,
            kind="identity.viewed",
            target=report.id,
            details={"tracking_code": report.tracking_code},
        )
    )
    return dict(reporter)


# --- acting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyCommand:
    """What the API asks for; turned into a domain Command for the caller."""

    action: Action
    reason: str | None = None
    message: str | None = None
    agency_id: str | None = None  # VERIFY (disposition) target
    unit_id: str | None = None  # FORWARD target


class ReportChanged(LifecycleError):
    """The report is no longer the version the caller acted on (``expected_seq``)."""

    code = "report_changed"

    def __init__(self, expected_seq: int, current_seq: int) -> None:
        super().__init__(
            f"the report changed since it was read (version {expected_seq}, now {current_seq})"
        )
        self.expected_seq = expected_seq
        self.current_seq = current_seq


def take_action(
    report_id: str,
    caller: Caller,
    request: AgencyCommand,
    ports: AgencyPorts,
    *,
    expected_seq: int | None = None,
    files: Sequence[SafeFile] = (),
    idempotency_key: str | None = None,
) -> Acted:
    """Apply one agency action through ``act``, then publish what it committed.

    ``expected_seq``: the report's ``last_seq`` as the caller read it; checked on the
    fresh report inside the transaction (ReportChanged when it moved on).
    ``files``: what a follow-up or a resolution brings (already safe:
    shared.usecases.evidence.safe_files), staged before the commit, promoted after it.
    Raises ReportNotFound or a LifecycleError, and then nothing is written (files
    staged for a refused commit stay under ``uploads/`` until the lifecycle deletes them).
    ``idempotency_key``: the caller's; a retry with it answers the first attempt's
    event (``Acted.replayed``), the same key with another request ActionKeyReused.
    """
    reference = ports.reference
    scope = scope_of(caller, reference)
    action = request.action
    data: dict[str, str | int] = {}
    if action is Action.DISPOSITION:
        data["method"] = "manual"
        if not request.agency_id or not may_route_to(caller, reference, request.agency_id):
            raise InvalidCommand(f"you may not route to agency {request.agency_id!r}")
    blobs = ports.blobs if files else None
    if files:
        # One read before any byte is stored: a caller who may not see the report
        # leaves nothing behind in the bucket (the transaction checks again).
        current = ports.store.get(report_id)
        if current is None or not may_see(scope, current):
            raise ReportNotFound(report_id)
    attachments = evidence.stage_for_action(report_id, action, files, blobs)
    command = Command(
        action=action,
        actor=caller.actor,
        reason=request.reason,
        message=request.message,
        agency_id=request.agency_id,
        unit_id=request.unit_id,
        data=data,
        attachments=attachments,
    )

    def guard(report: Report) -> None:
        if not may_see(scope, report):
            raise ReportNotFound(report_id)
        if expected_seq is not None and report.last_seq != expected_seq:
            raise ReportChanged(expected_seq, report.last_seq)
        if action is Action.ARCHIVE and report.state is State.DISPOSITIONED:
            _check_archive_of_routed(caller, report)
        # The target is checked only when forwarding is legal now, so a forward on a
        # closed report answers "illegal transition" (409), not "bad unit" (422).
        if action is Action.FORWARD and (report.state, action) in TRANSITIONS:
            _check_forward(reference, report, request.unit_id)

    key = None
    if idempotency_key is not None:
        asked = {
            "report": report_id,
            "action": action.value,
            "reason": request.reason,
            "message": request.message,
            "agency_id": request.agency_id,
            "unit_id": request.unit_id,
            "files": [hashlib.sha256(f.data).hexdigest() for f in files],
        }
        scope_id = caller.actor_id or f"{caller.agency_id}:{caller.role.value}"
        key = action_key(ports.settings, scope_id, idempotency_key, asked)
    # Whom it tells (a Bukan Wewenang: back to routing, and the admin who must route
    # it) and the rule it counts against, all in the same commit: act derives them.
    try:
        change = act(
            report_id,
            command,
            store=ports.store,
            clock=ports.clock,
            settings=ports.settings,
            reference=reference,
            guard=guard,
            key=key,
        )
    except AlreadyTaken as taken:
        return replay(taken, ports.store)
    if blobs is not None:
        evidence.promote_after_commit(report_id, attachments, blobs)
    published = publish_committed(ports.publisher, change.outbox, ports.store)
    log.info(
        "action taken",
        extra={"report_id": report_id, "action": action.value, "seq": change.event.seq},
    )
    return Acted(change.report, change, published)


class NotTheReceivingAgency(NotPermitted):
    """A routed report is archived by the agency it was routed to, or not at all."""

    def __init__(self, role: Role, action: Action) -> None:
        super().__init__(role, action)
        self.args = (
            "only the admin of the agency the report was dispositioned to may archive it "
            "before any follow-up",
        )


def _check_archive_of_routed(caller: Caller, report: Report) -> None:
    if caller.role is not Role.AGENCY_ADMIN or caller.agency_id != report.agency_id:
        raise NotTheReceivingAgency(caller.role, Action.ARCHIVE)


def _check_forward(reference: Reference, report: Report, unit_id: str | None) -> None:
    if not unit_id or not reference.has_agency(unit_id):
        raise InvalidCommand(f"unknown unit {unit_id!r}")
    unit = reference.agency(unit_id)
    if unit.kind is not AgencyKind.UNIT:
        raise InvalidCommand(f"{unit_id!r} is not a unit")
    if report.agency_id is None or unit_id not in reference.descendants(report.agency_id):
        raise InvalidCommand(f"{unit_id!r} is not a unit of {report.agency_id!r}")
