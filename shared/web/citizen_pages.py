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
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from flask import Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from shared.domain.report import CITIZEN_REPORT_TYPES, LifecycleError
from shared.domain.tracking import InvalidTrackingCode, normalize_tracking_code
from shared.ports import ReportNotFound
from shared.usecases import evidence, reporter
from shared.usecases.sms import SHORT_LINK_PREFIX, split_short_link
from shared.usecases.submit import IdempotencyKeyReused, RateLimited
from shared.usecases.track import open_short_link, tracked_file
from shared.web.catalog import Catalog, catalog_of
from shared.web.http import (
    FILE_FIELD,
    IDEMPOTENCY_KEY,
    MULTIPART_MEDIA_TYPE,
    BodyTooLarge,
    FieldError,
    Problem,
    field_errors,
    json_response,
    media_type,
    read_body,
    read_multipart,
)
from shared.web.i18n import (
    Lang,
    event_label,
    format_date,
    format_datetime,
    format_number,
    notice_label,
    state_label,
    t,
)
from shared.web.pages import message, page_answer, redirect, render, url
from shared.web.reporter_calls import (
    CODE_MAX,
    SubmitCall,
    absolute,
    reporter_act,
    reporter_data,
    resend_link,
    retry_after,
    retry_minutes,
    submit,
    today,
    track,
)
from shared.web.schemas import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    EARLIEST_INCIDENT,
    EMAIL_MAX,
    NAME_MAX,
    PHONE_MAX,
    TITLE_MAX,
    ReportIn,
    parse_contact,
)

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile
    from shared.usecases.attachments import Upload

log = logging.getLogger("lapor.submit")

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# The no-JavaScript button that shows the chosen regency's districts and villages: the
# form comes back filled in, and nothing is sent.
REFRESH_PLACES = "perbarui_wilayah"
# Form fields that are not part of the report.
_FORM_CONTROL = frozenset({"nonce", "website", REFRESH_PLACES})
_CHECKBOXES = ("anonymous", "confidential", "show_attachments")
_REPORTER_PREFIX = "reporter."
MAX_FORM_FIELDS = 40
# Files beyond the count limit that the multipart reader still takes, so that one file
# too many is refused by the limit's own message (naming it) rather than as unreadable.
_EXTRA_FILES = 5
# The reporter's operations that may bring files (the domain's ATTACHING_ACTIONS).
FILE_OPERATIONS = frozenset({"reply", "answer"})


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
    "district_code": "field_district",
    "village_code": "field_village",
    "address": "field_address",
    "latitude": "field_latitude",
    "longitude": "field_longitude",
    "incident_date": "field_incident_date",
    "target_agency_id": "field_target_agency",
    FILE_FIELD: "files_error",
    "show_attachments": "field_show_attachments",
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
    file_errors: list[str] | None = None,
    files_again: bool = False,
    nonce: str | None = None,
    notice: str | None = None,
) -> Response:
    """The form; ``file_errors``: why each file was refused (all of them), and
    ``files_again``: the request carried files, which a page shown again cannot keep."""
    values = values or {}
    order = {name: index for index, name in enumerate(_FIELD_LABEL_KEYS)}
    # The summary lists errors in the order the fields appear on the page, every
    # refused file on its own line.
    listed = [(e.field, e.message) for e in errors or []]
    listed += [(FILE_FIELD, message) for message in file_errors or []]
    summary = sorted(listed, key=lambda pair: order.get(pair[0], len(order)))
    shown = {name: message for name, message in reversed(summary)}
    linkable = {name: _fid(name) for name in _FIELD_LABEL_KEYS}
    linkable["type"] = _fid(f"type.{CITIZEN_REPORT_TYPES[1].value}")
    linkable["reporter"] = _fid("reporter.name")
    known = catalog_of(call.ports.reference)
    # Without JavaScript the choices follow the regency (and district) the form was
    # last sent with: the places button, or a page shown again with its errors.
    places = known.place_options(str(values.get("regency_code") or ""))
    settings = call.ports.settings
    return render(
        call,
        "form.html",
        status=status,
        # The form may ask the browser for the device's location (see BASE_HEADERS).
        headers={"Permissions-Policy": "camera=(), microphone=(), geolocation=(self)"},
        values=values,
        errors=shown,
        summary=summary,
        file_errors=list(file_errors or []),
        files_again=files_again,
        linkable=linkable,
        nonce=nonce or secrets.token_urlsafe(24),
        notice=notice,
        catalog=known,
        district_options=places["districts"],
        village_options=places["villages"].get(str(values.get("district_code") or ""), []),
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
            "address_max": ADDRESS_MAX,
            "files_count": settings.attachment_max_count,
            "file_size": size_text(settings.attachment_max_file_bytes, call.lang),
            "total_size": size_text(settings.attachment_max_total_bytes, call.lang),
        },
        fid=_fid,
        field_label=lambda name: (
            t(_FIELD_LABEL_KEYS[name], call.lang) if name in _FIELD_LABEL_KEYS else name
        ),
    )


