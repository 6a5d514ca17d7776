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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import Command, Report, State
from shared.ports import Change, Clock, OutboxMessage, ReportStore, Snapshot
from shared.reference import Reference
from shared.usecases.counters import event_tallies
from shared.usecases.notices import notices_for
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


@dataclass(frozen=True)
class Acted:
    """A committed action: the report after it, the change, and whether what it put
    in the outbox reached the bus now (False: the sweeper publishes it later)."""

    report: Report
    change: Change
    published: bool


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
    """
    now = clock.now()
    calendar, policy = settings.calendar(), settings.deadline_policy()

    def decide(report: Report) -> Change:
        if guard is not None:
            guard(report)
        decided = command(report) if callable(command) else command
        after, event = lifecycle.apply(report, decided, now, calendar, policy)
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
        return Change(after, event, outbox, settle, tallies)

    return store.transition(report_id, decide, known)
