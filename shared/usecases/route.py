"""Routing a submitted report: disposition to an agency, or the admin queue.

Consumes the ``report.submitted`` message (from submit, from the sweeper, or from a
"Bukan Wewenang" that sent the report back), decides with the pure
:func:`shared.domain.routing.route`, and records the outcome in one transaction:

- an agency: a DISPOSITION through :func:`act` that settles the consumed outbox entry;
- no agency: a QUEUE_FOR_ADMIN through :func:`act` (the report stays ``submitted``,
  with the reason and any weak suggestion on it and on the timeline), settling the
  consumed entry in the same commit.

Either way act commits whom the event tells (:mod:`shared.usecases.notices`: the
agency, or the admin who must route the report), published right after the commit
(notify deletes each from the outbox once it has settled it).

Idempotent per message: the message announces the event that made the report
``submitted`` (outbox id ``<report id>.<seq>``). A report no longer ``submitted`` at
that seq was already handled, so a redelivery changes nothing; it only republishes
routing's notification if that is still pending (at-least-once: the notify side
dedupes on ``notification_id``).

Publish failure after the commit raises :class:`NotificationPending`, so Pub/Sub
redelivers the message and the redelivery republishes; the outbox sweeper is the
backstop if every redelivery fails too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.domain.report import (
    MAX_ATTACHMENTS_PER_REPORT,
    Action,
    Actor,
    Command,
    Report,
    Role,
    State,
)
from shared.domain.routing import KeywordProfile, Routing, RoutingFacts, Rule, route
from shared.ports import (
    OutboxMessage,
    Publisher,
    RoutePorts,
    RouteStore,
    RoutingTables,
)
from shared.pubsub_push import MalformedPush, Pushed, invalid
from shared.reference import AgencyKind, Reference, RoutingRule
from shared.usecases.act import FILES_ADDED, act
from shared.usecases.evidence import StagedFileLost, promote
from shared.usecases.notices import notification_id, routing_admin
from shared.usecases.outbox import publish_committed

log = logging.getLogger(__name__)

# Reasons on the timeline (the reporter reads them too): Bahasa Indonesia.
NO_MATCH = "Tidak ada aturan perutean yang cocok; menunggu admin."
WEAK_SUGGESTION = "Saran otomatis belum cukup yakin; menunggu admin."
GAVE_UP = "Perutean otomatis gagal setelah {attempts} percobaan; menunggu admin."
ROUTER = Actor(Role.SYSTEM, "system:route")


# --- the message ----------------------------------------------------------------------


class _SubmittedData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    report_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class SubmittedMessage:
    report_id: str
    outbox_id: str  # "<report id>.<seq>": the outbox entry this message settles
    seq: int  # the timeline event that made the report submitted
    # Pushed from the dead-letter topic: routing failed every attempt Pub/Sub made.
    dead_lettered: bool = False
    delivery_attempts: int | None = None


_OUTBOX_ID = re.compile(r"^(?P<report>[A-Za-z0-9_-]+)\.(?P<seq>[1-9][0-9]{0,8})$")


def submitted_message(pushed: Pushed) -> SubmittedMessage:
    """The ``report.submitted`` message a push carries, or :class:`MalformedPush`
    saying why not: the data names the report, ``ce-id`` the outbox entry."""
    try:
        parsed = _SubmittedData.model_validate(pushed.data)
    except ValidationError as exc:
        raise invalid("report.submitted", exc) from None
    outbox_id = pushed.attributes.get("ce-id")
    if outbox_id is None:
        raise MalformedPush("the message has no ce-id attribute (the outbox id)")
    match = _OUTBOX_ID.match(outbox_id)
    if match is None or match["report"] != parsed.report_id:
        raise MalformedPush(
            f"ce-id {outbox_id!r} is not '<report_id>.<seq>' for report {parsed.report_id!r}"
        )
    return SubmittedMessage(
        parsed.report_id,
        outbox_id,
        int(match["seq"]),
        dead_lettered=pushed.dead_lettered,
        delivery_attempts=pushed.delivery_attempts,
    )


# --- the reference data, as routing wants it ------------------------------------------


def routing_tables(reference: Reference) -> RoutingTables:
    """Rules, the agencies a report may be dispositioned to, and their keyword profiles.

    Units are not dispositioned to (their agency forwards to them), so they are
    neither known nor profiled; a rule that names a unit dispositions to the unit's
    agency with the unit set. An agency's keywords are those of every category it
    handles, children included (handling ``infrastruktur`` covers ``.jalan``).
    """
    agencies = [a for a in reference.agencies if a.kind is not AgencyKind.UNIT]
    profiles = []
    for agency in agencies:
        keywords: list[str] = []
        for category in reference.categories:
            if agency.handles(category.id):
                keywords.extend(k for k in category.keywords if k not in keywords)
        if keywords:
            profiles.append(KeywordProfile(agency.id, tuple(keywords)))
    return RoutingTables(
        rules=tuple(_rule(r, reference) for r in reference.routing_rules),
        known_agencies=frozenset(a.id for a in agencies),
        profiles=tuple(profiles),
    )


def _rule(rule: RoutingRule, reference: Reference) -> Rule:
    """``rule`` as routing applies it: a unit's rule goes to the agency above the unit."""
    named = reference.agency(rule.agency)
    if named.kind is not AgencyKind.UNIT:
        return Rule(rule.id, rule.category, rule.region, rule.agency)
    agency = next(a for a in reference.ancestors(named.id) if a.kind is not AgencyKind.UNIT)
    return Rule(rule.id, rule.category, rule.region, agency.id, unit=named.id)


