"""Taking one lifecycle action on a stored report: the one way every actor changes a report."""

from __future__ import annotations

from collections.abc import Callable

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import Command, Report, TimelineEvent
from shared.domain.routing import rule_tallies
from shared.ports import Change, Clock, OutboxMessage, ReportStore, Tally

ROUTING_STATS = "routing_stats"

# Outbox messages a change emits, given the report after it and its event.
Emit = Callable[[Report, TimelineEvent], tuple[OutboxMessage, ...]]


def act(
    report_id: str,
    command: Command | Callable[[Report], Command],
    *,
    store: ReportStore,
    clock: Clock,
    settings: Settings,
    emit: Emit | None = None,
    settle: tuple[str, ...] = (),
    guard: Callable[[Report], None] | None = None,
) -> Change:
    """Apply ``command`` in a transaction; raise (and write nothing) if the lifecycle refuses.

    ``command`` may be a function of the fresh report, for callers whose decision
    depends on it (routing): it then costs no read beyond the transaction's own.
    ``guard`` runs on the fresh report inside the transaction, before the lifecycle:
    it is where callers check what only they know (that an agency owns the report).
    """
    now = clock.now()
    calendar, policy = settings.calendar(), settings.deadline_policy()

    def decide(report: Report) -> Change:
        if guard is not None:
            guard(report)
        decided = command(report) if callable(command) else command
        after, event = lifecycle.apply(report, decided, now, calendar, policy)
        tallies = tuple(Tally(ROUTING_STATS, rule, field) for rule, field in rule_tallies(event))
        return Change(after, event, emit(after, event) if emit else (), settle, tallies)

    return store.transition(report_id, decide)
