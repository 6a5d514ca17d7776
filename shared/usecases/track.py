"""Following a report by its tracking code: what the asker may see, and no more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.config import Settings
from shared.domain.privacy import Audience, may_see_attachments, view
from shared.domain.report import Report, age_working_days, is_overdue
from shared.domain.tracking import InvalidTrackingCode, normalize_tracking_code
from shared.ports import BlobStore, Clock, DeliveryHistory, ReportStore
from shared.tokens import is_reporter_token, is_short_reporter_token, reporter_token
from shared.usecases.deliveries import reporter_notices
from shared.usecases.evidence import SignedFile, file_url


@dataclass(frozen=True)
class Tracked:
    report: dict[str, Any]
    audience: Audience
    token_rejected: bool  # a token came with the request but does not fit this report
    # Never shown (the view leaves it out): it names the report's files in the bucket.
    report_id: str = ""


def asker(report: Report, token: str | None, settings: Settings) -> Audience | None:
    """Who asks about ``report`` by its tracking code: the reporter when ``token`` is
    the report's, else the public; None when the public may not know it exists (a
    confidential report), so that it answers exactly as a missing code does."""
    if is_reporter_token(settings.token_secret, report.id, token):
        return Audience.REPORTER
    return None if report.confidential else Audience.PUBLIC


def find_for_asker(
    code_text: str, token: str | None, *, store: ReportStore, settings: Settings
) -> tuple[Report, Audience] | None:
    """The report a tracking code names and who asks (:func:`asker`), or None when
    they may not know it exists. One read; InvalidTrackingCode for text that cannot be
    a code (no read spent)."""
    report = store.find_by_tracking_code(normalize_tracking_code(code_text))
    if report is None:
        return None
    audience = asker(report, token, settings)
    return None if audience is None else (report, audience)


def track_report(
    code_text: str,
    token: str | None,
    *,
    store: ReportStore,
    settings: Settings,
    clock: Clock,
    deliveries: DeliveryHistory | None = None,
) -> Tracked | None:
    """The report as its asker may see it, or None when they may not know it exists,
    with what its clocks say today: overdue (the current state's clock ran out) and its
    total age in working days. The reporter also sees when and how they were told
    (``notices``, from ``deliveries``: shared.usecases.deliveries.reporter_notices).

    Raises InvalidTrackingCode for text that cannot be a code (so no read is spent).
    """
    found = find_for_asker(code_text, token, store=store, settings=settings)
    if found is None:
        return None
    report, audience = found
    is_reporter = audience is Audience.REPORTER
    # Masked: this page is served by the function that seals identities and cannot open
    # them, and a leaked private link must not give away the reporter's contact.
    identity = store.masked_identity(report.id) if is_reporter else None
    shown = view(report, store.timeline(report.id), audience, identity)
    if shown is None:
        return None
    calendar = settings.calendar()
    today = calendar.local_date(clock.now())
    shown["overdue"] = is_overdue(report, today)
    shown["age_working_days"] = age_working_days(report, today, calendar)
    if is_reporter and deliveries is not None:
        shown["notices"] = reporter_notices(deliveries.deliveries(report.id))
    return Tracked(
        shown, audience, token_rejected=bool(token) and not is_reporter, report_id=report.id
    )


def tracked_file(
    code_text: str,
    token: str | None,
    file_id: str,
    *,
    thumbnail: bool = False,
    store: ReportStore,
    blobs: BlobStore,
    settings: Settings,
) -> SignedFile | None:
    """A short-lived link to one file of the report, decided as the tracking page
    decides what it shows (shared.domain.privacy.may_see_attachments), or None: for a
    code that cannot be one, an unknown report or file, a thumbnail the file does not
    have, a confidential report without the reporter's token, or a file the public may
    not see. All alike, so an asker learns nothing from which it was. One read."""
    try:
        found = find_for_asker(code_text, token, store=store, settings=settings)
    except InvalidTrackingCode:
        return None
    if found is None:
        return None
    report, audience = found
    if not may_see_attachments(report, audience):
        return None
    attachment = next((a for a in report.attachments if a.id == file_id), None)
    if attachment is None or (thumbnail and not attachment.has_thumbnail):
        return None
    return file_url(report.id, attachment.id, blobs, settings, thumbnail=thumbnail)


def open_short_link(
    code: str, short_token: str, *, store: ReportStore, settings: Settings
) -> str | None:
    """The reporter token that the short private link ``code`` + ``short_token`` stands
    for (shared.usecases.sms), or None when the pair does not fit a report (one read
    either way; the short token is compared in constant time)."""
    report = store.find_by_tracking_code(code)
    if report is None or not is_short_reporter_token(settings.token_secret, report.id, short_token):
        return None
    return reporter_token(settings.token_secret, report.id)
