"""The console function's app: the staff console's pages behind one URL map.

Each area of the console is one module of this package exporting ``RULES`` (its URL
rules) and ``HANDLERS`` (endpoint -> handler); :data:`AREAS` lists them and the map
merges them, so adding an area is one line here. Pages default to Bahasa Indonesia
(``?lang=en`` or Accept-Language for English); a 404, 405 or 500 is a console page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType

from flask import Request, Response
from werkzeug.routing import Map, Rule

from shared import wiring
from shared.ports import ConsolePorts
from shared.web.console import (
    agency_pages,
    auth_pages,
    casework_pages,
    evidence_pages,
    reference_pages,
    work_pages,
)
from shared.web.console.common import page_error
from shared.web.dispatch import App, DocumentIdConverter, dispatch, health

# The console's areas: each module's RULES and HANDLERS are merged below.
AREAS: tuple[ModuleType, ...] = (
    auth_pages,
    work_pages,
    casework_pages,
    evidence_pages,
    agency_pages,
    reference_pages,
)


def _rules() -> list[Rule]:
    return [
        *(rule for area in AREAS for rule in area.RULES),
        Rule("/healthz", methods=["GET"], endpoint="health"),
    ]


def _handlers() -> Mapping[str, Callable[..., Response]]:
    merged: dict[str, Callable[..., Response]] = {"health": health}
    for area in AREAS:
        taken = merged.keys() & area.HANDLERS.keys()
        if taken:
            raise ValueError(f"console: endpoints named twice: {sorted(taken)}")
        merged.update(area.HANDLERS)
    return merged


APP = App(
    logger="lapor.console",
    # An id a Firestore document cannot have is the URL's 404 before any read.
    urls=Map(
        _rules(),
        strict_slashes=False,
        merge_slashes=False,
        converters={"doc_id": DocumentIdConverter},
    ),
    handlers=_handlers(),
    ports=wiring.console_ports,
    answer_error=page_error,
    default_lang="id",
)


def handle(request: Request, ports: Callable[[], ConsolePorts] | None = None) -> Response:
    """Answer one request; ``ports`` defaults to the instance's cached wiring."""
    return dispatch(APP, request, ports)
