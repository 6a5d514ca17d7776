"""Escalation: who must be told, and on which day, as a report's clocks run down.

Pure: no I/O, the run date is a parameter and the tiers are data (the guideline's
defaults below, overridden by configuration: shared/config.py and
shared/reference/escalation.toml). The lifecycle keeps on each report what can still
happen to it, and these functions only read it:

- the running clock: ``clock_id`` and ``clock_due``, set only in the states whose clock
  runs (verification in ``submitted``, resolution in ``dispositioned``/``in_progress``),
  started at ``verify_started_at`` or ``dispositioned_at``;
- ``escalations``: the tiers already fired for that clock;
- ``auto_close_due``, set only while ``resolved``; ``on_hold_since``, set only while
  ``on_hold``.

They read the report's fields rather than its state so that the lifecycle
(shared/domain/report.py) can call them inside every transition to keep
``next_due_on`` current: this module needs the lifecycle's types only for type checking.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from shared.domain.calendar import WorkingCalendar

if TYPE_CHECKING:
    from shared.domain.report import DeadlinePolicy, Report


class ClockKind(StrEnum):
    VERIFY = "verify"  # a report waiting in `submitted` to be verified and routed
    RESOLVE = "resolve"  # a disposition waiting to be resolved by its agency


class Anchor(StrEnum):
    DUE = "due"  # the clock's due date
    DOUBLE = "double"  # twice the clock's length from its start


class Recipient(StrEnum):
    """Who a tier tells, symbolically: the escalation run resolves these to agencies."""

    HANDLING_AGENCY = "handling_agency"  # the agency (or unit) holding the report
    AGENCY_ADMIN = "agency_admin"  # the admin of the agency holding it
    PARENT_AGENCY = "parent_agency"  # the next agency up the tree
    REGIONAL_ADMIN = "regional_admin"  # the admin queue of the report's region
    NATIONAL_ADMIN = "national_admin"
    OMBUDSMAN = "ombudsman"  # Ombudsman RI: a referral dossier


_TIER_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class Tier:
    """One escalation step: on which day of which clock, and who is told.

    The day is ``offset_working_days`` working days from the anchor (negative: before
    it), so ``(due, -1)`` is the last working day before the deadline and ``(due, +1)``
    the first working day after it, when the report is overdue.
    """

    id: str  # recorded on the report and its timeline: keep it stable
    clock: ClockKind
    anchor: Anchor
    offset_working_days: int
    recipients: tuple[Recipient, ...]
    overdue: bool = False  # the tier that marks the moment the clock ran out

    def __post_init__(self) -> None:
        if not _TIER_ID.fullmatch(self.id):
            raise ValueError(f"tier id {self.id!r}: lowercase letters, digits and dashes")
        if not self.recipients:
            raise ValueError(f"tier {self.id!r} tells nobody")
        if len(set(self.recipients)) != len(self.recipients):
            raise ValueError(f"tier {self.id!r} names a recipient twice")
        if self.overdue and (self.anchor is not Anchor.DUE or self.offset_working_days < 1):
            # Overdue means past the due date: the first such day is (due, +1).
            raise ValueError(f"tier {self.id!r} is marked overdue but fires by the due date")


# The guideline's example (docs/lifecycle.md, "Escalation"); the bundled
# shared/reference/escalation.toml states the same, and a deployment edits that.
_RESOLVE, _VERIFY, _DUE = ClockKind.RESOLVE, ClockKind.VERIFY, Anchor.DUE
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("reminder", _RESOLVE, _DUE, -1, (Recipient.HANDLING_AGENCY,)),
    Tier(
        "overdue",
        _RESOLVE,
        _DUE,
        1,
        (Recipient.AGENCY_ADMIN, Recipient.PARENT_AGENCY),
        overdue=True,
    ),
    Tier("national", _RESOLVE, _DUE, 5, (Recipient.NATIONAL_ADMIN,)),
    Tier(
        "ombudsman",
        _RESOLVE,
        Anchor.DOUBLE,
        0,
        (Recipient.OMBUDSMAN, Recipient.NATIONAL_ADMIN),
    ),
    Tier("verify-overdue", _VERIFY, _DUE, 1, (Recipient.REGIONAL_ADMIN,), overdue=True),
    Tier("verify-national", _VERIFY, _DUE, 5, (Recipient.NATIONAL_ADMIN,)),
)


def check_tiers(tiers: Iterable[Tier]) -> tuple[Tier, ...]:
    """The tiers as one configuration, or ValueError: ids are unique (a report records
    the ids it has fired) and each clock has at most one overdue tier."""
    checked = tuple(tiers)
    twice = sorted(i for i, n in Counter(t.id for t in checked).items() if n > 1)
    if twice:
        raise ValueError(f"escalation tier ids must be unique: {', '.join(twice)}")
    for kind in ClockKind:
        if sum(1 for t in checked if t.clock is kind and t.overdue) > 1:
            raise ValueError(f"the {kind.value} clock has more than one overdue tier")
    return checked


def clock_id(kind: ClockKind, seq: int) -> str:
    """The id of a clock started by the timeline event ``seq``: its tiers are its own."""
    return f"{kind.value}:{seq}"


@dataclass(frozen=True)
class Clock:
    """The clock that runs for a report now, in local dates."""

    kind: ClockKind
    id: str
    started_on: dt.date
    due_on: dt.date


def running_clock(report: Report, calendar: WorkingCalendar) -> Clock | None:
    """The report's running clock; None on hold, resolved or terminal."""
    if report.clock_due is None or report.clock_id is None:
        return None
    kind = ClockKind(report.clock_id.partition(":")[0])
    started = report.verify_started_at if kind is ClockKind.VERIFY else report.dispositioned_at
    if started is None:
        return None
    return Clock(kind, report.clock_id, calendar.local_date(started), report.clock_due)


