"""Taking one lifecycle action on a stored report: the one way every actor changes a report.

Three consequences follow from the event itself, so no caller has to remember them: a
report that comes back to ``submitted`` (Bukan Wewenang, a reporter answering a hold)
emits ``report.submitted`` to be routed again; everyone the event tells is notified
(:mod:`shared.usecases.notices`); and the running totals the event moves (a rule's,
the published figures' counters: :mod:`shared.usecases.counters`) are committed with
it. An event that adds files also announces them (``report.files_added``), so the
route function promotes them even if the caller dies before it does
(:mod:`shared.usecases.evidence`). The caller publishes what the change put in the
outbox, right after the commit, through :func:`shared.usecases.outbox.publish_committed`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import ActionKey, Command, Report, State
from shared.ports import AuditEntry, Change, Clock, OutboxMessage, ReportStore, Snapshot
from shared.reference import Reference, load_reference
from shared.tokens import pseudonym
from shared.usecases.counters import event_tallies
from shared.usecases.notices import notices_for, routing_admin
from shared.usecases.submit import submitted_event

FILES_ADDED = "id.lapor.report.files_added.v1"


def files_added_event(
    report_id: str, seq: int, attachment_ids: Sequence[str], now: dt.datetime, topic: str
) -> OutboxMessage:
    """``report.files_added``: event ``seq`` committed these files, to be promoted from
    ``uploads/`` (on the report-submitted topic: the route function promotes)."""
    return OutboxMessage.cloud_event(
        f"{report_id}.{seq}.files",
        topic,
        {"report_id": report_id, "attachment_ids": list(attachment_ids), "seq": seq},
        type=FILES_ADDED,
        source="//lapor/reports",
        subject=f"reports/{report_id}",
        at=now,
    )


class AlreadyTaken(Exception):
    """The action's Idempotency-Key made event ``seq`` of ``report`` before."""

    def __init__(self, report: Report, seq: int) -> None:
        super().__init__(f"already taken as event {seq}")
        self.report = report
        self.seq = seq


@dataclass(frozen=True)
class Acted:
    """A committed action: the report after it, the change, and whether what it put
    in the outbox reached the bus now (False: the sweeper publishes it later)."""

    report: Report
    change: Change
    published: bool
    replayed: bool = False  # an Idempotency-Key's earlier action, found, not taken again


def erasure_record(
    after: Report, event: lifecycle.TimelineEvent, reference: Reference | None
) -> tuple[AuditEntry, ...]:
    """The change-log entry an erasure of the reporter's contact details commits with
    it (in the log of the report's agency; of the admin who routes it while it has
    none): who erased, when, which report, never what was erased."""
    if event.action is not lifecycle.Action.ERASE_CONTACT:
        return ()
    by = str(event.data.get("by", ""))
    return (
        AuditEntry(
            at=event.at,
            agency_id=after.agency_id or routing_admin(after, reference or load_reference()) or "",
            actor_id="system" if event.actor.role is lifecycle.Role.SYSTEM else "reporter",
            actor_name="retensi" if event.actor.role is lifecycle.Role.SYSTEM else "pelapor",
            kind="identity.erased",
            target=after.id,
            details={"tracking_code": after.tracking_code, "by": by},
        ),
    )


def action_key(
    settings: Settings, caller: str, key: str, request: Mapping[str, object]
) -> ActionKey:
    """The stored form of ``caller``'s Idempotency-Key ``key`` (keyed, so the store
    never holds the key itself, and scoped: another caller's same key is another key)
    for the action ``request`` asks (its fingerprint: the same key with another request
    is refused)."""
    body = json.dumps(request, sort_keys=True, default=str, separators=(",", ":"))
    return ActionKey(
        key_hash=pseudonym(settings.token_secret, "action", f"{caller}\n{key}"),
        fingerprint=hashlib.sha256(body.encode()).hexdigest(),
    )


def replay(taken: AlreadyTaken, store: ReportStore) -> Acted:
    """What an action retried with its Idempotency-Key answers: the report as it is
    now, and the event the first attempt made (one read of the timeline)."""
    [event] = [e for e in store.timeline(taken.report.id) if e.seq == taken.seq]
    return Acted(taken.report, Change(taken.report, event), published=True, replayed=True)


def act(
    report_id: str,
    command: Command | Callable[[Report], Command],
    *,
    store: ReportStore,
    clock: Clock,
    settings: Settings,
    reference: Reference | None = None,
    settle: tuple[str, ...] = (),
    guard: Callable[[Report], None] | None = None,
    known: Snapshot | None = None,
    key: ActionKey | None = None,
) -> Change:
    """Apply ``command`` in a transaction; raise (and write nothing) if the lifecycle refuses.

    ``command`` may be a function of the fresh report, for callers whose decision
    depends on it (routing): it then costs no read beyond the transaction's own.
    ``guard`` runs on the fresh report inside the transaction, before the lifecycle:
    it is where callers check what only they know (that an agency owns the report).
    ``known``: the report as the caller already holds it, to commit without reading it
    again while it is still that version (:meth:`shared.ports.ReportStore.transition`).
    ``reference``: the agency tree, for the notifications that need it (default: the
    bundled reference data).
    ``key``: the caller's Idempotency-Key: an action already taken with it raises
    AlreadyTaken (nothing written) before anything else is checked, so a retry finds
    what the first attempt did; the same key with another request, ActionKeyReused.
    """
    now = clock.now()
    calendar, policy = settings.calendar(), settings.deadline_policy()

    def decide(report: Report) -> Change:
        if key is not None:
            done = lifecycle.keyed_action(report, key)
            if done is not None:
                raise AlreadyTaken(report, done)
        if guard is not None:
            guard(report)
        decided = command(report) if callable(command) else command
        if decided.action is lifecycle.Action.ERASE_CONTACT:
            after, event = lifecycle.erase_contact(report, decided, now)
        else:
            after, event = lifecycle.apply(report, decided, now, calendar, policy)
        if key is not None:
            after = lifecycle.remember_key(after, key, event.seq)
        outbox = notices_for(report, after, event, settings=settings, reference=reference)
        if event.to_state is State.SUBMITTED and event.from_state not in (None, State.SUBMITTED):
            # Back for routing: announced like a new submission, under this event's id.
            routing = f"{after.id}.{event.seq}"
            outbox = (
                submitted_event(after, routing, now, settings.topic_report_submitted),
                *outbox,
            )
        if decided.attachments:
            ids = [attachment.id for attachment in decided.attachments]
            topic = settings.topic_report_submitted
            outbox = (*outbox, files_added_event(after.id, event.seq, ids, now, topic))
        tallies = event_tallies(
            report, after, event, calendar, policy, figure_shards=settings.figure_shards
        )
        audit = erasure_record(after, event, reference)
        return Change(after, event, outbox, settle, tallies, audit)

    return store.transition(report_id, decide, known)
