"""How long a reporter's identity and contact details are kept (UU 27/2022: no longer
than the purpose needs).

They serve to reach the reporter and to show a named reporter to the handling agency:
both end when the report ends (closed or archived, the terminal states). They are kept
``identity_retention_days`` more (a late question, a complaint about the handling),
then erased by the retention job (shared/usecases/retention.py).
"""

from __future__ import annotations

import datetime as dt

from shared.domain.report import TERMINAL_STATES, Report, State


def ended_at(report: Report) -> dt.datetime | None:
    """When the report ended, or None while it runs.

    A closed report keeps ``closed_at`` (a later rating does not move it); nothing
    follows an archive, so an archived report's last change is its archiving (an
    erasure changes it too, but then there is nothing left to erase).
    """
    if report.state not in TERMINAL_STATES:
        return None
    if report.state is State.CLOSED and report.closed_at is not None:
        return report.closed_at
    return report.updated_at


def erase_cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    """Reports that ended before this moment hold their reporter's identity no longer."""
    return now - dt.timedelta(days=retention_days)


def identity_expired(report: Report, now: dt.datetime, retention_days: int) -> bool:
    """Whether the retention period of ``report``'s identity has run out."""
    ended = ended_at(report)
    return (
        report.contact_erased is None
        and ended is not None
        and ended < erase_cutoff(now, retention_days)
    )
