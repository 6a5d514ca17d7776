"""Cloud Function ``agency``: the authenticated API agency staff act on reports through.

Thin on purpose: authentication, routing and validation live in
``shared.web.agency_app``; ``http_entry`` sets up logging and ties each request to its
trace.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.logging import http_entry
from shared.web.agency_app import handle
from shared.web.dispatch import answer_unrouted


@functions_framework.http
@http_entry
def agency(request: Request) -> Response:
    return handle(request)


answer_unrouted(agency)
