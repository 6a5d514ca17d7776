"""The agency function's app: the API agency staff act on reports through.

``handle(request)`` answers one request. Every route but the document and the health
probe needs ``Authorization: Bearer <API key>``; a missing, unknown or revoked key
answers 401 with ``WWW-Authenticate``. A report the caller may not see answers 404,
exactly like an unknown one. Bodies are validated with pydantic (unknown fields
refused); the lifecycle's refusals map to 409 (illegal transition), 403 (role not
permitted) and 422 (invalid command), and change nothing. An action may carry
``If-Match: "<seq>"`` (the report's ``seq`` as read): when the report changed since,
it answers 412 and changes nothing. The API is for agency staff:
problem titles are in English unless ``?lang=id`` or Accept-Language asks for Bahasa
Indonesia.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from werkzeug.routing import Map, Rule

from shared import wiring
from shared.domain.privacy import view
from shared.domain.report import (
    Action,
    ActionKeyReused,
    IllegalTransition,
    InvalidCommand,
    LifecycleError,
    NotPermitted,
    State,
)
from shared.ports import AgencyPorts, ReportNotFound
from shared.usecases import agency
from shared.usecases.agency import AgencyCommand, Caller, ReportChanged
from shared.usecases.deliveries import failed_deliveries
from shared.usecases.dossier import dossier as build_dossier
from shared.web.api_files import (
    checked_files,
    direct_files,
    read_json_and_files,
    request_upload,
    with_links,
)
from shared.web.dispatch import (
    DOCUMENT_ID,
    App,
    Call,
    DocumentIdConverter,
    dispatch,
    health,
    problem_answer,
)
from shared.web.dossier_page import dossier_page
from shared.web.http import (
    FILE_FIELD,
    MULTIPART_MEDIA_TYPE,
    FieldError,
    Problem,
    check_idempotency_key,
    errors_problem,
    json_response,
    media_type,
    parse_json_body,
    problem,
    validation_problem,
)
from shared.web.i18n import Lang, event_label, t
from shared.web.schemas import UploadIds

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile

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
    """A follow-up (tindak lanjut) or the resolution, shown to the reporter, with any
    files uploaded beforehand (``POST /api/v1/uploads``): a photo of the repaired road."""

    message: Text
    attachments: UploadIds = Field(default_factory=list)

    EXAMPLE: ClassVar[dict[str, str]] = {
        "message": "Tim UPTD Jalan sudah meninjau lokasi; penambalan dijadwalkan Kamis."
    }


class ReasonIn(_Body):
    """Why: Bukan Wewenang, a hold for more information, or an archive."""

    reason: Text
    EXAMPLE: ClassVar[dict[str, str]] = {
        "reason": "Jalan nasional: kewenangan BBPJN, bukan pemerintah kabupaten."
    }


class SupervisoryIn(ReasonIn):
    """Why the complaint needs a supervisory investigation (60 working days)."""

    EXAMPLE: ClassVar[dict[str, str]] = {
        "reason": "Dugaan pungutan liar oleh petugas; perlu pemeriksaan inspektorat."
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
    "mark-supervisory": Operation(Action.MARK_SUPERVISORY, SupervisoryIn, admins_only=True),
}

MAX_BODY_BYTES = 16 * 1024
# The part of a multipart action that holds its JSON (the files are `berkas` parts).
ACTION_PART = "body"
AgencyCall = Call[AgencyPorts]


# --- refusals -------------------------------------------------------------------------


def _caller(call: AgencyCall) -> Caller:
    """The caller the API key names, or :class:`Problem` 401."""
    try:
        return agency.authenticate(call.request.headers.get("Authorization"), call.ports.keys)
    except agency.Unauthenticated:
        lang = call.lang
        raise Problem(
            problem(
                401,
                "unauthorized",
                t("auth_required", lang),
                t("auth_required_detail", lang),
                headers={"WWW-Authenticate": 'Bearer realm="lapor-agency"'},
                lang=lang,
            )
        ) from None


def _invalid_parameter(call: AgencyCall, detail: str) -> Response:
    return problem(
        400, "invalid-parameter", t("invalid_parameter", call.lang), detail, lang=call.lang
    )


def _paging(
    call: AgencyCall, *, by_day: bool = False, by_document: bool = False
) -> tuple[int, tuple[str, str] | None]:
    """The page size and the cursor of a listing, or a Problem (400) saying which is bad.

    A cursor's position is a day (``by_day``) or an aware moment, and with
    ``by_document`` its id names a document: a forged one is refused here, not by
    Firestore or the timestamp conversion (a 500)."""
    lang, args = call.lang, call.request.args
    try:
        limit = int(args.get("limit", "25"))
        if not 1 <= limit <= agency.MAX_LIMIT:
            raise ValueError
    except ValueError:
        detail = t("invalid_limit_detail", lang, max=agency.MAX_LIMIT)
        raise Problem(_invalid_parameter(call, detail)) from None
    if not args.get("cursor"):
        return limit, None
    try:
        after = decode_cursor(args["cursor"])
        _check_position(after[0], by_day=by_day)
        if by_document and not DOCUMENT_ID.fullmatch(after[1]):
            raise ValueError("not a document id")
        return limit, after
    except ValueError:
        refused = problem(400, "invalid-cursor", t("invalid_cursor", lang), lang=lang)
        raise Problem(refused) from None


def _check_position(value: str, *, by_day: bool) -> None:
    """ValueError unless ``value`` is an ISO day (``by_day``) or an aware moment that
    converts to UTC (no overflow at the ends of the calendar)."""
    if by_day:
        dt.date.fromisoformat(value)
        return
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a moment without its offset")
    try:
        moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("a moment outside the calendar") from None


# LifecycleError subclass -> (status, title key); the first that matches wins.
_LIFECYCLE_PROBLEMS: tuple[tuple[type[LifecycleError], int, str], ...] = (
    (ReportChanged, 412, "report_changed"),
    (ActionKeyReused, 422, "idempotency_reused"),
    (IllegalTransition, 409, "illegal_transition"),
    (NotPermitted, 403, "not_permitted"),
    (InvalidCommand, 422, "invalid_command"),
    (LifecycleError, 409, "refused"),
)


def _lifecycle_problem(call: AgencyCall, exc: LifecycleError) -> Response:
    status, title = next((s, k) for kind, s, k in _LIFECYCLE_PROBLEMS if isinstance(exc, kind))
    lang = call.lang
    return problem(status, exc.code, t(title, lang), str(exc), instance=call.path, lang=lang)


_IF_MATCH = re.compile(r'^"(\d{1,9})"$')


def _expected_seq(call: AgencyCall) -> int | None:
    """The report version an action is conditional on: ``If-Match: "<seq>"`` (absent or
    ``*``: any version), or a Problem (400) for anything else."""
    value = (call.request.headers.get("If-Match") or "").strip()
    if value in ("", "*"):
        return None
    found = _IF_MATCH.match(value)
    if found is None:
        raise Problem(_invalid_parameter(call, t("invalid_if_match_detail", call.lang)))
    return int(found.group(1))


# --- cursors --------------------------------------------------------------------------


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


# --- handlers -------------------------------------------------------------------------


def inbox(call: AgencyCall) -> Response:
    caller = _caller(call)
    lang, args = call.lang, call.request.args
    status: State | None = None
    if args.get("status"):
        try:
            status = State(args["status"])
        except ValueError:
            states = ", ".join(s.value for s in State)
            return _invalid_parameter(call, t("invalid_status_detail", lang, states=states))
    queue = args.get("queue", "")
    if queue not in ("", "admin"):
        return _invalid_parameter(call, t("invalid_queue_detail", lang))
    overdue, escalated = (_flag(args, name) for name in ("overdue", "escalated"))
    # The overdue inbox pages by due day, the others by submission moment.
    limit, after = _paging(call, by_day=overdue, by_document=True)
    try:
        shown, next_after = agency.inbox(
            caller,
            call.ports,
            status=status,
            overdue=overdue,
            escalated=escalated,
            admin_queue=queue == "admin",
            limit=limit,
            after=after,
        )
    except LifecycleError as refused:
        return _lifecycle_problem(call, refused)
    return json_response(
        {"items": shown, "next_cursor": encode_cursor(next_after) if next_after else None}
    )


def _flag(args: Mapping[str, str], name: str) -> bool:
    return args.get(name, "").lower() in ("1", "true", "yes")


def _labelled(timeline: list[dict[str, Any]], lang: Lang) -> list[dict[str, Any]]:
    """Each event with its label: a disposition says how it was routed."""
    return [{**event, "label": event_label(event, lang)} for event in timeline]


def detail(call: AgencyCall, report_id: str) -> Response:
    caller = _caller(call)
    ports = call.ports
    try:
        shown = agency.detail(report_id, caller, ports)
    except ReportNotFound:
        return problem_answer(call, 404)
    shown["timeline"] = _labelled(shown["timeline"], call.lang)
    shown["attachments"] = with_links(
        shown["id"], shown["attachments"], lambda: ports.blobs, ports.settings
    )
    # The signed links are the caller's alone, and short-lived.
    return json_response(shown, headers={"Cache-Control": "no-store"})


def upload(call: AgencyCall) -> Response:
    """A signed URL to PUT one file to, for a follow-up or a resolution to name."""
    _caller(call)
    ports = call.ports
    return request_upload(call.request, call.lang, ports.settings, lambda: ports.blobs)


def deliveries(call: AgencyCall) -> Response:
    """Failed notification deliveries (``status=failed``, the one status listed): every
    one for the national admin, an agency admin's own agency's; a page at a time."""
    caller = _caller(call)
    lang, args = call.lang, call.request.args
    if args.get("status") != "failed":
        return _invalid_parameter(call, t("invalid_delivery_status_detail", lang))
    limit, after = _paging(call)
    try:
        shown, next_after = failed_deliveries(caller, call.ports, limit=limit, after=after)
    except LifecycleError as refused:
        return _lifecycle_problem(call, refused)
    return json_response(
        {"items": shown, "next_cursor": encode_cursor(next_after) if next_after else None}
    )


def dossier(call: AgencyCall, report_id: str) -> Response:
    """The Ombudsman dossier: JSON, or HTML for ``?format=html`` or a reader whose
    Accept prefers text/html. National admin only; anyone else gets the 404 of a
    report they may not see."""
    caller = _caller(call)
    wanted = call.request.args.get("format", "")
    if wanted not in ("", "json", "html"):
        return _invalid_parameter(call, t("invalid_format_detail", call.lang))
    if not wanted:
        best = call.request.accept_mimetypes.best_match(["application/json", "text/html"])
        wanted = "html" if best == "text/html" else "json"
    try:
        document = build_dossier(report_id, caller, call.ports)
    except ReportNotFound:
        return problem_answer(call, 404)
    code = document["report"]["tracking_code"]
    disposition = {"Content-Disposition": f'inline; filename="dossier-{code}.{wanted}"'}
    if wanted == "json":
        return json_response(document, headers=disposition)
    # An official document for Ombudsman RI: Bahasa Indonesia unless English is asked for.
    lang: Lang = "en" if call.request.args.get("lang") == "en" else "id"
    return dossier_page(
        document, lang, call.ports.settings.timezone, call.ports.reference, headers=disposition
    )


def _body_and_files(call: AgencyCall, op: Operation) -> tuple[dict[str, Any], tuple[SafeFile, ...]]:
    """The action's fields and the files it brings, or :class:`Problem`. JSON names
    files uploaded beforehand (``attachments``); an action that takes files may come as
    multipart/form-data instead, its JSON in the part ``body`` and the files in
    ``berkas`` parts."""
    lang, request, ports = call.lang, call.request, call.ports
    settings = ports.settings
    if op.body is MessageIn and media_type(request) == MULTIPART_MEDIA_TYPE:
        data, uploads = read_json_and_files(request, lang, settings, part=ACTION_PART)
        if "attachments" in data:  # files come as parts here, not as upload ids too
            unknown = FieldError("attachments", "extra_forbidden", t("err_extra_forbidden", lang))
            raise Problem(errors_problem([unknown], lang, instance=call.path))
        try:
            fields = op.body.model_validate(data).model_dump(exclude={"attachments"})
        except ValidationError as invalid:
            raise Problem(validation_problem(invalid, lang, instance=call.path)) from None
        files = checked_files(uploads, lang, settings, lambda: ports.scanner, field=FILE_FIELD)
        return fields, files
    body = parse_json_body(
        request, op.body, max_bytes=MAX_BODY_BYTES, lang=lang, instance=call.path
    )
    fields = body.model_dump()
    files = direct_files(
        fields.pop("attachments", ()), lang, settings, lambda: ports.blobs, lambda: ports.scanner
    )
    return fields, files


def act(call: AgencyCall, report_id: str, operation: str) -> Response:
    caller = _caller(call)
    op = OPERATIONS[operation]
    fields, files = _body_and_files(call, op)
    expected_seq = _expected_seq(call)
    key = call.request.headers.get("Idempotency-Key")
    check_idempotency_key(key, call.lang)
    ports = call.ports
    command = AgencyCommand(
        action=op.action,
        reason=fields.get("reason"),
        message=fields.get("message"),
        agency_id=fields.get("agency_id"),
        unit_id=fields.get("unit_id"),
    )
    try:
        acted = agency.take_action(
            report_id,
            caller,
            command,
            ports,
            expected_seq=expected_seq,
            files=files,
            idempotency_key=key,
        )
    except ReportNotFound:
        return problem_answer(call, 404)
    except LifecycleError as refused:
        log.info(
            "action refused",
            extra={"report_id": report_id, "action": op.action.value, "code": refused.code},
        )
        return _lifecycle_problem(call, refused)
    shown = agency.summary(acted.report, caller, call.ports)
    seen = view(acted.report, [acted.change.event], caller.audience, None) or {"timeline": []}
    [event] = _labelled(seen["timeline"], call.lang)
    body = {"report": shown, "event": event, "published": acted.published}
    # A retry with the same Idempotency-Key: the first attempt's event, nothing new.
    headers = {"Idempotent-Replayed": "true"} if acted.replayed else None
    return json_response(body, headers=headers)


def openapi_doc(call: AgencyCall) -> Response:
    # Imported here: the document is built from this module's body models.
    from shared.web.agency_openapi import document

    return json_response(document(), headers={"Cache-Control": "public"})


# An operation outside the map is a 404 before the key or the body is looked at.
_OPERATION = "<any({}):operation>".format(", ".join(f'"{name}"' for name in OPERATIONS))

APP = App(
    logger="lapor.agency",
    urls=Map(
        [
            Rule("/api/v1/inbox", methods=["GET"], endpoint="inbox"),
            Rule("/api/v1/reports/<doc_id:report_id>", methods=["GET"], endpoint="detail"),
            Rule("/api/v1/reports/<doc_id:report_id>/dossier", methods=["GET"], endpoint="dossier"),
            Rule("/api/v1/deliveries", methods=["GET"], endpoint="deliveries"),
            Rule("/api/v1/uploads", methods=["POST"], endpoint="upload"),
            Rule(
                f"/api/v1/reports/<doc_id:report_id>/{_OPERATION}", methods=["POST"], endpoint="act"
            ),
            Rule("/openapi.json", methods=["GET"], endpoint="openapi"),
            Rule("/healthz", methods=["GET"], endpoint="health"),
        ],
        strict_slashes=False,
        merge_slashes=False,
        converters={"doc_id": DocumentIdConverter},
    ),
    handlers={
        "inbox": inbox,
        "detail": detail,
        "dossier": dossier,
        "deliveries": deliveries,
        "upload": upload,
        "act": act,
        "openapi": openapi_doc,
        "health": health,
    },
    ports=wiring.agency_ports,
    answer_error=problem_answer,
    default_lang="en",
)


def handle(request: Request, ports: Callable[[], AgencyPorts] | None = None) -> Response:
    """Answer one request; ``ports`` defaults to the instance's cached wiring."""
    return dispatch(APP, request, ports)
