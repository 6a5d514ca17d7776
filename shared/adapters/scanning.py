"""Malware scanners for uploaded files (the MalwareScanner port).

Only :class:`NoScanner` exists today: it scans nothing and says so (verdict UNKNOWN),
so a deployment without a scanner still checks every file's type and re-encodes every
image (shared.domain.attachments), and the logs say that no scan ran. A real scanner
is a class here with the same ``scan`` method, and a value of LAPOR_ATTACHMENT_SCANNER
that shared/wiring.py maps to it.
"""

from __future__ import annotations

import logging

from shared.ports import ScanResult, ScanVerdict

log = logging.getLogger(__name__)


class NoScanner:
    """Passes every file unscanned (UNKNOWN): the choice LAPOR_ATTACHMENT_SCANNER=none."""

    def scan(self, data: bytes, *, media_type: str) -> ScanResult:
        log.info("attachment not scanned: no malware scanner is configured (%s)", media_type)
        return ScanResult(ScanVerdict.UNKNOWN, "no scanner configured")