def routing_facts(report: Report) -> RoutingFacts:
    return RoutingFacts(
        category=report.category,
        province_code=report.region.province_code,
        regency_code=report.region.regency_code,
        district_code=report.region.district_code,
        target_agency_id=report.target_agency_id,
        text=f"{report.title}\n{report.description}",
        excluded_agencies=frozenset(report.rejected_by),
    )


def decide(report: Report, tables: RoutingTables, threshold: float) -> Routing:
    return route(
        routing_facts(report),
        rules=tables.rules,
        known_agencies=tables.known_agencies,
        profiles=tables.profiles,
        auto_route_threshold=threshold,
    )


# --- the use case ---------------------------------------------------------------------


class Outcome(StrEnum):
    DISPOSITIONED = "dispositioned"
    ADMIN_QUEUE = "admin_queue"
    ALREADY_HANDLED = "already_handled"  # a redelivery, or a stale message


class NotificationPending(Exception):
    """Committed, but the notification did not reach the bus: retry the message."""


@dataclass(frozen=True)
class RouteResult:
    outcome: Outcome
    routing: Routing | None = None
    notifications_published: int = 0


class _AlreadyHandled(Exception):
    def __init__(self, report: Report) -> None:
        super().__init__(report.id)
        self.report = report


def _awaiting(report: Report, seq: int) -> bool:
    """Still waiting for routing by this very message."""
    return report.state is State.SUBMITTED and report.last_seq == seq


def route_report(message: SubmittedMessage, ports: RoutePorts) -> RouteResult:
    """Route the report ``message`` announces, once. Raises ReportNotFound (malformed:
    acknowledge), NotificationPending or the store's errors (transient: retry).

    The decision is made inside the transaction, on the report as it is then: one
    read per routed report, and a concurrent change simply makes it decide again.
    """
    store, publisher, settings = ports.store, ports.publisher, ports.settings
    decided: list[Routing | None] = []  # the decision of the transaction's last run

    def command_for(report: Report) -> Command:
        if not _awaiting(report, message.seq):
            raise _AlreadyHandled(report)
        if message.dead_lettered:  # every attempt failed: an admin routes it by hand
            decided[:] = [None]
            attempts = message.delivery_attempts or "semua"
            reason = GAVE_UP.format(attempts=attempts)
            return Command(Action.QUEUE_FOR_ADMIN, ROUTER, reason=reason, data=DEAD_LETTER)
        routing = decide(report, ports.tables, settings.route_auto_threshold)
        decided[:] = [routing]
        return _command(routing)

    try:
        change = act(
            message.report_id,
            command_for,
            store=store,
            clock=ports.clock,
            settings=settings,
            settle=(message.outbox_id,),  # the sweeper stops resending it
            reference=ports.reference,
        )
    except _AlreadyHandled as handled:
        return _redelivered(handled.report, message, ports)
    [routing] = decided
    if change.event.action is Action.QUEUE_FOR_ADMIN:
        log.log(
            logging.ERROR if routing is None else logging.INFO,
            "report waits in the admin queue",
            extra={
                "report_id": message.report_id,
                "reason": change.event.reason,
                "suggested_agency_id": routing.suggested_agency_id if routing else None,
            },
        )
        return RouteResult(Outcome.ADMIN_QUEUE, routing, _publish(change.outbox, store, publisher))
    assert routing is not None
    log.info(
        "report dispositioned",
        extra={
            "report_id": message.report_id,
            "agency_id": routing.agency_id,
            "method": routing.method.value,
            "rule_id": routing.rule_id,
        },
    )
    published = _publish(change.outbox, store, publisher)
    return RouteResult(Outcome.DISPOSITIONED, routing, published)


DEAD_LETTER: dict[str, str | int] = {"method": "dead_letter"}


def _command(routing: Routing) -> Command:
    """The lifecycle command that records ``routing``: a disposition or the admin queue."""
    data: dict[str, str | int] = {"method": routing.method.value}
    if routing.rule_id:
        data["rule_id"] = routing.rule_id
    if routing.confidence is not None:
        data["confidence"] = f"{routing.confidence:.3f}"  # event data holds str | int
    if routing.suggested_agency_id:
        data["suggested_agency_id"] = routing.suggested_agency_id
    if routing.agency_id is None:
        reason = WEAK_SUGGESTION if routing.suggested_agency_id else NO_MATCH
        return Command(Action.QUEUE_FOR_ADMIN, ROUTER, reason=reason, data=data)
    return Command(
        Action.DISPOSITION, ROUTER, agency_id=routing.agency_id, unit_id=routing.unit_id, data=data
    )


