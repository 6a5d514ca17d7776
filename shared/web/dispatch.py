"""One dispatch for every HTTP app: match the URL, call the handler, turn what went
wrong into an answer, and add the headers every response carries.

An app is an :class:`App`: its URL map and handlers, the ports its handlers talk
through, its default language and how it answers a 404, 405 or 500 (a page for
citizens, problem+json for an API). A handler takes a :class:`Call` and the URL's
arguments and returns a response, or raises :class:`~shared.web.http.Problem` with
the refusal it wants sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import flask
from flask import Request, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, RequestRedirect

from shared.ports import StoreBusy, StoreUnavailable
from shared.web.http import Problem, json_response, problem
from shared.web.i18n import DEFAULT_LANG, Lang, negotiate, t

P = TypeVar("P")

# Sent on every response. Pages add their own Content-Security-Policy (the hashes of
# the one inline stylesheet and script); nothing else may run.
BASE_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    # The private tracking link carries the reporter token in its query string.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Unless a handler says otherwise: answers hold tokens, private details or a per-visit
# nonce, and errors must not be cached either.
DEFAULT_CACHE_CONTROL = "no-store"


@dataclass
class Call(Generic[P]):
    """One request as a handler sees it: the request, the language of the answer and
    the app's ports, built on first use (a page that needs none creates no client)."""

    request: Request
    lang: Lang
    ports_factory: Callable[[], P]
    _ports: P | None = field(default=None, init=False, repr=False)

    @property
    def ports(self) -> P:
        if self._ports is None:
            self._ports = self.ports_factory()
        return self._ports

    @property
    def path(self) -> str:
        return self.request.path


ErrorAnswer = Callable[[Call[Any], int], Response]


class DocumentIdConverter(BaseConverter):
    """A path segment that can name a Firestore document: anything else is the URL's
    404, never a read Firestore refuses (``.``, ``..``, ``__name__``: a 500 otherwise).
    The ids the stores make are 20 letters and digits; 64 leaves room. No leading
    ``_`` keeps out the reserved ``__...__`` without a lookahead the OpenAPI
    documents' pattern could not carry to every client's regex engine."""

    regex = r"[A-Za-z0-9-][A-Za-z0-9_-]{0,63}"


DOCUMENT_ID = re.compile(DocumentIdConverter.regex)


@dataclass(frozen=True)
class App(Generic[P]):
    """What makes one HTTP app: the rest is the same for all (see :func:`dispatch`)."""

    logger: str
    urls: Map
    handlers: Mapping[str, Callable[..., Response]]
    ports: Callable[[], P]
    # The answer to a 404, 405 or 500 the handlers did not answer themselves.
    answer_error: ErrorAnswer
    default_lang: Lang = DEFAULT_LANG

    def __post_init__(self) -> None:
        endpoints = {rule.endpoint for rule in self.urls.iter_rules()}
        if endpoints != set(self.handlers):
            raise ValueError(f"{self.logger}: URL map and handlers differ")


def answer_unrouted(function: Callable[[Request], object]) -> None:
    """Send the requests functions-framework would answer with its own 404 page (no
    security headers, HTML from an API) to ``function``, the HTTP function itself, so
    the app answers them as any unknown path: its ``/robots.txt`` and ``/favicon.ico``,
    and paths its catch-all rule does not match (a newline in the path).

    Call from the function's ``main.py`` as it is imported: the framework is then
    building the app the handler must be registered on."""
    import functions_framework

    functions_framework.errorhandler(NotFound)(lambda _error: function(flask.request))


def answer_framework_errors() -> None:
    """For the job and push functions, which have no URL map of their own: what
    functions-framework would answer with Flask's HTML page (its ``/robots.txt``, a
    path its rule does not match, a push function's GET, a body that is no event,
    whose page echoes the request's headers, bearer token included) is problem+json
    with the headers every response carries. A crash stays the framework's 500, the
    non-2xx that makes Pub/Sub and Cloud Scheduler retry.

    Call from the function's ``main.py`` as it is imported, as :func:`answer_unrouted`."""
    import functions_framework

    functions_framework.errorhandler(HTTPException)(framework_error_problem)


def framework_error_problem(error: HTTPException) -> Response:
    status = error.code or 500
    kind = re.sub(r"[^a-z]+", "-", error.name.lower()).strip("-")
    response = problem(status, kind, error.name, lang="en")
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods or []))
    for name, value in BASE_HEADERS.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = DEFAULT_CACHE_CONTROL
    return response


def dispatch(app: App[P], request: Request, ports: Callable[[], P] | None = None) -> Response:
    """Answer ``request`` with ``app``; ``ports`` replaces the app's own (tests)."""
    call = Call(request, negotiate(request, app.default_lang), ports or app.ports)
    try:
        endpoint, args = app.urls.bind_to_environ(request.environ).match()
        response = app.handlers[endpoint](call, **args)
    except Problem as refused:
        response = refused.response
    except RequestRedirect as moved:
        # 308 keeps the method and body, unlike werkzeug's default 301.
        response = Response(status=308, headers={"Location": moved.new_url})
    except NotFound:
        response = app.answer_error(call, 404)
    except MethodNotAllowed as refused:
        response = app.answer_error(call, 405)
        response.headers["Allow"] = ", ".join(sorted(refused.valid_methods or []))
    except (StoreBusy, StoreUnavailable) as busy:
        # Nothing was committed; the same request a little later most likely succeeds.
        logging.getLogger(app.logger).warning(
            "store busy" if isinstance(busy, StoreBusy) else "store unavailable",
            extra={"path": request.path, "error": str(busy)},
        )
        response = app.answer_error(call, 503)
        response.headers["Retry-After"] = str(busy.retry_after_s)
    except Exception:
        logging.getLogger(app.logger).exception("unhandled error", extra={"path": request.path})
        response = app.answer_error(call, 500)
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", DEFAULT_CACHE_CONTROL)
    return response


_API_ERRORS: Mapping[int, tuple[str, str]] = {
    404: ("not-found", "resource_not_found"),
    405: ("method-not-allowed", "method_not_allowed"),
    500: ("server-error", "server_error"),
    503: ("busy", "busy"),
}


def problem_answer(call: Call[Any], status: int) -> Response:
    """How every JSON API answers a 404, 405, 500 or 503: problem+json in the call's
    language."""
    kind, title = _API_ERRORS[status]
    instance = call.path if status == 404 else None
    return problem(status, kind, t(title, call.lang), instance=instance, lang=call.lang)


def health(call: Call[Any]) -> Response:
    """For the platform's probes; needs no port."""
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})
