"""Checking a report's uploaded files before anything is stored.

Every file is judged (shared.domain.attachments), scanned through the MalwareScanner
port, and either made safe or refused with a reason the reporter can read; the caller
stores the safe ones only when nothing was refused, so a report never keeps half of
what was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from shared.config import Settings
from shared.domain.attachments import (
    AttachmentLimits,
    AttachmentRefused,
    Refusal,
    RefusalCode,
    SafeFile,
    check_batch,
    identify,
    make_safe,
)
from shared.ports import MalwareScanner, ScanVerdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """One file as it came in: its name as the reporter's device gave it, and its bytes.
    The declared Content-Type is deliberately not here: nothing may trust it."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    accepted: tuple[SafeFile, ...]
    refused: tuple[Refusal, ...]

    @property
    def all_accepted(self) -> bool:
        return not self.refused


def limits_from(settings: Settings) -> AttachmentLimits:
    return AttachmentLimits(
        max_count=settings.attachment_max_count,
        max_file_bytes=settings.attachment_max_file_bytes,
        max_total_bytes=settings.attachment_max_total_bytes,
        max_pixels=settings.attachment_max_pixels,
        max_long_side_px=settings.attachment_max_long_side_px,
        thumbnail_px=settings.attachment_thumbnail_px,
    )


def check_uploads(
    uploads: Sequence[Upload], limits: AttachmentLimits, scanner: MalwareScanner
) -> Checked:
    """Each upload made safe, or the reason it was refused (every file's, not only the
    first's, so the reporter can fix them all at once). Too many files, or too many
    bytes together, refuse the whole batch before any file is decoded."""
    batch = check_batch([len(upload.data) for upload in uploads], limits)
    if batch is not None:
        return Checked(accepted=(), refused=(batch,))
    accepted: list[SafeFile] = []
    refused: list[Refusal] = []
    for upload in uploads:
        try:
            kind = identify(upload.name, upload.data, limits)
            result = scanner.scan(upload.data, media_type=kind.media_type)
            if result.verdict is ScanVerdict.INFECTED:
                log.warning("attachment refused by the malware scanner: %s", result.detail)
                raise AttachmentRefused(Refusal(RefusalCode.INFECTED, upload.name))
            accepted.append(make_safe(upload.name, upload.data, limits))
        except AttachmentRefused as refusal:
            refused.append(refusal.refusal)
    return Checked(accepted=tuple(accepted), refused=tuple(refused))
