"""Cloud Function ``submit``: the hosted report form, its JSON API and tracking pages.

Thin on purpose: routing, validation and rendering live in ``shared.web``; this file
only sets up logging once per instance and ties each request to its trace.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.config import settings
from shared.logging import bind_trace, setup_logging, unbind_trace
from shared.web.submit_app import handle

setup_logging()


@functions_framework.http
def submit(request: Request) -> Response:
    trace = request.headers.get("traceparent") or request.headers.get("X-Cloud-Trace-Context")
    token = bind_trace(trace, settings().project)
    try:
        return handle(request)
    finally:
        unbind_trace(token)
