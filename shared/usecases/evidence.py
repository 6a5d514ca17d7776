"""A report's files in the bucket: checked, staged, committed, promoted, and shown.

A report is never half-saved. Every file is checked first (:func:`safe_files`: any
refusal refuses the whole request and stores nothing); the safe ones are staged under
``uploads/`` (:func:`stage`); the commit that lists them on the report is what makes
them the report's; and then they are promoted, by a server-side copy, to their names
under ``reports/`` (:func:`promote`), where links point. A commit that is refused, or a
function that dies before its commit, leaves only ``uploads/`` objects, which the
bucket's lifecycle deletes after a day (infra/storage.tf). A function that dies after
its commit leaves its files staged: the commit's outbox message (``report.submitted``
with ``attachment_ids``, or ``report.files_added``) reaches the route function, which
promotes them before anything else (shared.usecases.route).

Objects:

- ``reports/<report id>/<attachment id>``: the file as stored (an image re-encoded
  without metadata, or the checked PDF);
- ``reports/<report id>/<attachment id>.thumb.webp``: an image's thumbnail;
- ``uploads/`` + either of those: the same object, staged;
- ``uploads/raw/<upload id>``: a client's direct upload through a signed PUT, read and
  checked like a form's file before it is staged.

Pillow and pypdf are imported only where a file is checked (:func:`safe_files`), so a
request without files does not pay for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.domain.report import ATTACHING_ACTIONS, Action, Attachment, InvalidCommand, Role
from shared.ports import BlobStore, MalwareScanner, ObjectNotFound, ObjectTooLarge, ReportNotFound

if TYPE_CHECKING:
    from shared.domain.attachments import Refusal, SafeFile
    from shared.usecases.attachments import Upload

log = logging.getLogger(__name__)

STAGED = "uploads/"
THUMBNAIL_SUFFIX = ".thumb.webp"
THUMBNAIL_MEDIA_TYPE = "image/webp"
ATTACHMENT_ID = re.compile(r"^f[0-9a-f]{10}$")
# What a report id may be in an object name (Firestore's ids are 20 of these).
_REPORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class FilesRefused(Exception):
    """One or more files may not be stored; nothing was. ``refusals``: every file's
    reason (not only the first), each readable in the reporter's language through
    ``Refusal.message(lang)``."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals: tuple[Refusal, ...] = tuple(refusals)
        super().__init__("; ".join(refusal.message("en") for refusal in self.refusals))

    def messages(self, lang: str = "id") -> list[str]:
        return [refusal.message(lang) for refusal in self.refusals]


def safe_files(
    uploads: Sequence[Upload], settings: Settings, scanner: MalwareScanner
) -> tuple[SafeFile, ...]:
    """Every upload made safe to store (shared.usecases.attachments.check_uploads under
    the settings' limits), or FilesRefused with every refusal; nothing is stored here."""
    if not uploads:
        return ()
    from shared.usecases.attachments import check_uploads, limits_from

    checked = check_uploads(uploads, limits_from(settings), scanner)
    if not checked.all_accepted:
        raise FilesRefused(checked.refused)
    return checked.accepted


# --- naming -----------------------------------------------------------------------------


def object_name(
    report_id: str, attachment_id: str, *, thumbnail: bool = False, staged: bool = False
) -> str:
    """The object of one file of a report (its thumbnail's with ``thumbnail``), or its
    staged copy's under ``uploads/`` with ``staged``."""
    name = f"reports/{report_id}/{attachment_id}{THUMBNAIL_SUFFIX if thumbnail else ''}"
    return STAGED + name if staged else name


def _objects(report_id: str, attachment: Attachment) -> list[str]:
    """The file's object names (final), thumbnail included when it has one."""
    names = [object_name(report_id, attachment.id)]
    if attachment.has_thumbnail:
        names.append(object_name(report_id, attachment.id, thumbnail=True))
    return names


def new_attachment_id() -> str:
    """Random, not counted: two follow-ups committed at once never pick the same id."""
    return "f" + secrets.token_hex(5)