def size_text(size: int, lang: Lang) -> str:
    """A size as people read it on a phone: "8 MB", "1,5 MB", "312 KB" (MiB/KiB)."""
    mib = size / (1024 * 1024)
    if mib >= 1:
        return f"{format_number(mib, lang, 0 if mib == int(mib) else 1)} MB"
    return f"{max(1, round(size / 1024))} KB"


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


def _read_submission(call: SubmitCall) -> tuple[dict[str, str], list[Upload]]:
    """The posted form's fields and files (multipart, the form's own encoding; an
    urlencoded form has no files), or :class:`Problem` with the page: 413 over the size
    limit, naming it, 400 when it cannot be read, 415 when it is not a form."""
    if media_type(call.request) != MULTIPART_MEDIA_TYPE:
        return _read_form(call), []
    lang = call.lang
    settings = call.ports.settings
    # The files' total limit, and the urlencoded form's own limit for the text fields.
    limit = settings.attachment_max_total_bytes + settings.max_body_bytes
    try:
        return read_multipart(
            call.request,
            max_bytes=limit,
            max_files=settings.attachment_max_count + _EXTRA_FILES,
            max_fields=MAX_FORM_FIELDS,
        )
    except BodyTooLarge:
        detail = t(
            "files_too_large_detail",
            lang,
            limit=size_text(limit, lang),
            count=settings.attachment_max_count,
            file_limit=size_text(settings.attachment_max_file_bytes, lang),
            total_limit=size_text(settings.attachment_max_total_bytes, lang),
        )
        raise Problem(message(call, 413, t("files_too_large", lang), detail)) from None
    except (UnicodeDecodeError, ValueError):
        raise Problem(message(call, 400, t("bad_request", lang), t("form_problem", lang))) from None


