"""Files through the JSON APIs (the reporter's and the agency's): direct uploads to a
signed URL, the multipart alternative, the refusal of files, and links to a report's
files.

A client that can PUT asks ``POST /api/v1/uploads`` for a signed URL, PUTs the file
there (to ``uploads/raw/<upload_id>``, never through a function), then names the
``upload_id`` in the report or the action; the function reads each named upload back,
bounded, and checks it like a form's file. A client that cannot PUT sends the JSON and
the files in one ``multipart/form-data`` body instead. Either way a refused file
refuses the request (422 ``files-refused``, every file's reason) and nothing is stored.

Pillow and pypdf are imported only where a file is checked (shared.usecases.evidence),
so an answer without files never loads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flask import Request, Response

from shared.config import Settings
from shared.ports import BlobStore, MalwareScanner
from shared.usecases import evidence
from shared.usecases.evidence import FilesRefused, file_url
from shared.web.http import (
    BodyTooLarge,
    FieldError,
    Problem,
    UnsupportedMediaType,
    errors_problem,
    json_response,
    parse_json_body,
    problem,
    read_multipart,
)
from shared.web.i18n import Lang, t
from shared.web.schemas import UploadIn, UploadOut

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile
    from shared.usecases.attachments import Upload

# A request for an upload URL is a few hundred bytes of JSON.
UPLOAD_REQUEST_MAX_BYTES = 4 * 1024
# A multipart body's part headers and boundaries, beside its JSON and its files.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


# --- refusals ---------------------------------------------------------------------------


def files_refused(refused: FilesRefused, lang: Lang, field: str) -> Response:
    """422 ``files-refused``: one ``errors`` entry per refused file (or one for the
    whole batch: too many, too big together), its code and the reporter-readable
    message naming the file."""
    errors = [
        FieldError(field, refusal.code.value, refusal.message(lang)) for refusal in refused.refusals
    ]
    return problem(
        422,
        "files-refused",
        t("files_refused", lang),
        t("files_refused_detail", lang),
        errors=errors,
        lang=lang,
    )


def _too_big(name: str, limit: int) -> FilesRefused:
    from shared.domain.attachments import Refusal, RefusalCode, human_bytes

    return FilesRefused([Refusal(RefusalCode.TOO_BIG, name, human_bytes(limit))])


def _too_many(limit: int) -> FilesRefused:
    from shared.domain.attachments import Refusal, RefusalCode

    return FilesRefused([Refusal(RefusalCode.TOO_MANY, "", str(limit))])


# --- direct uploads ---------------------------------------------------------------------


def request_upload(
    request: Request,
    lang: Lang,
    settings: Settings,
    blobs: Callable[[], BlobStore],
    *,
    before_signing: Callable[[], None] = lambda: None,
) -> Response:
    """``POST /api/v1/uploads``: 201 with where and how to PUT one file.

    A declared size over the per-file limit is refused (422 ``files-refused``) before
    anything is signed; the URL binds the Content-Type and the size range, so storage
    refuses a larger body. ``before_signing`` may refuse (the reporter API's rate
    limit) once the request is valid.
    """
    wanted = parse_json_body(request, UploadIn, max_bytes=UPLOAD_REQUEST_MAX_BYTES, lang=lang)
    limit = settings.attachment_max_file_bytes
    if wanted.size > limit:
        raise Problem(files_refused(_too_big(wanted.name or "", limit), lang, "size"))
    before_signing()
    slot = evidence.upload_slot(blobs(), settings, wanted.media_type)
    out = UploadOut(
        upload_id=slot.upload_id,
        upload_url=slot.put_url,
        method="PUT",
        headers=dict(slot.headers),
        expires_at=slot.expires_at,
        max_bytes=limit,
    )
    return json_response(
        out.model_dump(mode="json"),
        status=201,
        headers={"Cache-Control": "no-store", "Content-Language": lang},
    )


def direct_files(
    upload_ids: Sequence[str],
    lang: Lang,
    settings: Settings,
    blobs: Callable[[], BlobStore],
    scanner: Callable[[], MalwareScanner],
    *,
    field: str = "attachments",
) -> tuple[SafeFile, ...]:
    """The named direct uploads, read back (bounded) and made safe, or :class:`Problem`:
    422 ``validation`` naming each upload that is unknown, expired or never PUT, 422
    ``files-refused`` for the files themselves (more than the count limit refuses the
    batch before any is read)."""
    if not upload_ids:
        return ()
    if len(upload_ids) > settings.attachment_max_count:
        raise Problem(files_refused(_too_many(settings.attachment_max_count), lang, field))
    store = blobs()
    try:
        uploads = evidence.read_direct_uploads(upload_ids, store, settings)
    except evidence.UnknownUploads as unknown:
        errors = [
            FieldError(f"{field}.{upload_ids.index(upload_id)}", "unknown_upload",
                       t("err_unknown_upload", lang))
            for upload_id in unknown.upload_ids
        ]  # fmt: skip
        raise Problem(errors_problem(errors, lang)) from None
    except FilesRefused as refused:
        raise Problem(files_refused(refused, lang, field)) from None
    return checked_files(uploads, lang, settings, scanner, field=field)


def checked_files(
    uploads: Sequence[Upload],
    lang: Lang,
    settings: Settings,
    scanner: Callable[[], MalwareScanner],
    *,
    field: str,
) -> tuple[SafeFile, ...]:
    """The uploads made safe, or :class:`Problem` 422 ``files-refused``."""
    if not uploads:
        return ()
    try:
        return evidence.safe_files(uploads, settings, scanner())
    except FilesRefused as refused:
        raise Problem(files_refused(refused, lang, field)) from None


# --- multipart --------------------------------------------------------------------------


def neither_json_nor_multipart(lang: Lang) -> Response:
    """The 415 of an operation that takes JSON or multipart/form-data."""
    return problem(
        415,
        "unsupported-media-type",
        t("unsupported_type", lang),
        t("unsupported_json_multipart", lang),
        lang=lang,
    )


def read_json_and_files(
    request: Request, lang: Lang, settings: Settings, *, part: str
) -> tuple[dict[str, Any], list[Upload]]:
    """A ``multipart/form-data`` body holding a JSON object in the part ``part`` and the
    files in ``berkas`` parts, or :class:`Problem`: 413 over the limit (the JSON's and
    the files' together), 400 when it cannot be read, has other parts, or the JSON is
    not an object; 422 ``validation`` (the part missing)."""
    limit = settings.max_body_bytes + settings.attachment_max_total_bytes
    limit += MULTIPART_OVERHEAD_BYTES
    try:
        fields, uploads = read_multipart(
            request,
            max_bytes=limit,
            # More than the count limit reaches the files' own refusal (too_many).
            max_files=2 * settings.attachment_max_count,
            max_fields=1,
            max_field_bytes=settings.max_body_bytes,
        )
    except UnsupportedMediaType:
        raise Problem(neither_json_nor_multipart(lang)) from None
    except BodyTooLarge:
        detail = t(
            "api_files_too_large_detail",
            lang,
            limit=limit // 1024,
            count=settings.attachment_max_count,
            file_limit=_human(settings.attachment_max_file_bytes),
            total_limit=_human(settings.attachment_max_total_bytes),
        )
        raise Problem(
            problem(413, "body-too-large", t("too_large", lang), detail, lang=lang)
        ) from None
    except ValueError:
        raise Problem(_malformed_multipart(lang, part)) from None
    if set(fields) - {part}:
        raise Problem(_malformed_multipart(lang, part))
    if part not in fields:
        raise Problem(errors_problem([FieldError(part, "missing", t("err_missing", lang))], lang))
    try:
        data = json.loads(fields[part])
    except (ValueError, RecursionError):
        raise Problem(_malformed_json(lang, "malformed_json")) from None
    if not isinstance(data, dict):
        raise Problem(_malformed_json(lang, "json_not_object"))
    return data, uploads


def _malformed_json(lang: Lang, title: str) -> Response:
    return problem(400, "malformed-json", t(title, lang), lang=lang)


def _malformed_multipart(lang: Lang, part: str) -> Response:
    return problem(
        400,
        "malformed-multipart",
        t("malformed_multipart", lang),
        t("malformed_multipart_detail", lang, part=part),
        lang=lang,
    )


def _human(size: int) -> str:
    from shared.domain.attachments import human_bytes

    return human_bytes(size)


# --- links ------------------------------------------------------------------------------


def with_links(
    report_id: str,
    attachments: Iterable[Mapping[str, Any]],
    blobs: Callable[[], BlobStore],
    settings: Settings,
) -> list[dict[str, Any]]:
    """Each attachment the privacy view lists, with ``url``, ``thumbnail_url`` (None
    without a thumbnail) and ``url_expires_at`` (the earlier of its links' expiries).
    The view has decided which files the asker may see; signing reads nothing, and the
    blob store is made only when there is a file to sign."""
    listed = list(attachments)
    if not listed:
        return []
    store = blobs()
    linked: list[dict[str, Any]] = []
    for shown in listed:
        full = file_url(report_id, shown["id"], store, settings)
        thumb = (
            file_url(report_id, shown["id"], store, settings, thumbnail=True)
            if shown["has_thumbnail"]
            else None
        )
        expires = min(full.expires_at, thumb.expires_at) if thumb else full.expires_at
        linked.append(
            {
                **shown,
                "url": full.url,
                "thumbnail_url": thumb.url if thumb else None,
                "url_expires_at": expires.isoformat(),
            }
        )
    return linked