def fire_on(tier: Tier, clock: Clock, calendar: WorkingCalendar) -> dt.date:
    """The local date on which ``tier`` fires for ``clock``."""
    anchor = clock.due_on
    if tier.anchor is Anchor.DOUBLE:
        length = calendar.working_days_between(clock.started_on, clock.due_on)
        anchor = calendar.add_working_days(clock.started_on, 2 * length)
    return calendar.shift_working_days(anchor, tier.offset_working_days)


def pending_tiers(
    report: Report, tiers: Sequence[Tier], calendar: WorkingCalendar
) -> tuple[tuple[dt.date, Tier], ...]:
    """The running clock's tiers not fired yet, with their dates: earliest first, then
    in configuration order."""
    clock = running_clock(report, calendar)
    if clock is None:
        return ()
    dated = [
        (fire_on(tier, clock, calendar), position, tier)
        for position, tier in enumerate(tiers)
        if tier.clock is clock.kind and tier.id not in report.escalations
    ]
    dated.sort(key=lambda item: (item[0], item[1]))
    return tuple((day, tier) for day, _, tier in dated)


def due_tiers(
    report: Report, run_date: dt.date, tiers: Sequence[Tier], calendar: WorkingCalendar
) -> tuple[Tier, ...]:
    """The tiers to fire on ``run_date``, in order: every unfired tier of the running
    clock whose day has come, so a run after missed days catches up."""
    return tuple(tier for day, tier in pending_tiers(report, tiers, calendar) if day <= run_date)


def escalations_still_due(
    report: Report, run_date: dt.date, tiers: Sequence[Tier], calendar: WorkingCalendar
) -> tuple[str, ...]:
    """The fired tiers whose day, under the report's (changed) clock, has still come by
    ``run_date``: a longer deadline makes the later ones pending again."""
    clock = running_clock(report, calendar)
    by_id = {tier.id: tier for tier in tiers}
    return tuple(
        fired
        for fired in report.escalations
        if clock is None
        or fired not in by_id  # no longer configured: its day cannot be recomputed
        or fire_on(by_id[fired], clock, calendar) <= run_date
    )


def auto_close_due_on(report: Report, run_date: dt.date) -> bool:
    """Whether a resolved report's reporter stayed silent through ``auto_close_due``."""
    return report.auto_close_due is not None and run_date > report.auto_close_due


def hold_silence_due(
    report: Report, calendar: WorkingCalendar, policy: DeadlinePolicy
) -> dt.date | None:
    """The last day a report on hold waits for its reporter; None when not on hold."""
    if report.on_hold_since is None:
        return None
    held_on = calendar.local_date(report.on_hold_since)
    return calendar.add_working_days(held_on, policy.hold_silence_days)


def hold_archive_due_on(
    report: Report, run_date: dt.date, calendar: WorkingCalendar, policy: DeadlinePolicy
) -> bool:
    """Whether a report on hold has waited past the configured silence."""
    last_day = hold_silence_due(report, calendar, policy)
    return last_day is not None and run_date > last_day


def next_due_on(
    report: Report, calendar: WorkingCalendar, policy: DeadlinePolicy
) -> dt.date | None:
    """The next local date the daily run must look at the report; None: nothing pending.

    The earliest of: the day of the running clock's next unfired tier (which may have
    passed: the next run catches up), the day after ``auto_close_due``, the day after
    the hold silence.
    """
    one_day = dt.timedelta(days=1)
    candidates: list[dt.date] = []
    pending = pending_tiers(report, policy.tiers, calendar)
    if pending:
        candidates.append(pending[0][0])
    if report.auto_close_due is not None:
        candidates.append(report.auto_close_due + one_day)
    last_hold_day = hold_silence_due(report, calendar, policy)
    if last_hold_day is not None:
        candidates.append(last_hold_day + one_day)
    return min(candidates, default=None)
