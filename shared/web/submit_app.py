"""The submit function's handlers: the hosted form, its JSON API and the tracking pages.

``handle(request)`` routes one Flask request and returns one response. Each handler
decodes and bounds the input, validates it with :mod:`shared.web.schemas`, makes one
call into a use case and renders the answer. Every refusal (bad input, oversized or
mistyped body, honeypot, rate limit) happens before any write.

Logs carry the tracking code and outcome only: never the reporter token, the
reporter's identity, the description or the client address.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from flask import Request, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from shared.config import Settings, settings
from shared.domain.report import (
    CITIZEN_REPORT_TYPES,
    IllegalTransition,
    LifecycleError,
    NotPermitted,
)
from shared.domain.tracking import InvalidTrackingCode, normalize_tracking_code
from shared.ports import Clock, Publisher, ReportNotFound, ReportStore
from shared.usecases import reporter
from shared.usecases.submit import IdempotencyKeyReused, RateLimited, SubmitResult, submit_report
from shared.usecases.track import Tracked, track_report
from shared.web import openapi
from shared.web.catalog import Catalog, catalog
from shared.web.http import (
    BASE_HEADERS,
    URLS,
    BodyTooLarge,
    FieldError,
    Problem,
    client_address,
    field_errors,
    json_response,
    media_type,
    parse_json_body,
    problem,
    read_body,
    read_json_object,
    validation_problem,
)
from shared.web.i18n import (
    Lang,
    action_label,
    format_date,
    format_datetime,
    negotiate,
    state_label,
    t,
)
from shared.web.schemas import (
    DESCRIPTION_MAX,
    EARLIEST_INCIDENT,
    EMAIL_MAX,
    NAME_MAX,
    PHONE_MAX,
    TIMEZONE,
    TITLE_MAX,
    ReportIn,
    ReportOut,
)

log = logging.getLogger("lapor.submit")

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# The hidden nonce and the API's Idempotency-Key: visible ASCII, bounded.
_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")
# Form fields that are not part of the report.
_FORM_CONTROL = frozenset({"nonce", "website"})
_CHECKBOXES = ("anonymous", "confidential")
_REPORTER_PREFIX = "reporter."
MAX_FORM_FIELDS = 40


# --- dependencies ---------------------------------------------------------------------


@dataclass
class Deps:
    """The ports a request may need; built lazily so GET / never creates a client."""

    settings: Settings
    catalog: Catalog
    store_factory: Callable[[], ReportStore]
    publisher_factory: Callable[[], Publisher]
    clock: Clock

    @property
    def store(self) -> ReportStore:
        return self.store_factory()

    @property
    def publisher(self) -> Publisher:
        return self.publisher_factory()


def default_deps() -> Deps:
    from shared import wiring

    return Deps(
        settings=settings(),
        catalog=catalog(),
        store_factory=lambda: wiring.report_store(),
        publisher_factory=lambda: wiring.publisher(),
        clock=wiring.clock(),
    )


# --- templates ------------------------------------------------------------------------


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class Assets:
    env: Environment
    css: str
    script: str
    csp: str


@cache
def assets() -> Assets:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = (TEMPLATES / "style.css").read_text().strip()
    script = (TEMPLATES / "regency.js").read_text().strip()
    # The one inline stylesheet and the one inline script are allowed by hash;
    # nothing else may load or run, and forms may post only back to us.
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {_sha256_source(css)}",
            f"script-src {_sha256_source(script)}",
            "img-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return Assets(env, css, script, csp)


@dataclass
class Ctx:
    request: Request
    lang: Lang
    deps_factory: Callable[[], Deps]
    _deps: Deps | None = field(default=None, init=False)

    @property
    def deps(self) -> Deps:
        if self._deps is None:
            self._deps = self.deps_factory()
        return self._deps

    @property
    def is_api(self) -> bool:
        return self.request.path.startswith("/api/")

    def url(self, path: str, **params: str) -> str:
        query = dict(params)
        if self.lang == "en":
            query["lang"] = "en"
        return path + ("?" + urlencode(query) if query else "")

    def absolute(self, path: str) -> str:
        base = self.deps.settings.public_base_url.rstrip("/") or self.request.host_url.rstrip("/")
        return base + path

    def render(
        self,
        template: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **values: Any,
    ) -> Response:
        built = assets()
        lang = self.lang
        other: Lang = "en" if lang == "id" else "id"
        query = {k: v for k, v in self.request.args.items() if k != "lang"}
        query["lang"] = other
        page = built.env.get_template(template).render(
            lang=lang,
            other_lang=other,
            switch_url=self.request.path + "?" + urlencode(query),
            css=Markup(built.css),
            script=Markup(built.script),
            _=lambda key, **kw: t(key, lang, **kw),
            url=self.url,
            **values,
        )
        response = Response(page, status=status, mimetype="text/html")
        response.headers["Content-Security-Policy"] = built.csp
        response.headers["Content-Language"] = lang
        response.headers["Vary"] = "Accept-Language"
        # Pages hold a per-visit nonce or a reporter's private details: never cache them.
        response.headers["Cache-Control"] = "no-store"
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    def message(
        self,
        status: int,
        heading: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
        back_path: str = "/",
        back_label: str | None = None,
    ) -> Response:
        return self.render(
            "message.html",
            status=status,
            headers=headers,
            heading=heading,
            detail=detail,
            warn=status >= 400,
            back_path=back_path,
            back_label=back_label,
        )


def _redirect(location: str, code: int) -> Response:
    return Response(status=code, headers={"Location": location})


# --- routing --------------------------------------------------------------------------


def handle(request: Request, deps: Deps | Callable[[], Deps] | None = None) -> Response:
    """Route one request; ``deps`` defaults to the instance's cached wiring."""
    if isinstance(deps, Deps):
        fixed = deps
        factory: Callable[[], Deps] = lambda: fixed  # noqa: E731
    else:
        factory = deps or default_deps
    lang = negotiate(request.args.get("lang"), request.headers.get("Accept-Language"))
    ctx = Ctx(request, lang, factory)
    adapter = URLS.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match()
        response = HANDLERS[endpoint](ctx, **args)
    except Problem as refused:
        response = refused.response
    except RequestRedirect as moved:
        response = _redirect(moved.new_url, code=308)
    except NotFound:
        response = _not_found(ctx)
    except MethodNotAllowed as refused:
        allow = ", ".join(sorted(refused.valid_methods or []))
        if ctx.is_api:
            response = problem(405, "method-not-allowed", t("method_not_allowed", lang), lang=lang)
        else:
            response = ctx.message(405, t("method_not_allowed", lang), t("page_not_found", lang))
        response.headers["Allow"] = allow
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        if ctx.is_api:
            response = problem(
                500,
                "server-error",
                t("server_error", lang),
                t("server_error_detail", lang),
                lang=lang,
            )
        else:
            response = ctx.message(500, t("server_error", lang), t("server_error_detail", lang))
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _not_found(ctx: Ctx) -> Response:
    if ctx.is_api:
        return problem(404, "not-found", t("page_not_found", ctx.lang), lang=ctx.lang)
    return ctx.message(404, t("page_not_found", ctx.lang), t("page_not_found", ctx.lang))


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


