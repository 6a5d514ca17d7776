"""Cloud Function ``retention``: the daily erasure of reporters' identities and contact
details whose retention period ran out (HTTP, scheduled).

Cloud Scheduler POSTs here daily at 03:00 Asia/Jakarta (``shared.topology.SCHEDULES``)
with an OIDC token; IAM (roles/run.invoker on this function only) checks it before
this code runs. The run is for the day of the scheduled time, so a retried run has the
same cutoff; ``?date=YYYY-MM-DD`` or a JSON body ``{"date": ...}`` names another day
(locally: ``python -m tools.run_job retention``). Answers the run's counts and the
Firestore operations it cost, as JSON.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared import wiring
from shared.logging import http_entry
from shared.usecases.retention import RetentionRun, erase_expired_identities
from shared.web.dispatch import answer_framework_errors
from shared.web.scheduled import answer_run, run_date


@functions_framework.http
@http_entry
def retention(request: Request) -> Response:
    def run() -> RetentionRun:
        ports = wiring.retention_ports()
        day = run_date(request, ports.clock.now(), ports.settings.timezone)
        return erase_expired_identities(day, ports)

    return answer_run(request, run, counted=lambda: [wiring.report_store().stats])


answer_framework_errors()
