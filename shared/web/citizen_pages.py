"""The citizen pages: the hosted form, the lookup (and "Lost your link?"), the tracking
page and its action forms, and the short private link of an SMS.

Plain HTML that works without JavaScript, Bahasa Indonesia first. Every refusal (an
unreadable, oversized or mistyped form, the honeypot, the rate limit) is a page in
the visitor's language and happens before any write; a success redirects (303), so
refreshing never sends a form twice.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from shared.domain.report import CITIZEN_REPORT_TYPES, LifecycleError
from shared.domain.tracking import InvalidTrackingCode, normalize_tracking_code
from shared.ports import ReportNotFound
from shared.usecases import reporter
from shared.usecases.sms import SHORT_LINK_PREFIX, split_short_link
from shared.usecases.submit import IdempotencyKeyReused, RateLimited
from shared.usecases.track import open_short_link
from shared.web.catalog import catalog_of
from shared.web.http import BodyTooLarge, FieldError, Problem, field_errors, media_type, read_body
from shared.web.i18n import (
    event_label,
    format_date,
    format_datetime,
    notice_label,
    state_label,
    t,
)
from shared.web.pages import message, page_answer, redirect, render, url
from shared.web.reporter_calls import (
    CODE_MAX,
    IDEMPOTENCY_KEY,
    SubmitCall,
    absolute,
    reporter_act,
    resend_link,
    retry_after,
    retry_minutes,
    submit,
    today,
    track,
)
from shared.web.schemas import (
    DESCRIPTION_MAX,
    EARLIEST_INCIDENT,
    EMAIL_MAX,
    NAME_MAX,
    PHONE_MAX,
    TITLE_MAX,
    ReportIn,
    parse_contact,
)

log = logging.getLogger("lapor.submit")

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# Form fields that are not part of the report.
_FORM_CONTROL = frozenset({"nonce", "website"})
_CHECKBOXES = ("anonymous", "confidential")
_REPORTER_PREFIX = "reporter."
MAX_FORM_FIELDS = 40


# --- the form -------------------------------------------------------------------------


def _fid(name: str) -> str:
    return "f-" + name.replace(".", "-")


_FIELD_LABEL_KEYS = {
    "type": "field_type",
    "title": "field_title",
    "description": "field_description",
    "category": "field_category",
    "province_code": "field_province",
    "regency_code": "field_regency",
    "incident_date": "field_incident_date",
    "target_agency_id": "field_target_agency",
    "anonymous": "field_anonymous",
    "confidential": "field_confidential",
    "reporter": "contact",
    "reporter.name": "field_reporter_name",
    "reporter.email": "field_reporter_email",
    "reporter.phone": "field_reporter_phone",
}


def _render_form(
    call: SubmitCall,
    *,
    status: int = 200,
    values: Mapping[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    nonce: str | None = None,
    notice: str | None = None,
) -> Response:
    order = {name: index for index, name in enumerate(_FIELD_LABEL_KEYS)}
    # The summary lists errors in the order the fields appear on the page.
    ordered = sorted(errors or [], key=lambda e: order.get(e.field, len(order)))
    shown = {e.field: e.message for e in ordered}
    linkable = {name: _fid(name) for name in _FIELD_LABEL_KEYS}
    linkable["type"] = _fid(f"type.{CITIZEN_REPORT_TYPES[1].value}")
    linkable["reporter"] = _fid("reporter.name")
    return render(
        call,
        "form.html",
        status=status,
        values=values or {},
        errors=shown,
        linkable=linkable,
        nonce=nonce or secrets.token_urlsafe(24),
        notice=notice,
        catalog=catalog_of(call.ports.reference),
        report_types=[
            kind.value
            for kind in (CITIZEN_REPORT_TYPES[1], CITIZEN_REPORT_TYPES[0], CITIZEN_REPORT_TYPES[2])
        ],
        today=today(call).isoformat(),
        limits={
            "title_max": TITLE_MAX,
            "description_max": DESCRIPTION_MAX,
            "earliest": EARLIEST_INCIDENT.isoformat(),
            "reporter.name": NAME_MAX,
            "reporter.email": EMAIL_MAX,
            "reporter.phone": PHONE_MAX,
        },
        fid=_fid,
        field_label=lambda name: (
            t(_FIELD_LABEL_KEYS[name], call.lang) if name in _FIELD_LABEL_KEYS else name
        ),
    )


def form_to_data(fields: Mapping[str, str]) -> dict[str, Any]:
    """The flat form fields as the nested shape ReportIn validates.

    Checkboxes are present when ticked; unknown fields are passed on so ReportIn
    refuses them like the API does.
    """
    data: dict[str, Any] = {}
    reporter_fields: dict[str, str] = {}
    for name, value in fields.items():
        if name in _FORM_CONTROL or name in _CHECKBOXES:
            continue
        if name.startswith(_REPORTER_PREFIX):
            reporter_fields[name[len(_REPORTER_PREFIX) :]] = value
        else:
            data[name] = value
    for name in _CHECKBOXES:
        data[name] = name in fields and fields[name] not in ("", "0", "false")
    if any(value.strip() for value in reporter_fields.values()) or set(reporter_fields) - {
        "name",
        "email",
        "phone",
    }:
        data["reporter"] = reporter_fields
    return data


def _read_form(call: SubmitCall) -> dict[str, str]:
    """The posted form's fields, or :class:`Problem` with the page: 415 when it is not
    a form, 413 over the size limit, 400 when it cannot be read."""
    lang = call.lang
    if media_type(call.request) != FORM_MEDIA_TYPE:
        raise Problem(
            message(call, 415, t("unsupported_type", lang), t("unsupported_type_detail", lang))
        )
    limit = call.ports.settings.max_body_bytes
    try:
        return _parse_form(read_body(call.request, limit))
    except BodyTooLarge:
        detail = t("too_large_detail", lang, limit=limit // 1024)
        raise Problem(message(call, 413, t("too_large", lang), detail)) from None
    except (UnicodeDecodeError, ValueError):
        raise Problem(message(call, 400, t("bad_request", lang), t("form_problem", lang))) from None


def _parse_form(body: bytes) -> dict[str, str]:
    text = body.decode("utf-8")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(
        text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS
    ):
        fields.setdefault(name, value)  # the first of repeated fields wins
    return fields


def form(call: SubmitCall) -> Response:
    if call.request.method != "POST":
        return _render_form(call)
    lang = call.lang
    fields = _read_form(call)
    if fields.get("website", "").strip():
        log.warning("honeypot filled; submission dropped", extra={"channel": "form"})
        return message(call, 400, t("bad_request", lang), t("spam_detail", lang))
    nonce = fields.get("nonce", "")
    key = nonce if IDEMPOTENCY_KEY.fullmatch(nonce) else None
    values = {k: v for k, v in fields.items() if k not in _FORM_CONTROL}
    try:
        report_in = ReportIn.model_validate(
            form_to_data(fields),
            context={"catalog": catalog_of(call.ports.reference), "today": today(call)},
        )
    except ValidationError as invalid:
        errors = field_errors(invalid, lang)
        log.info("form refused", extra={"fields": [e.field for e in errors]})
        return _render_form(call, status=422, values=values, errors=errors, nonce=key)
    try:
        result = submit(call, report_in, key, channel="form")
    except RateLimited as limited:
        log.warning("rate limited", extra={"retry_after_s": limited.retry_after_s})
        detail = t("too_many_detail", lang, minutes=retry_minutes(limited))
        return message(call, 429, t("too_many", lang), detail, headers=retry_after(limited))
    except IdempotencyKeyReused:
        # Back button, edit, resend with the old nonce: a fresh nonce lets the next
        # press make a new report instead of failing again.
        return _render_form(call, status=422, values=values, notice=t("already_sent", lang))
    code = quote(result.tracking_code)
    target = url(call, f"/lacak/{code}", token=result.reporter_token, new="1")
    # 303 (Post/Redirect/Get): refreshing the confirmation never sends the form again.
    return redirect(target, code=303)


# --- tracking pages -------------------------------------------------------------------


def _render_lookup(
    call: SubmitCall,
    *,
    status: int = 200,
    code: str = "",
    error_message: str | None = None,
    error_detail: str | None = None,
    lost_errors: Mapping[str, str] | None = None,
    lost_values: Mapping[str, str] | None = None,
) -> Response:
    """The lookup page: find a report by its code, and "Lost your link?"."""
    return render(
        call,
        "lookup.html",
        status=status,
        code=code,
        error_message=error_message,
        error_detail=error_detail,
        lost_errors=dict(lost_errors or {}),
        lost_values=dict(lost_values or {}),
    )


def lookup(call: SubmitCall) -> Response:
    text = call.request.args.get("code", "")
    if not text.strip():
        return _render_lookup(call)
    try:
        code = normalize_tracking_code(text[:CODE_MAX])
    except InvalidTrackingCode:
        return _invalid_code_page(call, text)
    return redirect(url(call, f"/lacak/{quote(code)}"), code=303)


def _invalid_code_page(call: SubmitCall, code: str) -> Response:
    return _render_lookup(
        call,
        status=400,
        code=code[:CODE_MAX],
        error_message=t("invalid_code", call.lang),
        error_detail=t("invalid_code_detail", call.lang),
    )


# --- "Lost your link?" and the short private link ----------------------------------


def lost_link(call: SubmitCall) -> Response:
    """The private link sent again (shared.usecases.lost_link). Every answer to a
    readable request is the same page, after the same least time, whether or not the
    code exists and the contact matches; only a malformed form or too many requests
    from the client answer otherwise, and neither depends on any report."""
    lang = call.lang
    if call.request.method != "POST":
        if call.request.args.get("terkirim") == "1":
            return _lost_link_sent(call)
        return _render_lookup(call)
    started = time.monotonic()
    fields = _read_form(call)
    if fields.get("website", "").strip():
        log.warning("honeypot filled; link resend dropped", extra={"channel": "form"})
        return message(call, 400, t("bad_request", lang), t("lost_link_spam_detail", lang))
    # Not "code": the lookup form on the same page has that one.
    values = {
        "code": fields.get("tracking_code", "")[:CODE_MAX],
        "contact": fields.get("contact", "")[:EMAIL_MAX],
    }
    errors: dict[str, str] = {}
    code, contact = "", None
    try:
        code = normalize_tracking_code(values["code"])
    except InvalidTrackingCode:
        errors["code"] = t("err_missing" if not values["code"].strip() else "invalid_code", lang)
    try:
        contact = parse_contact(values["contact"])
    except ValueError:
        errors["contact"] = t(
            "err_missing" if not values["contact"].strip() else "err_invalid_contact", lang
        )
    if errors or contact is None:
        return _render_lookup(call, status=422, lost_errors=errors, lost_values=values)
    try:
        resend_link(call, code, contact)
    except RateLimited as limited:
        log.warning("link resend rate limited", extra={"retry_after_s": limited.retry_after_s})
        detail = t("lost_link_too_many_detail", lang, minutes=retry_minutes(limited))
        return message(
            call, 429, t("lost_link_too_many", lang), detail, headers=retry_after(limited)
        )
    # A match commits and publishes, a mismatch does neither: answer no sooner than
    # the least time either takes, so the timing tells them apart no better than the page.
    time.sleep(max(0.0, started + call.ports.settings.lost_link_min_response_s - time.monotonic()))
    return redirect(url(call, "/lupa-tautan", terkirim="1"), code=303)


def _lost_link_sent(call: SubmitCall) -> Response:
    lang = call.lang
    return message(
        call,
        200,
        t("lost_link_sent", lang),
        t("lost_link_sent_detail", lang),
        back_path="/lacak",
        back_label=t("nav_track", lang),
    )


def short_link(call: SubmitCall, link: str) -> Response:
    """``/l/<code>-<short token>`` (the private link in an SMS) to the tracking page:
    with the reporter token when the short token fits the report, else to the public
    tracking page (or its 404), which tells nothing about the token."""
    parts = split_short_link(link[: CODE_MAX + 20])
    if parts is None:
        return page_answer(call, 404)
    try:
        code = normalize_tracking_code(parts[0])
    except InvalidTrackingCode:
        return page_answer(call, 404)
    ports = call.ports
    token = open_short_link(code, parts[1], store=ports.store, settings=ports.settings)
    path = f"/lacak/{quote(code)}"
    response = redirect(url(call, path, token=token) if token else url(call, path), code=303)
    # The answer holds the reporter token: kept by no cache, sent to no other site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def track_page(call: SubmitCall, code: str) -> Response:
    token = call.request.args.get("token") or None
    done = call.request.args.get("done")
    notice = t("action_done", call.lang) if done in reporter.OPERATIONS else None
    return _render_track(call, code, token, notice=notice)


def _render_track(
    call: SubmitCall,
    code: str,
    token: str | None,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    notice: str | None = None,
    warning: str | None = None,
) -> Response:
    lang = call.lang
    try:
        tracked = track(call, code, token)
    except InvalidTrackingCode:
        return _invalid_code_page(call, code)
    if tracked is None:
        return message(
            call,
            404,
            t("not_found", lang),
            t("not_found_detail", lang),
            back_path="/lacak",
            back_label=t("nav_track", lang),
        )
    report = tracked.report
    private = tracked.audience.value == "reporter"
    known = catalog_of(call.ports.reference)
    private_url = (
        absolute(call, url(call, f"/lacak/{quote(report['tracking_code'])}", token=token or ""))
        if private
        else ""
    )
    actions = reporter.available(report["state"], report["rating"] is not None) if private else []
    return render(
        call,
        "track.html",
        status=status,
        report=report,
        private=private,
        is_new=private and call.request.args.get("new") == "1",
        private_url=private_url,
        token_rejected=tracked.token_rejected,
        token=token or "",
        actions=actions,
        errors=dict(errors or {}),
        values=dict(values or {}),
        notice=notice,
        warning=warning,
        fid=_fid,
        status_label=state_label(report["state"], lang),
        type_label=t(f"type_{report['type']}", lang),
        category_label=known.category_label(report["category"], lang),
        region_label=known.region_label(report["province_code"], report["regency_code"]),
        agency_label=known.agency_names.get(report["agency_id"] or "", report["agency_id"]),
        target_agency_label=known.agency_names.get(
            report.get("target_agency_id") or "", report.get("target_agency_id")
        ),
        fdate=lambda value: format_date(value, lang),
        fdatetime=lambda value: format_datetime(value, lang, call.ports.settings.timezone),
        elabel=lambda event: event_label(event, lang, known.agency_name),
        slabel=lambda state: state_label(state, lang),
        notices=report.get("notices", []),
        nlabel=lambda notice: notice_label(notice, lang),
    )


# Form fields each reporter operation reads (anything else on the form is ignored).
_ACTION_FIELDS: Mapping[str, tuple[str, ...]] = {
    "reply": ("message",),
    "answer": ("message",),
    "confirm": (),
    "reopen": ("reason",),
    "rating": ("rating",),
}


def track_action(call: SubmitCall, code: str, operation: str) -> Response:
    """A reporter's form on the tracking page: no JavaScript, PRG on success."""
    lang = call.lang
    fields = _read_form(call)
    token = fields.get("token") or call.request.args.get("token") or None
    values = {name: fields.get(name, "") for name in _ACTION_FIELDS[operation]}
    data = {name: value for name, value in values.items() if value.strip()}
    try:
        reporter_act(call, code, token, operation, data)
    except InvalidTrackingCode:
        return _render_track(call, code, None)
    except ReportNotFound:
        return _render_track(call, code, None)  # the 404 page
    except reporter.TokenRejected as rejected:
        if rejected.hide:
            return _render_track(call, code, None)
        return message(
            call,
            403,
            t("action_failed", lang),
            t("token_required", lang),
            back_path=f"/lacak/{quote(code[:CODE_MAX])}",
            back_label=t("nav_track", lang),
        )
    except ValidationError as invalid:
        errors = {f"{operation}.{e.field}": e.message for e in field_errors(invalid, lang)}
        prefixed = {f"{operation}.{k}": v for k, v in values.items()}
        return _render_track(call, code, token, status=422, errors=errors, values=prefixed)
    except LifecycleError:
        return _render_track(call, code, token, status=409, warning=t("action_refused", lang))
    target = url(call, f"/lacak/{quote(code[:CODE_MAX])}", token=token or "", done=operation)
    return redirect(target, code=303)


# An operation outside the map is a 404 before any form is read.
_OPERATION = "<any({}):operation>".format(", ".join(f'"{name}"' for name in reporter.OPERATIONS))
RULES = [
    Rule("/", methods=["GET", "POST"], endpoint="form"),
    Rule("/lacak", methods=["GET"], endpoint="lookup"),
    Rule("/lacak/<code>", methods=["GET"], endpoint="track_page"),
    Rule(f"/lacak/<code>/{_OPERATION}", methods=["POST"], endpoint="track_action"),
    Rule("/lupa-tautan", methods=["GET", "POST"], endpoint="lost_link"),
    Rule(SHORT_LINK_PREFIX + "<link>", methods=["GET"], endpoint="short_link"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "form": form,
    "lookup": lookup,
    "track_page": track_page,
    "track_action": track_action,
    "lost_link": lost_link,
    "short_link": short_link,
}
