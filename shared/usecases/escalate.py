"""The daily run: escalations, automatic closing and archiving, once per report and day.

For the run date D, whose logical moment is D at 07:00 in the deployment's time zone
(the schedule's time; every event the run writes carries that moment, so a retried
run is the same run), it walks the reports whose ``next_due_on`` is on or before D: an
indexed query in ``(next_due_on, id)`` order, a page at a time with a cursor, so it
reads in proportion to its work and never every report. For each it applies what the
domain says is due, one atomic commit per command through :func:`act`:

- ARCHIVE by the system: a hold the reporter left unanswered past the silence;
- AUTO_CLOSE: a resolved report whose reporter stayed silent;
- ESCALATE: each due tier of the running clock, in order (a run after missed days
  catches up). The event records whom the tier told (``notified``: comma-separated
  ``recipient:agency_id`` pairs, e.g. ``agency_admin:dpupr-cianjur``), resolved here
  in the agency tree.

Whom each event tells (the agencies an escalation names, one ``report.escalated``
each; the reporter of a report closed or archived) goes through the outbox with it
(:mod:`shared.usecases.notices`), published right after the commit.

The query returns whole reports with their versions, and each command is decided on
the report as the run holds it (the query's, then what the previous command
committed) and committed only if the report is still that version
(``ReportStore.transition``'s ``known``; on Firestore, an update-time precondition).
So a run reads each due report once, in its page: its reads are the due reports plus
one per empty page (an empty query is billed one read). A report someone changed
since the query (an agency's action, a concurrent run) fails that condition, writes
nothing, and is read fresh and decided again in a transaction: one more read for it,
never a lost update or a tier fired on a stale report.

A report that a concurrent run or action already moved on has nothing due when it is
read fresh: that counts as already done, never as an error, so two runs at once, or a
second run for the same day, change nothing more. A report whose stored
``next_due_on`` no longer holds (the tiers were reconfigured) is stored again with
the date the domain now gives, so the query stops finding it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.domain import escalation
from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import Recipient, Tier
from shared.domain.report import (
    Action,
    Actor,
    Command,
    DeadlinePolicy,
    LifecycleError,
    Report,
    Role,
    with_current_clocks,
)
from shared.ports import EscalatePorts, FixedClock, Snapshot
from shared.reference import Reference
from shared.usecases.act import act
from shared.usecases.notices import national_admin, regional_admin
from shared.usecases.outbox import publish_committed

log = logging.getLogger(__name__)

RUN_TIME = dt.time(7, 0)  # the escalate schedule's time of day (shared/topology.py)
SYSTEM = Actor(Role.SYSTEM, "system:escalate")
# On the timeline, which the reporter reads too: Bahasa Indonesia.
HOLD_SILENCE = "Pelapor tidak menjawab permintaan informasi dalam batas waktu; diarsipkan otomatis."


def run_moment(run_date: dt.date, settings: Settings) -> dt.datetime:
    """The run's logical moment: what its events say, whenever it actually runs."""
    return dt.datetime.combine(run_date, RUN_TIME, tzinfo=ZoneInfo(settings.timezone))


# --- who is told ----------------------------------------------------------------------


def _agency_of(
    recipient: Recipient, report: Report, reference: Reference, ombudsman: str
) -> str | None:
    match recipient:
        case Recipient.HANDLING_AGENCY:
            return report.unit_id or report.agency_id
        case Recipient.AGENCY_ADMIN:
            return report.agency_id
        case Recipient.PARENT_AGENCY:
            if report.agency_id is None or not reference.has_agency(report.agency_id):
                return None
            return reference.agency(report.agency_id).parent
        case Recipient.REGIONAL_ADMIN:
            return regional_admin(report, reference)
        case Recipient.NATIONAL_ADMIN:
            return national_admin(reference)
        case Recipient.OMBUDSMAN:
            return ombudsman if reference.has_agency(ombudsman) else None


def recipients(
    report: Report, tier: Tier, reference: Reference, settings: Settings
) -> tuple[tuple[Recipient, str], ...]:
    """Whom ``tier`` tells about ``report``: each recipient resolved to an agency in the
    agency tree, once per agency (the first recipient naming it), those the tree has
    no agency for (no parent, no local government for the region) left out."""
    found: list[tuple[Recipient, str]] = []
    for recipient in tier.recipients:
        agency_id = _agency_of(recipient, report, reference, settings.ombudsman_agency_id)
        if agency_id is not None and all(agency_id != known for _, known in found):
            found.append((recipient, agency_id))
    return tuple(found)


def notified(told: tuple[tuple[Recipient, str], ...]) -> str:
    """How the ESCALATE event records whom it told (its data holds strings; read back
    by :func:`shared.usecases.notices.parse_notified`)."""
    return ",".join(f"{recipient.value}:{agency_id}" for recipient, agency_id in told)


# --- what is due ----------------------------------------------------------------------


