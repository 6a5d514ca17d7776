"""The submit function's app: the citizen pages and the reporter API behind one URL map.

A path under ``/api/`` (the API) or ``/data/`` (the open data) answers its errors as
problem+json; any other path is a page and answers them as a page. Both default to
Bahasa Indonesia.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Request, Response
from werkzeug.routing import Map, Rule

from shared import wiring
from shared.ports import SubmitPorts
from shared.web import citizen_pages, public_pages, reporter_api, unsubscribe_pages
from shared.web.dispatch import App, Call, dispatch, health, problem_answer
from shared.web.pages import page_answer


def _answer_error(call: Call[Any], status: int) -> Response:
    if call.path.startswith(("/api/", "/data/")):
        return problem_answer(call, status)
    return page_answer(call, status)


APP = App(
    logger="lapor.submit",
    urls=Map(
        [
            *citizen_pages.RULES,
            *public_pages.RULES,
            *unsubscribe_pages.RULES,
            *reporter_api.RULES,
            Rule("/healthz", methods=["GET"], endpoint="health"),
        ],
        strict_slashes=False,
        merge_slashes=False,
    ),
    handlers={
        **citizen_pages.HANDLERS,
        **public_pages.HANDLERS,
        **unsubscribe_pages.HANDLERS,
        **reporter_api.HANDLERS,
        "health": health,
    },
    ports=wiring.submit_ports,
    answer_error=_answer_error,
    default_lang="id",
)


def handle(request: Request, ports: Callable[[], SubmitPorts] | None = None) -> Response:
    """Answer one request; ``ports`` defaults to the instance's cached wiring."""
    return dispatch(APP, request, ports)
