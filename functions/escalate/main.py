"""Cloud Function ``escalate``: the daily run of escalations, automatic closing and
archiving (HTTP, scheduled).

Cloud Scheduler POSTs here daily at 07:00 Asia/Jakarta (``shared.topology.SCHEDULES``)
with an OIDC token; IAM (roles/run.invoker on this function only) checks it before
this code runs, so the public cannot reach it. The run is for the day of the
scheduled time (``X-CloudScheduler-ScheduleTime``), so a retried run is the same run;
``?date=YYYY-MM-DD`` or a JSON body ``{"date": ...}`` names another day (locally:
``python -m tools.run_job escalate --date 2026-03-02``). Answers the run's counts and
the Firestore operations it cost, as JSON.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared import wiring
from shared.logging import http_entry
from shared.usecases.escalate import EscalationRun
from shared.usecases.escalate import escalate as escalate_reports
from shared.web.dispatch import answer_framework_errors
from shared.web.scheduled import answer_run, run_date


@functions_framework.http
@http_entry
def escalate(request: Request) -> Response:
    def run() -> EscalationRun:
        ports = wiring.escalate_ports()
        day = run_date(request, ports.clock.now(), ports.settings.timezone)
        return escalate_reports(day, ports)

    return answer_run(request, run, counted=lambda: [wiring.report_store().stats])


answer_framework_errors()