def _checked_files(
    call: SubmitCall, uploads: list[Upload]
) -> tuple[tuple[SafeFile, ...], list[str]]:
    """The uploads made safe, or every refusal's message in the page's language."""
    if not uploads:
        return (), []
    ports = call.ports
    try:
        return evidence.safe_files(uploads, ports.settings, ports.scanner), []
    except evidence.FilesRefused as refused:
        return (), refused.messages(call.lang)


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
    fields, uploads = _read_submission(call)
    if fields.get("website", "").strip():
        log.warning("honeypot filled; submission dropped", extra={"channel": "form"})
        return message(call, 400, t("bad_request", lang), t("spam_detail", lang))
    nonce = fields.get("nonce", "")
    key = nonce if IDEMPOTENCY_KEY.fullmatch(nonce) else None
    values = {k: v for k, v in fields.items() if k not in _FORM_CONTROL}
    if REFRESH_PLACES in fields:
        return _render_form(
            call,
            values=values,
            nonce=key,
            notice=t("places_refreshed", lang),
            files_again=bool(uploads),
        )
    errors: list[FieldError] = []
    report_in: ReportIn | None = None
    try:
        report_in = ReportIn.model_validate(
            form_to_data(fields),
            context={"catalog": catalog_of(call.ports.reference), "today": today(call)},
        )
    except ValidationError as invalid:
        errors = field_errors(invalid, lang)
    # The files are checked even when a field is wrong: every error shows at once.
    files, file_errors = _checked_files(call, uploads)
    if report_in is None or file_errors:
        log.info(
            "form refused",
            extra={"fields": [e.field for e in errors], "files_refused": len(file_errors)},
        )
        return _render_form(
            call,
            status=422,
            values=values,
            errors=errors,
            file_errors=file_errors,
            files_again=bool(uploads),
            nonce=key,
        )
    try:
        result = submit(call, report_in, key, channel="form", files=files)
    except RateLimited as limited:
        log.warning("rate limited", extra={"retry_after_s": limited.retry_after_s})
        detail = t("too_many_detail", lang, minutes=retry_minutes(limited))
        return message(call, 429, t("too_many", lang), detail, headers=retry_after(limited))
    except IdempotencyKeyReused:
        # Back button, edit, resend with the old nonce: a fresh nonce lets the next
        # press make a new report instead of failing again.
        return _render_form(
            call,
            status=422,
            values=values,
            notice=t("already_sent", lang),
            files_again=bool(uploads),
        )
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
    if done == "erase-contact":
        notice = t("contact_erased_done", call.lang)
    return _render_track(call, code, token, notice=notice)


