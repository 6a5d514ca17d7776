"""The reporter's JSON API: submit a report, track it, act on it; and the submit
function's OpenAPI document.

Every answer is JSON, every refusal RFC 9457 problem+json in the caller's language,
and every refusal of the input (media type, size, Idempotency-Key, body, rate limit)
happens before any write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.parse import quote

from flask import Request, Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from shared.domain.report import IllegalTransition, LifecycleError, NotPermitted
from shared.domain.tracking import InvalidTrackingCode
from shared.ports import ReportNotFound
from shared.usecases import reporter
from shared.usecases.submit import IdempotencyKeyReused, RateLimited
from shared.web import openapi
from shared.web.catalog import catalog_of
from shared.web.http import (
    Problem,
    json_response,
    parse_json_body,
    problem,
    read_json_object,
    validation_problem,
)
from shared.web.i18n import Lang, action_label, event_label, state_label, t
from shared.web.reporter_calls import (
    IDEMPOTENCY_KEY,
    SubmitCall,
    absolute,
    reporter_act,
    retry_after,
    retry_minutes,
    submit,
    today,
    track,
)
from shared.web.schemas import ReportIn, ReportOut

log = logging.getLogger("lapor.submit")


def _check_idempotency_key(key: str | None, lang: Lang) -> None:
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem(
            problem(
                400,
                "invalid-idempotency-key",
                t("bad_request", lang),
                t("idempotency_invalid", lang),
                lang=lang,
            )
        )


def api_submit(call: SubmitCall) -> Response:
    lang, request, ports = call.lang, call.request, call.ports
    key = request.headers.get("Idempotency-Key")
    report_in = parse_json_body(
        request,
        ReportIn,
        max_bytes=ports.settings.max_body_bytes,
        lang=lang,
        context={"catalog": catalog_of(ports.reference), "today": today(call)},
        # A bad key is refused after the body's 415/413 and before its 400/422.
        before_parse=lambda: _check_idempotency_key(key, lang),
    )
    try:
        result = submit(call, report_in, key, channel="api")
    except RateLimited as limited:
        log.warning("rate limited", extra={"retry_after_s": limited.retry_after_s})
        return problem(
            429,
            "rate-limited",
            t("too_many", lang),
            t("too_many_detail", lang, minutes=retry_minutes(limited)),
            headers=retry_after(limited),
            lang=lang,
        )
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


def api_track(call: SubmitCall, code: str) -> Response:
    lang = call.lang
    try:
        tracked = track(call, code, _bearer(call.request))
    except InvalidTrackingCode:
        return _invalid_code_problem(call)
    if tracked is None:
        return _report_not_found(call)
    report = dict(tracked.report)
    report["audience"] = tracked.audience.value
    report["status_label"] = state_label(report["state"], lang)
    name = catalog_of(call.ports.reference).agency_name
    report["timeline"] = [
        {**event, "action_label": event_label(event, lang, name)} for event in report["timeline"]
    ]
    shown = ReportOut.model_validate(report).model_dump(mode="json", exclude_none=False)
    if tracked.audience.value != "reporter":
        shown.pop("reporter", None)
    headers = {"Content-Language": lang, "Vary": "Authorization, X-Reporter-Token, Accept-Language"}
    headers["Cache-Control"] = "no-store" if tracked.audience.value == "reporter" else "no-cache"
    return json_response(shown, headers=headers)


def api_action(call: SubmitCall, code: str, operation: str) -> Response:
    """A reporter's action through the API; the token as for GET (Bearer or header)."""
    lang, request, path = call.lang, call.request, call.path
    # No body is fine (confirm); the use case validates it once the token is checked.
    data = read_json_object(
        request, max_bytes=call.ports.settings.max_body_bytes, lang=lang, allow_empty=True
    )
    try:
        acted = reporter_act(call, code, _bearer(request), operation, data)
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
    return json_response(out, headers={"Cache-Control": "no-store", "Content-Language": lang})


def openapi_doc(call: SubmitCall) -> Response:
    return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})


# An operation outside the map is a 404 before any body is read.
_OPERATION = "<any({}):operation>".format(", ".join(f'"{name}"' for name in reporter.OPERATIONS))
RULES = [
    Rule("/api/v1/reports", methods=["POST"], endpoint="api_submit"),
    Rule("/api/v1/reports/<code>", methods=["GET"], endpoint="api_track"),
    Rule(f"/api/v1/reports/<code>/{_OPERATION}", methods=["POST"], endpoint="api_action"),
    Rule("/openapi.json", methods=["GET"], endpoint="openapi"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "api_submit": api_submit,
    "api_track": api_track,
    "api_action": api_action,
    "openapi": openapi_doc,
}
