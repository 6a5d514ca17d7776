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
from shared.usecases.digest import digest_hour, run_digests
from shared.web.http import Problem, json_response, problem
from shared.web.scheduled import scheduled_time


@functions_framework.http
@http_entry
def digest(request: Request) -> Response:
    if request.method != "POST":
        return problem(
            405, "method_not_allowed", "Method not allowed", "POST only",
            headers={"Allow": "POST"}, lang="en",
        )  # fmt: skip
    ports = wiring.digest_ports()
    try:
        moment = scheduled_time(request, ports.clock.now())
    except Problem as refused:
        return refused.response
    # The delivery log's operations, and the opt-outs' (counted with the reports').
    counts = (wiring.notification_store().stats, wiring.report_store().stats)
    before = [stats.snapshot() for stats in counts]
    result = run_digests(digest_hour(moment, ports.settings.timezone), ports)
    used = [stats.since(then) for stats, then in zip(counts, before, strict=True)]
    operations = {
        name: sum(getattr(one, name) for one in used) for name in ("reads", "writes", "commits")
    }
    return json_response({**result.as_json(), "operations": operations})
