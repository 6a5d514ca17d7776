"""Cloud Function ``submit``: the hosted report form, its JSON API and tracking pages.

Thin on purpose: routing, validation and rendering live in ``shared.web``;
``http_entry`` sets up logging once per instance and ties each request to its trace.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.logging import http_entry
from shared.web.dispatch import answer_unrouted
from shared.web.submit_app import handle


@functions_framework.http
@http_entry
def submit(request: Request) -> Response:
    return handle(request)


answer_unrouted(submit)
