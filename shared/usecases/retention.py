"""The daily retention run: a reporter's identity and contact details erased
``identity_retention_days`` after their report ended (docs/personal-data.md,
"Retention and the reporter's rights").

It walks the reports that still hold an identity and ended (closed or archived) before
the cutoff: an indexed query in ``(ended_at, id)`` order, a page at a time, so it reads
in proportion to its work and never every report. Each is erased by one
``ERASE_CONTACT`` command through :func:`act`, one commit each: the identity document
deleted, the report marked (``contact_erased``), a timeline event that names no one
(chained as every event is) and a change-log entry (``identity.erased``).

A run erases at most ``retention_run_limit`` reports; an erased report drops out of
the query, so the next run goes on where this one stopped. The commit is decided on
the report as the query returned it and holds only while it is still that version
(``ReportStore.transition``'s ``known``): a report erased meanwhile (by its reporter,
or a concurrent run) is read fresh, refused, and counted as already done. So a second
run, or two at once, erase nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.domain.report import Action, Actor, Command, LifecycleError, Role
from shared.domain.retention import erase_cutoff
from shared.ports import RetentionPorts, Snapshot
from shared.usecases.act import act

log = logging.getLogger(__name__)

SYSTEM = Actor(Role.SYSTEM, "system:retention")
ERASE = Command(Action.ERASE_CONTACT, SYSTEM)


@dataclass
class RetentionRun:
    """What one run did."""

    cutoff: dt.datetime
    pages: int = 0
    examined: int = 0  # reports the query returned
    erased: int = 0
    already_done: int = 0  # erased meanwhile (by the reporter, or another run)
    more: bool = False  # stopped at the run's limit: the next run takes the rest

    def as_json(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "pages": self.pages,
            "examined": self.examined,
            "erased": self.erased,
            "already_done": self.already_done,
            "more": self.more,
        }


def run_cutoff(run_date: dt.date, settings: Settings) -> dt.datetime:
    """The run's cutoff: the reports that ended before the run day began, less the
    retention period (the same for every run of that day, retried or not)."""
    day_start = dt.datetime.combine(run_date, dt.time(), tzinfo=ZoneInfo(settings.timezone))
    return erase_cutoff(day_start, settings.identity_retention_days)


def erase_expired_identities(run_date: dt.date, ports: RetentionPorts) -> RetentionRun:
    """Erase the identities whose retention period ran out before ``run_date``; safe to
    run again, or twice at once."""
    settings = ports.settings
    run = RetentionRun(run_cutoff(run_date, settings))
    limit = settings.retention_run_limit
    after: tuple[str, str] | None = None
    while run.examined < limit:
        size = min(settings.escalation_page_size, limit - run.examined)
        page = ports.store.identities_ended_before(run.cutoff, size, after)
        run.pages += 1
        run.examined += len(page.reports)
        for snapshot in page.reports:
            _erase(snapshot, run, ports)
        if page.next_after is None:
            break
        after = page.next_after
    else:
        run.more = True
    log.info("retention run done", extra=run.as_json())
    return run


def _erase(snapshot: Snapshot, run: RetentionRun, ports: RetentionPorts) -> None:
    try:
        act(
            snapshot.report.id, ERASE, store=ports.store, clock=ports.clock,
            settings=ports.settings, reference=ports.reference, known=snapshot,
        )  # fmt: skip
    except LifecycleError:
        # Read fresh, it holds no identity any more: someone erased it first.
        run.already_done += 1
        return
    run.erased += 1
