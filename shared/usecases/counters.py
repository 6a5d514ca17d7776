"""The running totals an event moves, committed with the event itself (as a Tally).

Two families, each a collection of counter documents:

- ``routing_stats/{rule id}``: a routing rule's dispositions and Bukan Wewenang answers
  (:func:`shared.domain.routing.rule_tallies`), for its misrouting rate;
- ``figure_counters/{YYYY-MM-DD}_{scope}_{shard}``: the published figures' counters
  (:func:`shared.domain.figures.figure_tallies`), one document per day, scope and shard,
  at most one document per event. The daily report job sums them
  (:mod:`shared.usecases.daily_report`), so no figure needs a read of the reports.

Every transition (:func:`shared.usecases.act.act`) and every submission
(:func:`shared.usecases.submit.submit_report`) takes its tallies from here, so no caller
can forget one.
"""

from __future__ import annotations

from shared.domain.calendar import WorkingCalendar
from shared.domain.figures import figure_tallies
from shared.domain.report import DeadlinePolicy, Report, TimelineEvent
from shared.domain.routing import rule_tallies
from shared.ports import Tally

ROUTING_STATS = "routing_stats"
FIGURE_COUNTERS = "figure_counters"


def event_tallies(
    before: Report | None,
    after: Report,
    event: TimelineEvent,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
    *,
    figure_shards: int,
) -> tuple[Tally, ...]:
    """The tallies ``event`` (taking ``before``, None for a submission, to ``after``) moves."""
    rules = tuple(Tally(ROUTING_STATS, rule, field) for rule, field in rule_tallies(event))
    figures = tuple(
        Tally(FIGURE_COUNTERS, doc_id, field, by)
        for doc_id, field, by in figure_tallies(
            before, after, event, calendar, policy, shards=figure_shards
        )
    )
    return rules + figures
