"""Cloud Function ``sweep``: republish outbox entries the bus never got (HTTP, scheduled).

Cloud Scheduler POSTs here every 5 minutes (``shared.topology.SCHEDULES``). Auth: in
production the function does not allow unauthenticated calls; Cloud Scheduler sends
an OIDC token for its service account, and IAM (roles/run.invoker on this function's
Cloud Run service only) checks it before this code runs. Locally, ``make run`` calls it.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response, jsonify

from shared import wiring
from shared.logging import http_entry
from shared.usecases.sweep import sweep_outbox
from shared.web.dispatch import answer_framework_errors


@functions_framework.http
@http_entry
def sweep(request: Request) -> Response:
    if request.method != "POST":
        response = jsonify({"error": "method not allowed: POST only"})
        response.status_code = 405
        response.headers["Allow"] = "POST"
        return response
    result = sweep_outbox(wiring.sweep_ports())
    return jsonify(result.as_json())


answer_framework_errors()