class _NothingDue(Exception):
    """The fresh report has nothing due on the run date (another run, or an action,
    moved it on): already done."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.id)
        self.report = report


def next_command(
    report: Report,
    run_date: dt.date,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
    reference: Reference,
    settings: Settings,
) -> Command | None:
    """The one command due on ``run_date`` for ``report`` now, or None."""
    if escalation.hold_archive_due_on(report, run_date, calendar, policy):
        return Command(Action.ARCHIVE, SYSTEM, reason=HOLD_SILENCE)
    if escalation.auto_close_due_on(report, run_date):
        return Command(Action.AUTO_CLOSE, SYSTEM)
    due = escalation.due_tiers(report, run_date, policy.tiers, calendar)
    if not due:
        return None
    tier = due[0]
    told = recipients(report, tier, reference, settings)
    data: dict[str, str | int] = {
        "tier": tier.id,
        "clock": str(report.clock_id),
        "notified": notified(told),
    }
    return Command(Action.ESCALATE, SYSTEM, data=data)


# --- the run --------------------------------------------------------------------------


@dataclass
class EscalationRun:
    """What one run did."""

    run_date: dt.date
    pages: int = 0
    examined: int = 0  # reports the due-reports query returned
    escalated: Counter[str] = field(default_factory=Counter)  # per tier id
    auto_closed: int = 0
    archived: int = 0
    already_done: int = 0  # nothing due any more when read (another run got there first)
    rescheduled: int = 0  # next_due_on stored again after a reconfiguration
    refused: int = 0  # the lifecycle refused a command: logged, the run goes on
    notifications: int = 0  # notifications committed to the outbox (agencies and reporters)
    published: int = 0  # of those, on the bus now (the rest: the outbox sweeper)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_date": self.run_date.isoformat(),
            "pages": self.pages,
            "examined": self.examined,
            "escalated": dict(sorted(self.escalated.items())),
            "auto_closed": self.auto_closed,
            "archived": self.archived,
            "already_done": self.already_done,
            "rescheduled": self.rescheduled,
            "refused": self.refused,
            "notifications": self.notifications,
            "published": self.published,
        }


def escalate(run_date: dt.date, ports: EscalatePorts) -> EscalationRun:
    """Do everything due on ``run_date``; safe to run again, or twice at once."""
    settings = ports.settings
    run = EscalationRun(run_date)
    after: tuple[str, str] | None = None
    while True:
        page = ports.store.due_reports(run_date, settings.escalation_page_size, after)
        run.pages += 1
        run.examined += len(page.reports)
        for snapshot in page.reports:
            _settle(snapshot, run, ports)
        if page.next_after is None:
            break
        after = page.next_after
    log.info("escalation run done", extra=run.as_json())
    return run


def _settle(snapshot: Snapshot, run: EscalationRun, ports: EscalatePorts) -> None:
    """Apply each command due for one report, each in its own commit, the first decided
    on the query's ``snapshot``, and publish what each commit tells (notify settles
    those outbox entries; until then the sweeper publishes them again)."""
    store, settings, reference = ports.store, ports.settings, ports.reference
    report_id = snapshot.report.id
    calendar, policy = settings.calendar(), settings.deadline_policy()
    run_date = run.run_date
    clock = FixedClock(run_moment(run_date, settings))

    def command_for(report: Report) -> Command:
        command = next_command(report, run_date, calendar, policy, reference, settings)
        if command is None:
            raise _NothingDue(report)
        return command

    applied = 0
    known: Snapshot | None = snapshot
    while True:
        try:
            change = act(
                report_id, command_for, store=store, clock=clock, settings=settings,
                reference=reference, known=known,
            )  # fmt: skip
        except _NothingDue as nothing:
            if applied == 0:
                _nothing_due(nothing.report, run, ports)
            break
        except LifecycleError as refused:
            run.refused += 1
            log.error(
                "escalation run: command refused",
                extra={
                    "report_id": report_id,
                    "run_date": run_date.isoformat(),
                    "why": str(refused),
                },
            )
            break
        applied += 1
        event = change.event
        if event.action is Action.ESCALATE:
            run.escalated[str(event.data["tier"])] += 1
        elif event.action is Action.AUTO_CLOSE:
            run.auto_closed += 1
        elif event.action is Action.ARCHIVE:
            run.archived += 1
        run.notifications += len(change.outbox)
        if publish_committed(ports.publisher, change.outbox):
            run.published += len(change.outbox)
        # The next command (missed days caught up) is decided on the report as this
        # commit left it, again with no read while nobody else changes it.
        if next_command(change.report, run_date, calendar, policy, reference, settings) is None:
            break
        known = change.committed


def _nothing_due(fresh: Report, run: EscalationRun, ports: EscalatePorts) -> None:
    """Already done, unless the stored ``next_due_on`` no longer holds: store it again."""
    if fresh.next_due_on is None or fresh.next_due_on > run.run_date:
        run.already_done += 1
        return
    calendar, policy = ports.settings.calendar(), ports.settings.deadline_policy()
    refreshed = ports.store.refresh(fresh.id, lambda r: with_current_clocks(r, calendar, policy))
    run.rescheduled += 1
    log.warning(
        "next_due_on no longer held; stored again",
        extra={
            "report_id": fresh.id,
            "was": fresh.next_due_on.isoformat(),
            "now": refreshed.next_due_on.isoformat() if refreshed.next_due_on else None,
        },
    )
