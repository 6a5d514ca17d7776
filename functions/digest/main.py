"""Cloud Function ``digest``: each agency's hourly digest e-mail (HTTP, scheduled).

Cloud Scheduler POSTs here at the top of every hour, Asia/Jakarta
(``shared.topology.SCHEDULES``), with an OIDC token; IAM (roles/run.invoker on this
function only) checks it before this code runs. The run is for the hour of the
scheduled time (``X-CloudScheduler-ScheduleTime``, else now), so a retried run is the
same run and sends no agency a second digest that hour (locally: ``python -m
tools.run_job digest``). Answers the run's counts and the Firestore operations it
cost, as JSON. Everything else lives in ``shared.usecases.digest``.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared import wiring
from shared.logging import http_entry
from shared.usecases.digest import DigestRun, digest_hour, run_digests
from shared.web.dispatch import answer_framework_errors
from shared.web.scheduled import answer_run, scheduled_time


@functions_framework.http
@http_entry
def digest(request: Request) -> Response:
    def run() -> DigestRun:
        ports = wiring.digest_ports()
        moment = scheduled_time(request, ports.clock.now())
        return run_digests(digest_hour(moment, ports.settings.timezone), ports)

    # The delivery log's operations, and the opt-outs' (counted with the reports').
    return answer_run(
        request,
        run,
        counted=lambda: [wiring.notification_store().stats, wiring.report_store().stats],
    )


answer_framework_errors()