def _render_track(
    call: SubmitCall,
    code: str,
    token: str | None,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    file_errors: list[str] | None = None,
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
    code = quote(report["tracking_code"])
    settings = call.ports.settings
    file_groups = _file_groups(
        report["attachments"],
        lambda file_id, small: url(
            call,
            f"/lacak/{code}/berkas/{file_id}",
            **_file_query(token if private else None, small),
        ),
        settings.attachment_thumbnail_px,
        lang,
    )
    return render(
        call,
        "track.html",
        status=status,
        report=report,
        private=private,
        nonce=secrets.token_urlsafe(18),  # each action form's Idempotency-Key
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
        place_label=_place_label(
            known,
            report["place"],
            known.region_label(report["province_code"], report["regency_code"]),
        ),
        point=_point(report["place"]),
        file_groups=file_groups,
        files_by_seq=_files_by_seq(report["attachments"]),
        file_operations=FILE_OPERATIONS,
        file_errors=list(file_errors or []),
        files_hint=t(
            "field_files_hint",
            lang,
            count=settings.attachment_max_count,
            file_limit=size_text(settings.attachment_max_file_bytes, lang),
            total_limit=size_text(settings.attachment_max_total_bytes, lang),
        ),
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


def _place_label(known: Catalog, place: Mapping[str, Any], region_label: str) -> str:
    """Village, district, then the regency and province: "Sukamanah, Cugenang,
    Kabupaten Cianjur, Jawa Barat"."""
    codes = (place.get("village_code"), place.get("district_code"))
    return ", ".join([*(known.place_label(code) for code in codes if code), region_label])


# The map a point opens in: closer for the exact point than for the public's rounded one.
_MAP_ZOOM = {"exact": 17, "rounded": 15}


def _point(place: Mapping[str, Any]) -> dict[str, Any] | None:
    latitude, longitude = place.get("latitude"), place.get("longitude")
    if latitude is None or longitude is None:
        return None
    zoom = _MAP_ZOOM.get(place.get("precision", "rounded"), 15)
    return {
        "text": f"{latitude}, {longitude}",
        "rounded": place.get("precision") != "exact",
        "map_url": (
            f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
            f"#map={zoom}/{latitude}/{longitude}"
        ),
    }


def _file_query(token: str | None, small: bool) -> dict[str, str]:
    query = {"token": token} if token else {}
    if small:
        query["ukuran"] = "kecil"
    return query


def _file_groups(
    attachments: list[Mapping[str, Any]],
    link: Callable[[str, bool], str],
    thumbnail_px: int,
    lang: Lang,
) -> list[dict[str, Any]]:
    """The files as the tracking page lists them: the reporter's, then the agency's,
    each numbered among its own photos or documents."""
    groups = []
    for added_by, heading in (("reporter", "files_from_reporter"), ("agency", "files_from_agency")):
        files = []
        photos = documents = 0
        for attachment in attachments:
            if attachment["added_by"] != added_by:
                continue
            is_image = attachment["media_type"].startswith("image/")
            width, height = attachment["width"], attachment["height"]
            size = size_text(attachment["size"], lang)
            shown: dict[str, Any] = {
                "id": attachment["id"],
                "href": link(attachment["id"], False),
                "thumb_href": "",
            }
            if is_image:
                photos += 1
                scale = min(1.0, thumbnail_px / max(width, height, 1))
                shown.update(
                    alt=t(f"photo_alt_{added_by}", lang, n=photos),
                    thumb_href=link(attachment["id"], True) if attachment["has_thumbnail"] else "",
                    thumb_width=max(1, round(width * scale)),
                    thumb_height=max(1, round(height * scale)),
                    link_text=t(
                        "photo_open", lang, n=photos, width=width, height=height, size=size
                    ),
                )
            else:
                documents += 1
                shown["link_text"] = t(
                    "document_open", lang, n=documents, pages=attachment["pages"], size=size
                )
            files.append(shown)
        if files:
            groups.append({"heading": t(heading, lang), "files": files})
    return groups


def _files_by_seq(attachments: list[Mapping[str, Any]]) -> dict[int, list[str]]:
    """The files each timeline event added, by the event's number."""
    by_seq: dict[int, list[str]] = {}
    for attachment in attachments:
        by_seq.setdefault(attachment["added_seq"], []).append(attachment["id"])
    return by_seq


def tracked_file_link(call: SubmitCall, code: str, file_id: str) -> Response:
    """``/lacak/<code>/berkas/<file_id>``: a short-lived signed link to one file, for
    whoever the tracking page shows it to (``?token=`` for the reporter; ``?ukuran=kecil``
    for an image's thumbnail). Everything else, a malformed id included, is the same
    404 as a missing file."""
    if not evidence.ATTACHMENT_ID.fullmatch(file_id):
        return _no_file(call, code)
    ports = call.ports
    signed = tracked_file(
        code[:CODE_MAX],
        call.request.args.get("token") or None,
        file_id,
        thumbnail=call.request.args.get("ukuran") == "kecil",
        store=ports.store,
        blobs=ports.blobs,
        settings=ports.settings,
    )
    if signed is None:
        return _no_file(call, code)
    response = redirect(signed.url, code=302)
    # The signed URL lets anyone holding it read the file until it expires.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _no_file(call: SubmitCall, code: str) -> Response:
    """The one answer for every file link that leads nowhere: it names no file, and
    leads back (and to the other language) to the report's tracking page."""
    lang = call.lang
    tracking = f"/lacak/{quote(code[:CODE_MAX])}"
    return message(
        call,
        404,
        t("page_not_found", lang),
        t("page_not_found", lang),
        back_path=tracking,
        back_label=t("nav_track", lang),
        switch_path=tracking,
    )


# Form fields each reporter operation reads (anything else on the form is ignored).
_ACTION_FIELDS: Mapping[str, tuple[str, ...]] = {
    "reply": ("message",),
    "answer": ("message",),
    "confirm": (),
    "reopen": ("reason",),
    "rating": ("rating",),
    "erase-contact": (),
}


def track_action(call: SubmitCall, code: str, operation: str) -> Response:
    """A reporter's form on the tracking page: no JavaScript, PRG on success."""
    lang = call.lang
    fields, uploads = _read_submission(call)
    token = fields.get("token") or call.request.args.get("token") or None
    values = {name: fields.get(name, "") for name in _ACTION_FIELDS[operation]}
    data = {name: value for name, value in values.items() if value.strip()}
    files, file_errors = _checked_files(call, uploads if operation in FILE_OPERATIONS else [])
    prefixed = {f"{operation}.{k}": v for k, v in values.items()}
    if file_errors:
        # Nothing is sent; the text's own error, if any, shows beside the files'.
        errors = {f"{operation}.{FILE_FIELD}": " ".join(file_errors)}
        try:
            reporter.OPERATIONS[operation].body.model_validate(data)
        except ValidationError as invalid:
            errors |= {f"{operation}.{e.field}": e.message for e in field_errors(invalid, lang)}
        return _render_track(
            call,
            code,
            token,
            status=422,
            errors=errors,
            values=prefixed,
            file_errors=file_errors,
        )
    try:
        # The form's nonce is its Idempotency-Key: a form sent twice is taken once.
        nonce = fields.get("nonce", "")
        key = nonce if IDEMPOTENCY_KEY.fullmatch(nonce) else None
        reporter_act(call, code, token, operation, data, files=files, idempotency_key=key)
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
        return _render_track(call, code, token, status=422, errors=errors, values=prefixed)
    except LifecycleError:
        return _render_track(call, code, token, status=409, warning=t("action_refused", lang))
    target = url(call, f"/lacak/{quote(code[:CODE_MAX])}", token=token or "", done=operation)
    return redirect(target, code=303)


def erase_contact_page(call: SubmitCall, code: str) -> Response:
    """ "Hapus data kontak saya": what is erased and what stays, before the reporter
    confirms (the form posts the ``erase-contact`` operation, with a fresh nonce as its
    Idempotency-Key). Only with the reporter's token."""
    token = call.request.args.get("token") or None
    try:
        tracked = track(call, code, token)
    except InvalidTrackingCode:
        return _invalid_code_page(call, code)
    if tracked is None or tracked.audience.value != "reporter":
        # As the tracking page answers: the public view with "wrong token", or the 404.
        return _render_track(call, code, token)
    return render(
        call,
        "hapus_kontak.html",
        report=tracked.report,
        token=token or "",
        nonce=secrets.token_urlsafe(18),
        erased=tracked.report.get("contact_erased") is not None,
    )


def download_my_data(call: SubmitCall, code: str) -> Response:
    """ "Unduh data saya": everything held about the reporter, as a JSON file to keep
    (shared.web.reporter_calls.reporter_data). Only with the reporter's token."""
    token = call.request.args.get("token") or None
    try:
        data = reporter_data(call, code, token)
    except InvalidTrackingCode:
        return _invalid_code_page(call, code)
    except reporter.TokenRejected:
        return _render_track(call, code, token)  # the public view, with "wrong token"
    if data is None:
        return _render_track(call, code, None)  # the 404 page
    name = f"lapor-{data['tracking_code']}.json"
    return json_response(
        data,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


# An operation outside the map is a 404 before any form is read.
_OPERATION = "<any({}):operation>".format(", ".join(f'"{name}"' for name in reporter.OPERATIONS))
RULES = [
    Rule("/", methods=["GET", "POST"], endpoint="form"),
    Rule("/lacak", methods=["GET"], endpoint="lookup"),
    Rule("/lacak/<code>", methods=["GET"], endpoint="track_page"),
    Rule(f"/lacak/<code>/{_OPERATION}", methods=["POST"], endpoint="track_action"),
    Rule("/lacak/<code>/berkas/<file_id>", methods=["GET"], endpoint="tracked_file_link"),
    Rule("/lacak/<code>/hapus-kontak", methods=["GET"], endpoint="erase_contact_page"),
    Rule("/lacak/<code>/unduh-data", methods=["GET"], endpoint="download_my_data"),
    Rule("/lupa-tautan", methods=["GET", "POST"], endpoint="lost_link"),
    Rule(SHORT_LINK_PREFIX + "<link>", methods=["GET"], endpoint="short_link"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "form": form,
    "lookup": lookup,
    "track_page": track_page,
    "track_action": track_action,
    "tracked_file_link": tracked_file_link,
    "erase_contact_page": erase_contact_page,
    "download_my_data": download_my_data,
    "lost_link": lost_link,
    "short_link": short_link,
}