def _redelivered(report: Report, message: SubmittedMessage, ports: RoutePorts) -> RouteResult:
    """Already handled. If the report is as routing's commit after this message left it
    and that commit's notification is still pending (the publish after the commit
    failed), publish it now. (A report changed since has had its own publishes; the
    sweeper publishes whatever is still pending.)"""
    published = 0
    store, publisher = ports.store, ports.publisher
    told = _told_by_routing(report, ports.reference) if report.last_seq == message.seq + 1 else ()
    found = (
        store.pending_outbox_entry(notification_id(report.id, report.last_seq, t)) for t in told
    )
    pending = tuple(entry for entry in found if entry is not None)
    if pending:
        published = _publish(pending, store, publisher)
    log.info(
        "report already handled; message acknowledged",
        extra={"report_id": report.id, "outbox_id": message.outbox_id, "republished": published},
    )
    return RouteResult(Outcome.ALREADY_HANDLED, None, published)


def _told_by_routing(report: Report, reference: Reference) -> tuple[str, ...]:
    """Whom routing's last commit told, read off the report it left: the agency it was
    dispositioned to (and the unit, when a rule named one), or the admin who must route
    it."""
    if report.state is State.DISPOSITIONED and report.agency_id:
        return (report.agency_id, *([report.unit_id] if report.unit_id else []))
    if report.state is State.SUBMITTED and report.admin_queue is not None:
        admin = routing_admin(report, reference)
        return (admin,) if admin else ()
    return ()


def _publish(messages: Sequence[OutboxMessage], store: RouteStore, publisher: Publisher) -> int:
    """Publish and settle what the commit told, or raise so the message is redelivered."""
    if not publish_committed(publisher, messages, store):
        ids = ", ".join(m.id for m in messages)
        raise NotificationPending(f"notification {ids} committed but not published")
    return len(messages)


# --- the files a commit announced (shared.usecases.evidence) ----------------------------
# A commit that adds files announces them on this topic: ``report.submitted`` with its
# ``attachment_ids``, or ``report.files_added`` for a follow-up's. The committing
# function promotes them itself right after its commit; this is the backstop for one
# that died first (the sweeper republishes its pending outbox), so it runs before
# routing and changes nothing when the files are already in place.


class _AnnouncedData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    report_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    attachment_ids: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS_PER_REPORT)


@dataclass(frozen=True)
class AnnouncedFiles:
    report_id: str
    attachment_ids: tuple[str, ...]
    outbox_id: str  # the ce-id: a files_added entry is settled once its files are in place
    files_added: bool  # nothing but the promotion consumes it (no routing follows)


def announced_files(pushed: Pushed) -> AnnouncedFiles:
    """The files a ``report.submitted`` or ``report.files_added`` message announces
    (none for a submission without files, or a report sent back to routing), or
    :class:`MalformedPush` saying why not."""
    try:
        parsed = _AnnouncedData.model_validate(pushed.data)
    except ValidationError as exc:
        raise invalid("report.submitted", exc) from None
    outbox_id = pushed.attributes.get("ce-id")
    if outbox_id is None:
        raise MalformedPush("the message has no ce-id attribute (the outbox id)")
    return AnnouncedFiles(
        parsed.report_id,
        tuple(parsed.attachment_ids),
        outbox_id,
        files_added=pushed.attributes.get("ce-type") == FILES_ADDED,
    )


def promote_announced(announced: AnnouncedFiles, ports: RoutePorts) -> int:
    """Promote the announced files where they are not yet (one read of the report,
    one lookup per object already in place); the number of copies made. Raises only
    what a retry may fix (storage or Firestore unavailable).

    A file that is neither staged nor promoted is logged at ERROR and the message
    acknowledged, not dead-lettered: no retry can bring back bytes the lifecycle
    deleted, and the report must still be routed; the log-based alert is what tells."""
    copies = 0
    if announced.attachment_ids:
        report = ports.store.get(announced.report_id)
        wanted = set(announced.attachment_ids)
        attachments = [a for a in report.attachments if a.id in wanted] if report else []
        if len(attachments) != len(wanted):
            log.error(
                "announced files that the report does not list",
                extra={"report_id": announced.report_id, "attachment_ids": sorted(wanted)},
            )
        try:
            copies = promote(announced.report_id, attachments, ports.blobs)
        except StagedFileLost as lost:
            copies = lost.copies
            log.error(
                "committed files lost before they were promoted",
                extra={"report_id": announced.report_id, "objects": list(lost.names)},
            )
    if announced.files_added:
        ports.store.settle_outbox([announced.outbox_id])
    if copies:
        log.info(
            "files promoted by the route function",
            extra={"report_id": announced.report_id, "copies": copies},
        )
    return copies