def new_attachments(files: Sequence[SafeFile]) -> tuple[tuple[Attachment, SafeFile], ...]:
    """Each safe file with the Attachment that will list it. ``added_seq`` and
    ``added_by`` are placeholders: the lifecycle sets them from the event that adds them."""
    pairs: list[tuple[Attachment, SafeFile]] = []
    taken: set[str] = set()
    for file in files:
        attachment_id = new_attachment_id()
        while attachment_id in taken:
            attachment_id = new_attachment_id()
        taken.add(attachment_id)
        attachment = Attachment(
            id=attachment_id,
            media_type=file.media_type,
            size=len(file.data),
            added_seq=0,
            added_by=Role.REPORTER,
            width=file.width,
            height=file.height,
            pages=file.pages,
            has_thumbnail=bool(file.thumbnail),
        )
        pairs.append((attachment, file))
    return tuple(pairs)


def files_fingerprint(files: Sequence[SafeFile]) -> list[str]:
    """What identifies the files of a request, in order (their stored bytes' SHA-256):
    part of an idempotent submission's fingerprint."""
    return [hashlib.sha256(file.data).hexdigest() for file in files]


# --- stage, then promote once committed -------------------------------------------------


def stage(report_id: str, pairs: Sequence[tuple[Attachment, SafeFile]], blobs: BlobStore) -> None:
    """Store each file (and its thumbnail) under ``uploads/``, before the commit that
    lists them: until that commit they belong to no report. A report id that cannot
    be one (from a URL) is an unknown report: nothing is stored."""
    if not _REPORT_ID.fullmatch(report_id):
        raise ReportNotFound(report_id)
    for attachment, file in pairs:
        staged = object_name(report_id, attachment.id, staged=True)
        blobs.put(staged, file.data, file.media_type)
        if file.thumbnail:
            thumb = object_name(report_id, attachment.id, thumbnail=True, staged=True)
            blobs.put(thumb, file.thumbnail, THUMBNAIL_MEDIA_TYPE)


def stage_for_action(
    report_id: str, action: Action, files: Sequence[SafeFile], blobs: BlobStore | None
) -> tuple[Attachment, ...]:
    """Stage the files an action brings (a follow-up's photo, a reporter's answer) and
    the Attachments its command lists. An action that cannot bring files is refused
    before anything is stored (the lifecycle would refuse it at the commit anyway)."""
    if not files:
        return ()
    if action not in ATTACHING_ACTIONS:
        raise InvalidCommand(f"{action.value} cannot bring files")
    if blobs is None:
        raise ValueError("files to store, and no blob store")
    pairs = new_attachments(files)
    stage(report_id, pairs, blobs)
    return tuple(attachment for attachment, _ in pairs)


class StagedFileLost(Exception):
    """A committed file is neither promoted nor staged any more: nothing can bring it
    back (the lifecycle deleted the staged copy before anyone promoted it)."""

    def __init__(self, names: Sequence[str], copies: int) -> None:
        super().__init__(", ".join(names))
        self.names = tuple(names)
        self.copies = copies  # of the others, promoted all the same


def promote(
    report_id: str,
    attachments: Sequence[Attachment],
    blobs: BlobStore,
    *,
    look_first: bool = True,
) -> int:
    """Copy the committed files from ``uploads/`` to ``reports/`` where the target is
    not there yet; the number of copies made. Idempotent: a retry (the route function
    after the committing function did it, or after it died) copies only what is
    missing, and a staged object already gone is fine when its target is there.
    ``look_first=False`` skips the lookup before each copy, for the committing
    function itself: its file ids are new, so no target can be there yet.
    Raises StagedFileLost (after promoting every other file) when neither is there."""
    copies = 0
    lost: list[str] = []
    for attachment in attachments:
        for target in _objects(report_id, attachment):
            if look_first and blobs.exists(target):
                continue
            try:
                blobs.copy(STAGED + target, target)
                copies += 1
            except ObjectNotFound:
                # Another promoter may have copied it and the lifecycle taken the
                # staged copy since this one looked.
                if not blobs.exists(target):
                    lost.append(target)
            except Exception:
                # Another promoter copied it since this one looked: the functions may
                # create objects but not replace them (infra/storage.tf), so the
                # second copy is refused. Done all the same; anything else is raised.
                if not blobs.exists(target):
                    raise
    if lost:
        raise StagedFileLost(lost, copies)
    return copies


