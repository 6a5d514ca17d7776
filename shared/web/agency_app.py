"""The agency function's HTTP layer: authentication, routing, bodies, problem+json.

``handle(request)`` answers one request. Every route needs ``Authorization: Bearer
<API key>``; a missing, unknown or revoked key answers 401 with ``WWW-Authenticate``.
A report the caller may not see answers 404, exactly like an unknown one. Bodies are
validated with pydantic (unknown fields refused); the lifecycle's refusals map to
409 (illegal transition), 403 (role not permitted) and 422 (invalid command), and
change nothing. The API is for agency staff: messages are in English unless
``?lang=id`` or Accept-Language asks for Bahasa Indonesia.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar

from flask import Request, Response
from pydantic import BaseModel, ConfigDict, StringConstraints
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from shared.config import Settings, settings
from shared.domain.privacy import view
from shared.domain.report import (
    Action,
    IllegalTransition,
    InvalidCommand,
    LifecycleError,
    NotPermitted,
    State,
)
from shared.ports import Clock, Publisher, ReportNotFound, ReportStore
from shared.reference import Reference
from shared.usecases import agency
from shared.usecases.act import publish_committed
from shared.usecases.agency import AgencyCommand, ApiKeyStore, Caller, InboxStore
from shared.web.http import BASE_HEADERS, Problem, json_response, parse_json_body, problem
from shared.web.i18n import Lang

log = logging.getLogger("lapor.agency")

TEXT_MAX = 5000
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]
AgencyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # The example the OpenAPI document shows; a unit test validates it against the model.
    EXAMPLE: ClassVar[dict[str, str]] = {}


class VerifyIn(_Body):
    """Verify a submitted report and disposition it to an agency."""

    agency_id: AgencyId
    EXAMPLE: ClassVar[dict[str, str]] = {"agency_id": "dpupr-cianjur"}


class ForwardIn(_Body):
    """Pass a dispositioned report to one of the agency's units."""

    unit_id: AgencyId
    EXAMPLE: ClassVar[dict[str, str]] = {"unit_id": "uptd-jalan-cianjur"}


class MessageIn(_Body):
    """A follow-up (tindak lanjut) or the resolution, shown to the reporter."""

    message: Text
    EXAMPLE: ClassVar[dict[str, str]] = {
        "message": "Tim UPTD Jalan sudah meninjau lokasi; penambalan dijadwalkan Kamis."
    }


class ReasonIn(_Body):
    """Why: Bukan Wewenang, a hold for more information, or an archive."""

    reason: Text
    EXAMPLE: ClassVar[dict[str, str]] = {
        "reason": "Jalan nasional: kewenangan BBPJN, bukan pemerintah kabupaten."
    }


@dataclass(frozen=True)
class Operation:
    action: Action
    body: type[_Body]
    admins_only: bool = False


OPERATIONS: Mapping[str, Operation] = {
    "verify": Operation(Action.DISPOSITION, VerifyIn, admins_only=True),
    "forward": Operation(Action.FORWARD, ForwardIn),
    "follow-up": Operation(Action.FOLLOW_UP, MessageIn),
    "not-our-authority": Operation(Action.NOT_OUR_AUTHORITY, ReasonIn),
    "hold": Operation(Action.HOLD, ReasonIn),
    "archive": Operation(Action.ARCHIVE, ReasonIn, admins_only=True),
    "resolve": Operation(Action.RESOLVE, MessageIn),
}

