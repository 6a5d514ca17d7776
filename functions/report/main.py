"""Cloud Function ``report``: the day's published figures, stored and pushed (HTTP,
scheduled).

Cloud Scheduler POSTs here daily at 01:00 Asia/Jakarta (``shared.topology.SCHEDULES``)
with an OIDC token; IAM (roles/run.invoker on this function only) checks it before
this code runs, so the public cannot reach it. The run is for the day before the
scheduled time (``X-CloudScheduler-ScheduleTime``, else now) in Asia/Jakarta, so a
retried run is the same run; ``?date=YYYY-MM-DD`` or a JSON body ``{"date": ...}`` names
the day itself (locally: ``python -m tools.run_job report --date 2026-03-02``). Answers
the run's counts and the Firestore operations it cost, as JSON.

Then the day's anchor of the timelines (``shared.usecases.anchor``): the head of every
report whose timeline changed, published beside the figures; its counts under ``anchor``.
"""

from __future__ import annotations

from dataclasses import dataclass

import functions_framework
from flask import Request, Response

from shared import wiring
from shared.logging import http_entry
from shared.usecases.anchor import AnchorResult, anchor_day
from shared.usecases.daily_report import DailyReportResult, run_daily_report
from shared.web.dispatch import answer_framework_errors
from shared.web.scheduled import answer_run, run_date


@dataclass(frozen=True)
class DayRun:
    figures: DailyReportResult
    anchor: AnchorResult

    def as_json(self) -> dict[str, object]:
        return {**self.figures.as_json(), "anchor": self.anchor.as_json()}


@functions_framework.http
@http_entry
def report(request: Request) -> Response:
    def run() -> DayRun:
        ports = wiring.daily_report_ports()
        day = run_date(request, ports.clock.now(), ports.settings.timezone, days_before=1)
        figures = run_daily_report(day, ports)
        return DayRun(figures, anchor_day(day, wiring.anchor_ports()))

    return answer_run(request, run, counted=lambda: [wiring.report_store().stats])


answer_framework_errors()