def _today(deps: Deps) -> dt.date:
    return deps.clock.now().astimezone(TIMEZONE).date()


def _render_form(
    ctx: Ctx,
    *,
    status: int = 200,
    values: Mapping[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    nonce: str | None = None,
    notice: str | None = None,
) -> Response:
    deps = ctx.deps
    order = {name: index for index, name in enumerate(_FIELD_LABEL_KEYS)}
    # The summary lists errors in the order the fields appear on the page.
    ordered = sorted(errors or [], key=lambda e: order.get(e.field, len(order)))
    shown = {e.field: e.message for e in ordered}
    linkable = {name: _fid(name) for name in _FIELD_LABEL_KEYS}
    linkable["type"] = _fid(f"type.{CITIZEN_REPORT_TYPES[1].value}")
    linkable["reporter"] = _fid("reporter.name")
    return ctx.render(
        "form.html",
        status=status,
        values=values or {},
        errors=shown,
        linkable=linkable,
        nonce=nonce or secrets.token_urlsafe(24),
        notice=notice,
        catalog=deps.catalog,
        report_types=[
            kind.value
            for kind in (CITIZEN_REPORT_TYPES[1], CITIZEN_REPORT_TYPES[0], CITIZEN_REPORT_TYPES[2])
        ],
        today=_today(deps).isoformat(),
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
            t(_FIELD_LABEL_KEYS.get(name, "form_problem"), ctx.lang)
            if name in _FIELD_LABEL_KEYS
            else name
        ),
    )