URLS = Map(
    [
        Rule("/api/v1/inbox", methods=["GET"], endpoint="inbox"),
        Rule("/api/v1/reports/<report_id>", methods=["GET"], endpoint="detail"),
        Rule("/api/v1/reports/<report_id>/<operation>", methods=["POST"], endpoint="act"),
        Rule("/openapi.json", methods=["GET"], endpoint="openapi"),
        Rule("/healthz", methods=["GET"], endpoint="health"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
PUBLIC_ENDPOINTS = frozenset({"openapi", "health"})
MAX_BODY_BYTES = 16 * 1024
# The body refusals' titles (by i18n key, see shared.web.http.read_json_object): the
# same in either language, and no details.
_BODY_TITLES: Mapping[str, str] = {
    "unsupported_type": "Send application/json",
    "too_large": "Body too large",
    "malformed_json": "Malformed JSON",
    "json_not_object": "The body must be a JSON object",
    "validation_failed": "Validation failed",
}


# --- dependencies ---------------------------------------------------------------------


@dataclass
class Deps:
    settings: Settings
    reference: Reference
    store: ReportStore
    keys: ApiKeyStore
    inbox: InboxStore
    clock: Clock
    publisher: Publisher | None = None


@cache
def _agency_store() -> Any:
    from shared import wiring
    from shared.adapters.firestore import FirestoreAgencyStore

    # One count of Firestore operations per instance, shared with the report store.
    return FirestoreAgencyStore(wiring.firestore_client(), stats=wiring.report_store().stats)


def default_deps() -> Deps:
    from shared import wiring
    from shared.reference import load_reference

    extra = _agency_store()
    return Deps(
        settings=settings(),
        reference=load_reference(),
        store=wiring.report_store(),
        keys=extra,
        inbox=extra,
        clock=wiring.clock(),
        publisher=wiring.publisher(),
    )


def reset() -> None:
    """Forget the cached agency store (tests call this with ``wiring.reset()``)."""
    _agency_store.cache_clear()


# --- plumbing -------------------------------------------------------------------------


def _negotiate(request: Request) -> Lang:
    wanted = (request.args.get("lang") or "").lower()
    if wanted in ("id", "en"):
        return "id" if wanted == "id" else "en"
    accept = (request.headers.get("Accept-Language") or "").lower()
    return "id" if accept.startswith("id") else "en"


def _unauthorized(lang: Lang) -> Response:
    return problem(
        401,
        "unauthorized",
        "Authentication required",
        "Send a valid API key: Authorization: Bearer lpr_…",
        headers={"WWW-Authenticate": 'Bearer realm="lapor-agency"'},
        lang=lang,
    )


def _body_wording(key: str, lang: Lang, **values: object) -> str | None:
    return _BODY_TITLES.get(key)


def _not_found(path: str, lang: Lang) -> Response:
    return problem(404, "not-found", "Not found", instance=path, lang=lang)


def _invalid_parameter(detail: str, lang: Lang) -> Response:
    return problem(400, "invalid-parameter", "Invalid parameter", detail, lang=lang)


def _lifecycle_problem(exc: LifecycleError, path: str, lang: Lang) -> Response:
    if isinstance(exc, IllegalTransition):
        return problem(409, exc.code, "Illegal transition", str(exc), instance=path, lang=lang)
    if isinstance(exc, NotPermitted):
        return problem(403, exc.code, "Not permitted", str(exc), instance=path, lang=lang)
    if isinstance(exc, InvalidCommand):
        return problem(422, exc.code, "Invalid command", str(exc), instance=path, lang=lang)
    return problem(409, exc.code, "Refused", str(exc), instance=path, lang=lang)


def encode_cursor(after: tuple[str, str]) -> str:
    raw = json.dumps(list(after), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise ValueError("malformed cursor") from exc
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value)
    ):
        raise ValueError("malformed cursor")
    return value[0], value[1]


# --- routing --------------------------------------------------------------------------


def handle(request: Request, deps: Deps | Callable[[], Deps] | None = None) -> Response:
    lang = _negotiate(request)
    path = request.path
    try:
        endpoint, args = URLS.bind_to_environ(request.environ).match()
        if endpoint in PUBLIC_ENDPOINTS:
            response = HANDLERS[endpoint](request, None, None, lang, **args)
        else:
            made = deps() if callable(deps) else (deps or default_deps())
            try:
                caller = agency.authenticate(request.headers.get("Authorization"), made.keys)
            except agency.Unauthenticated:
                response = _unauthorized(lang)
            else:
                response = HANDLERS[endpoint](request, made, caller, lang, **args)
    except Problem as refused:
        response = refused.response
    except RequestRedirect as moved:
        response = Response(status=308, headers={"Location": moved.new_url})
    except NotFound:
        response = _not_found(path, lang)
    except MethodNotAllowed as refused:
        response = problem(405, "method-not-allowed", "Method not allowed", lang=lang)
        response.headers["Allow"] = ", ".join(sorted(refused.valid_methods or []))
    except Exception:
        log.exception("unhandled error", extra={"path": path})
        response = problem(500, "server-error", "Server error", lang=lang)
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def inbox(request: Request, deps: Deps, caller: Caller, lang: Lang) -> Response:
    args = request.args
    status: State | None = None
    if args.get("status"):
        try:
            status = State(args["status"])
        except ValueError:
            return _invalid_parameter(
                f"status must be one of {', '.join(s.value for s in State)}", lang
            )
    try:
        limit = int(args.get("limit", "25"))
        if not 1 <= limit <= agency.MAX_LIMIT:
            raise ValueError
    except ValueError:
        return _invalid_parameter(
            f"limit must be a whole number from 1 to {agency.MAX_LIMIT}", lang
        )
    after = None
    if args.get("cursor"):
        try:
            after = decode_cursor(args["cursor"])
        except ValueError:
            return problem(400, "invalid-cursor", "Invalid cursor", lang=lang)
    queue = args.get("queue", "")
    if queue not in ("", "admin"):
        return _invalid_parameter("queue=admin", lang)
    overdue = args.get("overdue", "").lower() in ("1", "true", "yes")
    try:
        shown, next_after = agency.inbox(
            caller,
            reference=deps.reference,
            store=deps.inbox,
            clock=deps.clock,
            settings=deps.settings,
            status=status,
            overdue=overdue,
            admin_queue=queue == "admin",
            limit=limit,
            after=after,
        )
    except LifecycleError as refused:
        return _lifecycle_problem(refused, request.path, lang)
    return json_response(
        {"items": shown, "next_cursor": encode_cursor(next_after) if next_after else None}
    )


def detail(request: Request, deps: Deps, caller: Caller, lang: Lang, report_id: str) -> Response:
    try:
        shown = agency.detail(report_id[:64], caller, reference=deps.reference, store=deps.store)
    except ReportNotFound:
        return _not_found(request.path, lang)
    return json_response(shown)


def act(
    request: Request, deps: Deps, caller: Caller, lang: Lang, report_id: str, operation: str
) -> Response:
    path = request.path
    op = OPERATIONS.get(operation)
    if op is None:
        return _not_found(path, lang)
    body = parse_json_body(
        request,
        op.body,
        max_bytes=MAX_BODY_BYTES,
        lang=lang,
        wording=_body_wording,
        instance=path,
    )
    fields = body.model_dump()
    command = AgencyCommand(
        action=op.action,
        reason=fields.get("reason"),
        message=fields.get("message"),
        agency_id=fields.get("agency_id"),
        unit_id=fields.get("unit_id"),
    )
    try:
        change = agency.take_action(
            report_id[:64],
            caller,
            command,
            reference=deps.reference,
            store=deps.store,
            clock=deps.clock,
            settings=deps.settings,
        )
    except ReportNotFound:
        return _not_found(path, lang)
    except LifecycleError as refused:
        log.info(
            "action refused",
            extra={"report_id": report_id, "action": op.action.value, "code": refused.code},
        )
        return _lifecycle_problem(refused, path, lang)
    published = publish_committed(deps.publisher, change.outbox)
    log.info(
        "action taken",
        extra={"report_id": report_id, "action": op.action.value, "seq": change.event.seq},
    )
    shown = view(change.report, [change.event], caller.audience, None) or {}
    event = shown.pop("timeline", [{}])[0]
    shown.pop("description", None)
    shown["id"] = change.report.id
    return json_response({"report": shown, "event": event, "published": published})


def openapi_doc(request: Request, deps: None, caller: None, lang: Lang) -> Response:
    from shared.web.agency_openapi import document

    return json_response(document(), headers={"Cache-Control": "public"})


def health(request: Request, deps: None, caller: None, lang: Lang) -> Response:
    return json_response({"status": "ok"})


HANDLERS: Mapping[str, Callable[..., Response]] = {
    "inbox": inbox,
    "detail": detail,
    "act": act,
    "openapi": openapi_doc,
    "health": health,
}
