"""The reporter's JSON API: submit a report, track it, act on it; and the submit
function's OpenAPI document.

Every answer is JSON, every refusal RFC 9457 problem+json in the caller's language,
and every refusal of the input (media type, size, Idempotency-Key, body, rate limit)
happens before any write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Request, Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from shared.domain import chain
from shared.domain.report import (
    ATTACHING_ACTIONS,
    IllegalTransition,
    LifecycleError,
    NotPermitted,
)
from shared.domain.tracking import InvalidTrackingCode
from shared.ports import ReportNotFound
from shared.usecases import reporter
from shared.usecases.submit import IdempotencyKeyReused, RateLimited
from shared.usecases.timeline_export import export_timeline
from shared.web import openapi
from shared.web.api_files import (
    checked_files,
    direct_files,
    neither_json_nor_multipart,
    read_json_and_files,
    request_upload,
)
from shared.web.catalog import catalog_of
from shared.web.http import (
    FILE_FIELD,
    JSON_MEDIA_TYPE,
    MULTIPART_MEDIA_TYPE,
    Problem,
    check_idempotency_key,
    json_response,
    media_type,
    parse_json_body,
    problem,
    read_json_object,
    validation_problem,
)
from shared.web.i18n import Lang, action_label, state_label, t
from shared.web.reporter_calls import (
    CODE_MAX,
    SubmitCall,
    absolute,
    claim_upload_slot,
    report_out,
    reporter_act,
    reporter_data,
    retry_after,
    retry_minutes,
    submit,
    today,
    track,
)
from shared.web.schemas import ApiReportIn, AttachmentsIn, ReportIn

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile

log = logging.getLogger("lapor.submit")

# The part of a multipart submission that holds the report's JSON.
REPORT_PART = "report"


def _rate_limited(lang: Lang, limited: RateLimited) -> Response:
    log.warning("rate limited", extra={"retry_after_s": limited.retry_after_s})
    return problem(
        429,
        "rate-limited",
        t("too_many", lang),
        t("too_many_detail", lang, minutes=retry_minutes(limited)),
        headers=retry_after(limited),
        lang=lang,
    )


def _report_and_files(call: SubmitCall, key: str | None) -> tuple[ReportIn, tuple[SafeFile, ...]]:
    """The report and its files, as JSON (files named by upload id) or as multipart
    (the JSON in the part ``report``, the files in ``berkas``), or :class:`Problem`.
    Every refusal comes before anything is stored: 415, 413, 400 (the body, then the
    Idempotency-Key), 422 (the report), 422 (the files)."""
    lang, request, ports = call.lang, call.request, call.ports
    settings = ports.settings
    context = {"catalog": catalog_of(ports.reference), "today": today(call)}
    if media_type(request) == MULTIPART_MEDIA_TYPE:
        data, uploads = read_json_and_files(request, lang, settings, part=REPORT_PART)
        check_idempotency_key(key, lang)
        try:
            report_in = ReportIn.model_validate(data, context=context)
        except ValidationError as invalid:
            raise Problem(validation_problem(invalid, lang)) from None
        files = checked_files(uploads, lang, settings, lambda: ports.scanner, field=FILE_FIELD)
        return report_in, files
    if media_type(request) != JSON_MEDIA_TYPE:
        raise Problem(neither_json_nor_multipart(lang))
    api_in = parse_json_body(
        request,
        ApiReportIn,
        max_bytes=settings.max_body_bytes,
        lang=lang,
        context=context,
        # A bad key is refused after the body's 415/413 and before its 400/422.
        before_parse=lambda: check_idempotency_key(key, lang),
    )
    files = direct_files(
        api_in.attachments, lang, settings, lambda: ports.blobs, lambda: ports.scanner
    )
    return api_in, files


def api_submit(call: SubmitCall) -> Response:
    lang, request = call.lang, call.request
    key = request.headers.get("Idempotency-Key")
    report_in, files = _report_and_files(call, key)
    try:
        result = submit(call, report_in, key, channel="api", files=files)
    except RateLimited as limited:
        return _rate_limited(lang, limited)
    except IdempotencyKeyReused:
        return problem(
            422,
            "idempotency-key-reused",
            t("idempotency_reused", lang),
            t("idempotency_reused_detail", lang),
            lang=lang,
        )
    code = result.tracking_code
    body_out = {
        "tracking_code": code,
        "reporter_token": result.reporter_token,
        "tracking_url": absolute(
            call, f"/lacak/{quote(code)}?token={quote(result.reporter_token)}"
        ),
        "status": "submitted",
        "status_label": state_label("submitted", lang),
    }
    headers = {
        "Location": f"/api/v1/reports/{quote(code)}",
        "Cache-Control": "no-store",
        "Content-Language": lang,
    }
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    # A replay answers 200 with the first answer's body; only a new report is 201.
    return json_response(body_out, status=200 if result.replayed else 201, headers=headers)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-Reporter-Token") or None


def _invalid_code_problem(call: SubmitCall) -> Response:
    lang = call.lang
    return problem(
        400,
        "invalid-tracking-code",
        t("invalid_code", lang),
        t("invalid_code_detail", lang),
        instance=call.path,
        lang=lang,
    )


def _report_not_found(call: SubmitCall) -> Response:
    """404 for an unknown report, and for one whose existence the caller may not learn."""
    lang = call.lang
    return problem(
        404,
        "not-found",
        t("not_found", lang),
        t("not_found_detail", lang),
        instance=call.path,
        lang=lang,
    )


def api_upload(call: SubmitCall) -> Response:
    """A signed URL to PUT one file to, for a report to name; rate-limited per client."""
    lang = call.lang

    def claim() -> None:
        try:
            claim_upload_slot(call)
        except RateLimited as limited:
            raise Problem(_rate_limited(lang, limited)) from None

    ports = call.ports
    return request_upload(
        call.request, lang, ports.settings, lambda: ports.blobs, before_signing=claim
    )


def api_track(call: SubmitCall, code: str) -> Response:
    lang = call.lang
    try:
        tracked = track(call, code, _bearer(call.request))
    except InvalidTrackingCode:
        return _invalid_code_problem(call)
    if tracked is None:
        return _report_not_found(call)
    shown = report_out(call, tracked)
    headers = {"Content-Language": lang, "Vary": "Authorization, X-Reporter-Token, Accept-Language"}
    headers["Cache-Control"] = "no-store" if tracked.audience.value == "reporter" else "no-cache"
    return json_response(shown, headers=headers)


def api_timeline(call: SubmitCall, code: str) -> Response:
    """The timeline as an export anyone can verify (docs/timeline-integrity.md), in its
    canonical form: the reporter's with the token, else the public's; 404 as for GET."""
    ports = call.ports
    token = _bearer(call.request)
    try:
        exported = export_timeline(
            code[:CODE_MAX], token, store=ports.store, settings=ports.settings
        )
    except InvalidTrackingCode:
        return _invalid_code_problem(call)
    if exported is None:
        return _report_not_found(call)
    response = Response(chain.canonical(exported), mimetype="application/json")
    is_reporter = exported["audience"] == "reporter"
    response.headers["Cache-Control"] = "no-store" if is_reporter else "no-cache"
    response.headers["Vary"] = "Authorization, X-Reporter-Token"
    return response


def api_my_data(call: SubmitCall, code: str) -> Response:
    """Everything held about the reporter of this report, for them only (the token as
    for GET): 404 as for GET, 403 for a public report asked without the token."""
    try:
        data = reporter_data(call, code, _bearer(call.request))
    except InvalidTrackingCode:
        return _invalid_code_problem(call)
    except reporter.TokenRejected:
        return problem(
            403,
            "reporter-token-required",
            t("my_data_title", call.lang),
            t("token_required", call.lang),
            instance=call.path,
            headers={"WWW-Authenticate": 'Bearer realm="lapor-reporter"'},
            lang=call.lang,
        )
    if data is None:
        return _report_not_found(call)
    headers = {"Cache-Control": "no-store", "Content-Language": call.lang}
    return json_response(data, headers=headers)


def _action_files(call: SubmitCall, operation: str, data: dict[str, Any]) -> tuple[SafeFile, ...]:
    """The files a reply or an answer names (``attachments``, taken out of ``data``),
    read and made safe, or :class:`Problem` (422). Another operation keeps the field,
    which its body refuses as unknown."""
    if reporter.OPERATIONS[operation].action not in ATTACHING_ACTIONS:
        return ()
    lang, ports = call.lang, call.ports
    try:
        named = AttachmentsIn.model_validate({"attachments": data.pop("attachments", [])})
    except ValidationError as invalid:
        raise Problem(validation_problem(invalid, lang, instance=call.path)) from None
    return direct_files(
        named.attachments, lang, ports.settings, lambda: ports.blobs, lambda: ports.scanner
    )


def api_action(call: SubmitCall, code: str, operation: str) -> Response:
    """A reporter's action through the API; the token as for GET (Bearer or header)."""
    lang, request, path = call.lang, call.request, call.path
    # No body is fine (confirm); the use case validates it once the token is checked.
    data = read_json_object(
        request, max_bytes=call.ports.settings.max_body_bytes, lang=lang, allow_empty=True
    )
    key = request.headers.get("Idempotency-Key")
    check_idempotency_key(key, lang)
    files = _action_files(call, operation, data)
    try:
        acted = reporter_act(
            call, code, _bearer(request), operation, data, files=files, idempotency_key=key
        )
    except InvalidTrackingCode:
        return _invalid_code_problem(call)
    except ReportNotFound:
        return _report_not_found(call)
    except reporter.TokenRejected as rejected:
        if rejected.hide:
            return _report_not_found(call)
        return problem(
            403,
            "reporter-token-required",
            t("action_failed", lang),
            t("token_required", lang),
            instance=path,
            headers={"WWW-Authenticate": 'Bearer realm="lapor-reporter"'},
            lang=lang,
        )
    except ValidationError as invalid:
        return validation_problem(invalid, lang, instance=path)
    except IllegalTransition as refused:
        return problem(
            409, refused.code, t("action_refused", lang), str(refused), instance=path, lang=lang
        )
    except LifecycleError as refused:
        status = 403 if isinstance(refused, NotPermitted) else 422
        return problem(
            status, refused.code, t("action_failed", lang), str(refused), instance=path, lang=lang
        )
    event = acted.change.event
    out = {
        "tracking_code": acted.report.tracking_code,
        "status": acted.report.state.value,
        "status_label": state_label(acted.report.state.value, lang),
        "rating": acted.report.rating,
        "event": {
            "seq": event.seq,
            "action": event.action.value,
            "action_label": action_label(event.action.value, lang),
            "at": event.at.isoformat(),
            "to_state": event.to_state.value,
        },
    }
    headers = {"Cache-Control": "no-store", "Content-Language": lang}
    if acted.replayed:  # the first attempt's event, nothing new
        headers["Idempotent-Replayed"] = "true"
    return json_response(out, headers=headers)


def openapi_doc(call: SubmitCall) -> Response:
    return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})


# An operation outside the map is a 404 before any body is read.
_OPERATION = "<any({}):operation>".format(", ".join(f'"{name}"' for name in reporter.OPERATIONS))
RULES = [
    Rule("/api/v1/reports", methods=["POST"], endpoint="api_submit"),
    Rule("/api/v1/uploads", methods=["POST"], endpoint="api_upload"),
    Rule("/api/v1/reports/<code>", methods=["GET"], endpoint="api_track"),
    Rule("/api/v1/reports/<code>/timeline", methods=["GET"], endpoint="api_timeline"),
    Rule("/api/v1/reports/<code>/my-data", methods=["GET"], endpoint="api_my_data"),
    Rule(f"/api/v1/reports/<code>/{_OPERATION}", methods=["POST"], endpoint="api_action"),
    Rule("/openapi.json", methods=["GET"], endpoint="openapi"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "api_submit": api_submit,
    "api_upload": api_upload,
    "api_track": api_track,
    "api_timeline": api_timeline,
    "api_my_data": api_my_data,
    "api_action": api_action,
    "openapi": openapi_doc,
}
