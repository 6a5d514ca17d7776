"""Cloud Function ``agency``: the authenticated API agency staff act on reports through.

Thin on purpose: authentication, routing and validation live in
``shared.web.agency_app``; this file sets up logging and ties each request to its trace.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.config import settings
from shared.logging import bind_trace, setup_logging, unbind_trace
from shared.web.agency_app import handle

setup_logging()


@functions_framework.http
def agency(request: Request) -> Response:
    trace = request.headers.get("traceparent") or request.headers.get("X-Cloud-Trace-Context")
    token = bind_trace(trace, settings().project)
    try:
        return handle(request)
    finally:
        unbind_trace(token)