def form_to_data(fields: Mapping[str, str]) -> dict[str, Any]:
    """The flat form fields as the nested shape ReportIn validates.

    Checkboxes are present when ticked; unknown fields are passed on so ReportIn
    refuses them like the API does.
    """
    data: dict[str, Any] = {}
    reporter: dict[str, str] = {}
    for name, value in fields.items():
        if name in _FORM_CONTROL or name in _CHECKBOXES:
            continue
        if name.startswith(_REPORTER_PREFIX):
            reporter[name[len(_REPORTER_PREFIX) :]] = value
        else:
            data[name] = value
    for name in _CHECKBOXES:
        data[name] = name in fields and fields[name] not in ("", "0", "false")
    if any(value.strip() for value in reporter.values()) or set(reporter) - {
        "name",
        "email",
        "phone",
    }:
        data["reporter"] = reporter
    return data


def _read_form(ctx: Ctx) -> dict[str, str]:
    """The posted form's fields, or :class:`Problem` with the page: 415 when it is not
    a form, 413 over the size limit, 400 when it cannot be read."""
    lang = ctx.lang
    if media_type(ctx.request) != FORM_MEDIA_TYPE:
        raise Problem(
            ctx.message(415, t("unsupported_type", lang), t("unsupported_type_detail", lang))
        )
    limit = ctx.deps.settings.max_body_bytes
    try:
        return _parse_form(read_body(ctx.request, limit))
    except BodyTooLarge:
        raise Problem(
            ctx.message(413, t("too_large", lang), t("too_large_detail", lang, limit=limit // 1024))
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise Problem(ctx.message(400, t("bad_request", lang), t("form_problem", lang))) from None


def _parse_form(body: bytes) -> dict[str, str]:
    text = body.decode("utf-8")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(
        text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS
    ):
        fields.setdefault(name, value)  # the first of repeated fields wins
    return fields


def form(ctx: Ctx) -> Response:
    if ctx.request.method != "POST":
        return _render_form(ctx)
    lang, deps = ctx.lang, ctx.deps
    fields = _read_form(ctx)
    if fields.get("website", "").strip():
        log.warning("honeypot filled; submission dropped", extra={"channel": "form"})
        return ctx.message(400, t("bad_request", lang), t("spam_detail", lang))
    nonce = fields.get("nonce", "")
    key = nonce if _KEY.fullmatch(nonce) else None
    values = {k: v for k, v in fields.items() if k not in _FORM_CONTROL}
    try:
        report_in = ReportIn.model_validate(
            form_to_data(fields), context={"catalog": deps.catalog, "today": _today(deps)}
        )
    except ValidationError as invalid:
        errors = field_errors(invalid, lang)
        log.info("form refused", extra={"fields": [e.field for e in errors]})
        return _render_form(ctx, status=422, values=values, errors=errors, nonce=key)
    try:
        result = _submit(ctx, report_in, key, channel="form")
    except RateLimited as limited:
        return _rate_limited_page(ctx, limited)
    except IdempotencyKeyReused:
        # Back button, edit, resend with the old nonce: a fresh nonce lets the next
        # press make a new report instead of failing again.
        return _render_form(ctx, status=422, values=values, notice=t("already_sent", lang))
    target = ctx.url(f"/lacak/{quote(result.tracking_code)}", token=result.reporter_token, new="1")
    # 303 (Post/Redirect/Get): refreshing the confirmation never sends the form again.
    return _redirect(target, code=303)


def _submit(ctx: Ctx, report_in: ReportIn, key: str | None, channel: str) -> SubmitResult:
    deps = ctx.deps
    draft, identity = report_in.to_domain()
    result = submit_report(
        draft,
        identity,
        client_id=client_address(ctx.request, deps.settings.trusted_proxy_hops),
        idempotency_key=key,
        store=deps.store,
        publisher=deps.publisher,
        clock=deps.clock,
        settings=deps.settings,
    )
    log.info(
        "report accepted",
        extra={
            "channel": channel,
            "tracking_code": result.tracking_code,
            "replayed": result.replayed,
            "published": result.published,
        },
    )
    return result


def _retry_after(limited: RateLimited) -> dict[str, str]:
    return {"Retry-After": str(limited.retry_after_s)}


def _rate_limited_page(ctx: Ctx, limited: RateLimited) -> Response:
    log.warning("rate limited", extra={"retry_after_s": limited.retry_after_s})
    minutes = max(1, -(-limited.retry_after_s // 60))
    return ctx.message(
        429,
        t("too_many", ctx.lang),
        t("too_many_detail", ctx.lang, minutes=minutes),
        headers=_retry_after(limited),
    )


# --- tracking pages -------------------------------------------------------------------


def lookup(ctx: Ctx) -> Response:
    text = ctx.request.args.get("code", "")
    if not text.strip():
        return ctx.render("lookup.html", code="", error_message=None, error_detail=None)
    try:
        code = normalize_tracking_code(text[:40])
    except InvalidTrackingCode:
        return _invalid_code_page(ctx, text)
    return _redirect(ctx.url(f"/lacak/{quote(code)}"), code=303)


def _invalid_code_page(ctx: Ctx, code: str) -> Response:
    return ctx.render(
        "lookup.html",
        status=400,
        code=code[:40],
        error_message=t("invalid_code", ctx.lang),
        error_detail=t("invalid_code_detail", ctx.lang),
    )


def _track(ctx: Ctx, code: str, token: str | None) -> Tracked | None:
    deps = ctx.deps
    return track_report(code[:40], token, store=deps.store, settings=deps.settings)


def track_page(ctx: Ctx, code: str) -> Response:
    token = ctx.request.args.get("token") or None
    done = ctx.request.args.get("done")
    notice = t("action_done", ctx.lang) if done in reporter.OPERATIONS else None
    return _render_track(ctx, code, token, notice=notice)


def _render_track(
    ctx: Ctx,
    code: str,
    token: str | None,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    notice: str | None = None,
    warning: str | None = None,
) -> Response:
    lang = ctx.lang
    try:
        tracked = _track(ctx, code, token)
    except InvalidTrackingCode:
        return _invalid_code_page(ctx, code)
    if tracked is None:
        return ctx.message(
            404,
            t("not_found", lang),
            t("not_found_detail", lang),
            back_path="/lacak",
            back_label=t("nav_track", lang),
        )
    report = tracked.report
    private = tracked.audience.value == "reporter"
    known = ctx.deps.catalog
    private_url = (
        ctx.absolute(ctx.url(f"/lacak/{quote(report['tracking_code'])}", token=token or ""))
        if private
        else ""
    )
    actions = reporter.available(report["state"], report["rating"] is not None) if private else []
    return ctx.render(
        "track.html",
        status=status,
        report=report,
        private=private,
        is_new=private and ctx.request.args.get("new") == "1",
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
        fdatetime=lambda value: format_datetime(value, lang, ctx.deps.settings.timezone),
        alabel=lambda action: action_label(action, lang),
        slabel=lambda state: state_label(state, lang),
    )


# Form fields each reporter operation reads (anything else on the form is ignored).
_ACTION_FIELDS: Mapping[str, tuple[str, ...]] = {
    "reply": ("message",),
    "answer": ("message",),
    "confirm": (),
    "reopen": ("reason",),
    "rating": ("rating",),
}


def _reporter_act(ctx: Ctx, code: str, token: str | None, operation: str, data: Any) -> Any:
    deps = ctx.deps
    return reporter.reporter_act(
        code[:40],
        token,
        operation,
        data,
        store=deps.store,
        clock=deps.clock,
        settings=deps.settings,
        publisher=deps.publisher,
    )


def track_action(ctx: Ctx, code: str, operation: str) -> Response:
    """A reporter's form on the tracking page: no JavaScript, PRG on success."""
    lang = ctx.lang
    if operation not in reporter.OPERATIONS:
        return _not_found(ctx)
    fields = _read_form(ctx)
    token = fields.get("token") or ctx.request.args.get("token") or None
    values = {name: fields.get(name, "") for name in _ACTION_FIELDS[operation]}
    data = {name: value for name, value in values.items() if value.strip()}
    try:
        _reporter_act(ctx, code, token, operation, data)
    except InvalidTrackingCode:
        return _render_track(ctx, code, None)
    except ReportNotFound:
        return _render_track(ctx, code, None)  # the 404 page
    except reporter.TokenRejected as rejected:
        if rejected.hide:
            return _render_track(ctx, code, None)
        return ctx.message(
            403,
            t("action_failed", lang),
            t("token_required", lang),
            back_path=f"/lacak/{quote(code[:40])}",
            back_label=t("nav_track", lang),
        )
    except ValidationError as invalid:
        errors = {f"{operation}.{e.field}": e.message for e in field_errors(invalid, lang)}
        prefixed = {f"{operation}.{k}": v for k, v in values.items()}
        return _render_track(ctx, code, token, status=422, errors=errors, values=prefixed)
    except LifecycleError:
        return _render_track(ctx, code, token, status=409, warning=t("action_refused", lang))
    target = ctx.url(f"/lacak/{quote(code[:40])}", token=token or "", done=operation)
    return _redirect(target, code=303)


# --- the JSON API ---------------------------------------------------------------------


def _check_idempotency_key(key: str | None, lang: Lang) -> None:
    if key is not None and not _KEY.fullmatch(key):
        raise Problem(
            problem(
                400,
                "invalid-idempotency-key",
                t("bad_request", lang),
                t("idempotency_invalid", lang),
                lang=lang,
            )
        )


def api_submit(ctx: Ctx) -> Response:
    lang, request, deps = ctx.lang, ctx.request, ctx.deps
    key = request.headers.get("Idempotency-Key")
    report_in = parse_json_body(
        request,
        ReportIn,
        max_bytes=deps.settings.max_body_bytes,
        lang=lang,
        context={"catalog": deps.catalog, "today": _today(deps)},
        # A bad key is refused after the body's 415/413 and before its 400/422.
        before_parse=lambda: _check_idempotency_key(key, lang),
    )
    try:
        result = _submit(ctx, report_in, key, channel="api")
    except RateLimited as limited:
        log.warning("rate limited", extra={"retry_after_s": limited.retry_after_s})
        return problem(
            429,
            "rate-limited",
            t("too_many", lang),
            t("too_many_detail", lang, minutes=max(1, -(-limited.retry_after_s // 60))),
            headers=_retry_after(limited),
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
        "tracking_url": ctx.absolute(f"/lacak/{quote(code)}?token={quote(result.reporter_token)}"),
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


def _invalid_code_problem(ctx: Ctx) -> Response:
    lang = ctx.lang
    return problem(
        400,
        "invalid-tracking-code",
        t("invalid_code", lang),
        t("invalid_code_detail", lang),
        instance=ctx.request.path,
        lang=lang,
    )


def _report_not_found(ctx: Ctx) -> Response:
    """404 for an unknown report, and for one whose existence the caller may not learn."""
    lang = ctx.lang
    return problem(
        404,
        "not-found",
        t("not_found", lang),
        t("not_found_detail", lang),
        instance=ctx.request.path,
        lang=lang,
    )


def api_track(ctx: Ctx, code: str) -> Response:
    lang = ctx.lang
    try:
        tracked = _track(ctx, code, _bearer(ctx.request))
    except InvalidTrackingCode:
        return _invalid_code_problem(ctx)
    if tracked is None:
        return _report_not_found(ctx)
    report = dict(tracked.report)
    report["audience"] = tracked.audience.value
    report["status_label"] = state_label(report["state"], lang)
    report["timeline"] = [
        {**event, "action_label": action_label(event["action"], lang)}
        for event in report["timeline"]
    ]
    shown = ReportOut.model_validate(report).model_dump(mode="json", exclude_none=False)
    if tracked.audience.value != "reporter":
        shown.pop("reporter", None)
    headers = {"Content-Language": lang, "Vary": "Authorization, X-Reporter-Token, Accept-Language"}
    headers["Cache-Control"] = "no-store" if tracked.audience.value == "reporter" else "no-cache"
    return json_response(shown, headers=headers)


def api_action(ctx: Ctx, code: str, operation: str) -> Response:
    """A reporter's action through the API; the token as for GET (Bearer or header)."""
    lang, request, deps = ctx.lang, ctx.request, ctx.deps
    path = request.path
    if operation not in reporter.OPERATIONS:
        return _not_found(ctx)
    # No body is fine (confirm); the use case validates it once the token is checked.
    data = read_json_object(
        request, max_bytes=deps.settings.max_body_bytes, lang=lang, allow_empty=True
    )
    try:
        acted = _reporter_act(ctx, code, _bearer(request), operation, data)
    except InvalidTrackingCode:
        return _invalid_code_problem(ctx)
    except ReportNotFound:
        return _report_not_found(ctx)
    except reporter.TokenRejected as rejected:
        if rejected.hide:
            return _report_not_found(ctx)
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


def openapi_doc(ctx: Ctx) -> Response:
    return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})


def health(ctx: Ctx) -> Response:
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


HANDLERS: Mapping[str, Callable[..., Response]] = {
    "form": form,
    "lookup": lookup,
    "track_page": track_page,
    "track_action": track_action,
    "api_submit": api_submit,
    "api_track": api_track,
    "api_action": api_action,
    "openapi": openapi_doc,
    "health": health,
}