def promote_after_commit(
    report_id: str, attachments: Sequence[Attachment], blobs: BlobStore
) -> int:
    """Promote right after the commit, so the files can be shown at once; never
    raises: the commit stands, and its outbox message makes the route function
    promote what this could not (a storage error is logged)."""
    if not attachments:
        return 0
    try:
        return promote(report_id, attachments, blobs, look_first=False)
    except Exception:
        log.warning(
            "files committed but not promoted yet; the route function promotes them",
            extra={"report_id": report_id, "attachment_ids": [a.id for a in attachments]},
            exc_info=True,
        )
        return 0


# --- links ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedFile:
    """A short-lived link to one file: anyone holding ``url`` can GET it until
    ``expires_at``."""

    url: str
    expires_at: dt.datetime


def file_url(
    report_id: str,
    attachment_id: str,
    blobs: BlobStore,
    settings: Settings,
    *,
    thumbnail: bool = False,
) -> SignedFile:
    """A signed GET of the promoted file (or its thumbnail), valid
    ``attachment_url_ttl_s``. The caller decides who may have it; signing reads nothing.
    The expiry is the system's time, as the signature's: a URL is signed from now."""
    ttl = dt.timedelta(seconds=settings.attachment_url_ttl_s)
    expires_at = dt.datetime.now(dt.UTC) + ttl
    name = object_name(report_id, attachment_id, thumbnail=thumbnail)
    return SignedFile(blobs.signed_get_url(name, ttl), expires_at)


# --- direct uploads (API clients PUT to storage, then name the upload) -------------------

RAW_UPLOADS = STAGED + "raw/"
UPLOAD_ID = re.compile(r"^u[0-9a-f]{32}$")


@dataclass(frozen=True)
class UploadSlot:
    """Where a client PUTs one file: ``put_url`` with exactly ``headers`` (they are
    signed: the Content-Type it declared and the size range), until ``expires_at``;
    then it names ``upload_id`` in its report or action."""

    upload_id: str
    put_url: str
    headers: dict[str, str]
    expires_at: dt.datetime


def upload_slot(blobs: BlobStore, settings: Settings, media_type: str) -> UploadSlot:
    """A signed PUT to ``uploads/raw/<upload id>``, bound to ``media_type`` and to at
    most ``attachment_max_file_bytes``, valid ``upload_url_ttl_s``. The id is 128
    random bits: whoever holds it may attach the file, so it cannot be guessed."""
    upload_id = "u" + secrets.token_hex(16)
    ttl = dt.timedelta(seconds=settings.upload_url_ttl_s)
    expires_at = dt.datetime.now(dt.UTC) + ttl
    signed = blobs.signed_put_url(
        RAW_UPLOADS + upload_id, media_type, ttl, max_bytes=settings.attachment_max_file_bytes
    )
    return UploadSlot(upload_id, signed.url, dict(signed.headers), expires_at)


class UnknownUploads(Exception):
    """Uploads never given out, never PUT, or gone (the lifecycle deletes them after a
    day): ``upload_ids``, in the order named."""

    def __init__(self, upload_ids: Sequence[str]) -> None:
        super().__init__(", ".join(upload_ids))
        self.upload_ids = tuple(upload_ids)


def read_direct_uploads(
    upload_ids: Sequence[str], blobs: BlobStore, settings: Settings
) -> list[Upload]:
    """The named direct uploads' bytes, each read only if it is within the per-file
    limit (its size is looked up first: a client may have PUT anything). Raises
    UnknownUploads naming every one that is not there (or not an upload id), else
    FilesRefused for those too big; the caller then checks them like a form's files
    (:func:`safe_files`), called by their upload id (a client's device named nothing)."""
    from shared.domain.attachments import Refusal, RefusalCode, human_bytes
    from shared.usecases.attachments import Upload

    limit = settings.attachment_max_file_bytes
    uploads: list[Upload] = []
    unknown: list[str] = []
    too_big: list[Refusal] = []
    for upload_id in upload_ids:
        if not UPLOAD_ID.fullmatch(upload_id):
            unknown.append(upload_id)
            continue
        try:
            stored = blobs.get(RAW_UPLOADS + upload_id, max_bytes=limit)
        except ObjectNotFound:
            unknown.append(upload_id)
            continue
        except ObjectTooLarge:
            too_big.append(Refusal(RefusalCode.TOO_BIG, upload_id, human_bytes(limit)))
            continue
        uploads.append(Upload(upload_id, stored.data))
    if unknown:
        raise UnknownUploads(unknown)
    if too_big:
        raise FilesRefused(too_big)
    return uploads
