"""Cloud Function ``console``: the staff console, server-rendered pages for agency staff.

Thin on purpose: sign-in, pages and their rules live in ``shared.web.console``;
``http_entry`` sets up logging and ties each request to its trace.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.logging import http_entry
from shared.web.console.app import handle
from shared.web.dispatch import answer_unrouted


@functions_framework.http
@http_entry
def console(request: Request) -> Response:
    return handle(request)


answer_unrouted(console)
