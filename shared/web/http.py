"""HTTP plumbing every app shares: problem+json, JSON bodies and their refusals,
field errors, the client's address.

Nothing here knows about reports or routes; the apps do, and
:mod:`shared.web.dispatch` runs them.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeVar

from flask import Request, Response
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser

from shared.web.i18n import Lang, t

if TYPE_CHECKING:
    from shared.usecases.attachments import Upload

PROBLEM_JSON = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"
MULTIPART_MEDIA_TYPE = "multipart/form-data"
# Every form's (and the multipart API's) file field; `multiple`, so it may repeat.
FILE_FIELD = "berkas"
# A URN names the problem without pretending to be a page one can open.
PROBLEM_BASE = "urn:lapor:problem:"


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class BodyTooLarge(Exception):
    pass


class UnsupportedMediaType(Exception):
    pass


class Problem(Exception):
    """A refusal raised instead of returned: the dispatch answers ``response``.

    The body helpers (below, and the citizen pages' form reader) raise it, so a handler
    reads ``body = parse_json_body(...)`` and carries on; what the client gets is the
    response, unchanged.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def media_type(request: Request) -> str:
    return (request.mimetype or "").lower()


def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes before AND while reading.

    Content-Length may be absent (chunked) or lie, so the read itself is bounded too.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return body


# A browser sends one empty file part per file input left empty; a few are allowed
# beyond the counted parts so a form with more than one file input still reads.
_EMPTY_FILE_PARTS = 4
_MAX_FILE_NAME = 255


def read_multipart(
    request: Request,
    *,
    max_bytes: int,
    max_files: int,
    max_fields: int,
    max_field_bytes: int = 64 * 1024,
) -> tuple[dict[str, str], list[Upload]]:
    """A ``multipart/form-data`` body's text fields and the files of :data:`FILE_FIELD`.

    Raises :class:`UnsupportedMediaType` when the body is not multipart, BodyTooLarge
    over ``max_bytes`` (declared or read: the read is bounded) or when one field holds
    more than ``max_field_bytes``, and ValueError when it cannot be read: malformed,
    more than ``max_fields`` fields or ``max_files`` files, or a file in another field.
    A caller whose files have a count limit of their own passes a larger ``max_files``,
    so one file too many meets that limit's clearer refusal rather than this one.

    The first of repeated fields wins (as the urlencoded form's reader). A file part
    with no name and no bytes is what a browser sends for an empty file input: skipped.
    The parts' Content-Type is not kept: a file's type is judged from its bytes.
    """
    # Imported here: the attachments' module brings Pillow, which only the functions
    # that take files carry; every function imports this module.
    from shared.usecases.attachments import Upload

    if media_type(request) != MULTIPART_MEDIA_TYPE:
        raise UnsupportedMediaType
    boundary = request.mimetype_params.get("boundary", "")
    if not boundary:
        raise ValueError("multipart body without a boundary")
    body = read_body(request, max_bytes)
    parser = MultiPartParser(
        stream_factory=_in_memory, max_form_parts=max_fields + max_files + _EMPTY_FILE_PARTS
    )
    try:
        parts, files = parser.parse(io.BytesIO(body), boundary.encode("latin-1"), len(body))
    except RequestEntityTooLarge:
        raise ValueError("too many parts in the multipart body") from None
    if len(parts) > max_fields:
        raise ValueError("too many fields in the multipart body")
    fields: dict[str, str] = {}
    for name, value in parts.items(multi=True):
        if not name:
            raise ValueError("a multipart field without a name")
        if len(value.encode("utf-8")) > max_field_bytes:
            raise BodyTooLarge
        fields.setdefault(name, value)
    uploads: list[Upload] = []
    for name, stored in files.items(multi=True):
        data = stored.stream.read()
        file_name = stored.filename or ""
        if not data and not file_name:
            continue
        if name != FILE_FIELD:
            raise ValueError(f"a file in the field {name!r}; files go in {FILE_FIELD!r}")
        uploads.append(Upload(name=_base_name(file_name), data=data))
    if len(uploads) > max_files:
        raise ValueError("too many files in the multipart body")
    return fields, uploads


def _in_memory(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> IO[bytes]:
    # The whole body is already in memory (bounded by read_multipart's max_bytes).
    return io.BytesIO()


def _base_name(name: str) -> str:
    """The file's own name without any folder a device put in front of it."""
    return name.replace("\\", "/").rsplit("/", 1)[-1][:_MAX_FILE_NAME]


def client_address(request: Request, trusted_hops: int) -> str:
    """The client's address, trusting exactly ``trusted_hops`` proxies' X-Forwarded-For.

    Each trusted proxy appends the address it saw, so the client is the entry
    ``trusted_hops`` from the right; anything further left is client-supplied and
    could be forged to dodge the rate limit.
    """
    remote = request.remote_addr or "unknown"
    if trusted_hops <= 0:
        return remote
    header = request.headers.get("X-Forwarded-For", "")
    hops = [part.strip() for part in header.split(",") if part.strip()]
    if not hops:
        return remote
    return hops[-trusted_hops] if len(hops) >= trusted_hops else hops[0]


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    lang: Lang = "id",
) -> Response:
    """An RFC 9457 problem+json response."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    listed = [e.as_dict() for e in errors]
    if listed:
        body["errors"] = listed
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# pydantic's error types -> our stable codes (see the err_* messages in i18n).
_CODES: Mapping[str, str] = {
    "missing": "missing",
    "string_too_long": "too_long",
    "literal_error": "invalid_choice",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date",
    "date_type": "invalid_date",
    "bool_parsing": "invalid_bool",
    "bool_type": "invalid_bool",
    "extra_forbidden": "extra_forbidden",
    "model_type": "not_object",
    "model_attributes_type": "not_object",
    "dict_type": "not_object",
    "string_type": "invalid",
    # The reporter's rating (1-5); on any other number these are plain "invalid".
    "int_parsing": "invalid_rating",
    "int_type": "invalid_rating",
    "int_from_float": "invalid_rating",
    "greater_than_equal": "invalid_rating",
    "less_than_equal": "invalid_rating",
}
_OURS = frozenset(
    {
        "invalid_text", "invalid_email", "invalid_phone", "unknown_category",
        "unknown_province", "unknown_regency", "regency_not_in_province",
        "regency_required", "future_date", "date_too_old", "unknown_agency",
        "name_required", "contact_required", "unknown_upload", "duplicate_upload",
        "unknown_district", "district_not_in_regency", "unknown_village",
        "village_not_in_district", "district_required", "invalid_coordinate",
        "point_incomplete", "point_outside_indonesia", "point_outside_regency",
    }
)  # fmt: skip


def field_errors(exc: ValidationError, lang: Lang) -> list[FieldError]:
    """One translated entry per field (the first error on a field is the useful one)."""
    seen: dict[str, FieldError] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if field in seen:
            continue
        kind = error["type"]
        ctx = error.get("ctx") or {}
        values: dict[str, object] = {}
        if kind in _OURS:
            code = kind
            values = dict(ctx)
        elif kind == "string_too_short":
            empty = not str(error.get("input") or "").strip()
            code = "missing" if empty else "too_short"
            values = {"min": ctx.get("min_length")}
        elif kind == "literal_error" and field == "type":
            code = "invalid_type"
        else:
            code = _CODES.get(kind, "invalid")
            if code == "invalid_rating" and field != "rating":
                code = "invalid"
            if code == "too_long":
                values = {"max": ctx.get("max_length")}
        seen[field] = FieldError(field, code, t(f"err_{code}", lang, **values))
    return list(seen.values())


# --- JSON bodies ----------------------------------------------------------------------


M = TypeVar("M", bound=BaseModel)


def _refusal(
    status: int, kind: str, lang: Lang, title: str, detail: str | None = None, **values: object
) -> Problem:
    return Problem(
        problem(
            status, kind, t(title, lang), t(detail, lang, **values) if detail else None, lang=lang
        )
    )


def read_json_object(
    request: Request,
    *,
    max_bytes: int,
    lang: Lang,
    allow_empty: bool = False,
    before_parse: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The request's body as a JSON object, or :class:`Problem`.

    415 when the media type is not JSON, 413 over ``max_bytes`` (the read itself is
    bounded), 400 ``malformed-json`` when it is not UTF-8 JSON or not an object. With
    ``allow_empty`` an empty body is ``{}`` and needs no media type, so the body is read
    (413) before its type is looked at (415). ``before_parse`` runs once the body is
    read and before it is parsed; it may raise a Problem of its own (the submit API
    checks its Idempotency-Key there).
    """
    if not allow_empty:
        _require_json(request, lang)
    try:
        body = read_body(request, max_bytes)
    except BodyTooLarge:
        raise _refusal(
            413, "body-too-large", lang, "too_large", "too_large_detail", limit=max_bytes // 1024
        ) from None
    if allow_empty:
        if not body.strip():
            return {}
        _require_json(request, lang)
    if before_parse is not None:
        before_parse()
    try:
        data = json.loads(body.decode("utf-8"))
    # RecursionError: nested deeper than the parser's stack (a few KB of brackets).
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refusal(400, "malformed-json", lang, "malformed_json") from None
    if not isinstance(data, dict):
        raise _refusal(400, "malformed-json", lang, "json_not_object")
    return data


def _require_json(request: Request, lang: Lang) -> None:
    if media_type(request) != JSON_MEDIA_TYPE:
        raise _refusal(415, "unsupported-media-type", lang, "unsupported_type", "unsupported_json")


def validation_problem(
    invalid: ValidationError, lang: Lang, *, instance: str | None = None
) -> Response:
    """422 ``validation`` with one translated entry per field."""
    return errors_problem(field_errors(invalid, lang), lang, instance=instance)


def errors_problem(
    errors: Sequence[FieldError], lang: Lang, *, instance: str | None = None
) -> Response:
    """422 ``validation`` listing ``errors`` (found by other means than a model)."""
    return problem(
        422,
        "validation",
        t("validation_failed", lang),
        t("validation_failed_detail", lang, count=len(errors)),
        errors=errors,
        instance=instance,
        lang=lang,
    )


def parse_json_body(
    request: Request,
    model: type[M],
    *,
    max_bytes: int,
    lang: Lang,
    context: Mapping[str, Any] | None = None,
    instance: str | None = None,
    before_parse: Callable[[], None] | None = None,
) -> M:
    """The request's JSON object validated as ``model``, or :class:`Problem`.

    The refusals of :func:`read_json_object` (415, 413, 400), then 422 from
    :func:`validation_problem` (``instance`` goes only on that one).
    """
    data = read_json_object(request, max_bytes=max_bytes, lang=lang, before_parse=before_parse)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as invalid:
        raise Problem(validation_problem(invalid, lang, instance=instance)) from None


# What a client may send as an Idempotency-Key (a submission's, or an action's).
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")


def check_idempotency_key(key: str | None, lang: Lang) -> None:
    """Problem (400) for an Idempotency-Key that is not 8-255 visible ASCII characters."""
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
