"""Accepting a citizen's report: one commit (with the ``received`` counter of the
published figures and the reporter's ``report.accepted`` notification), then a publish
that may fail safely. Its files (already checked: shared.usecases.evidence.safe_files)
are staged before that commit and promoted right after it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.privacy import Language, ReporterIdentity
from shared.domain.report import Report, ReportDraft
from shared.domain.tracking import new_tracking_code
from shared.ports import (
    BlobStore,
    Clock,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    NewSubmission,
    OutboxMessage,
    Publisher,
    RateSlot,
    RateSlotTaken,
    ReportStore,
    TrackingCodeTaken,
)
from shared.tokens import pseudonym, reporter_token
from shared.usecases import evidence
from shared.usecases.counters import event_tallies
from shared.usecases.notices import notices_for
from shared.usecases.outbox import publish_committed

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile

log = logging.getLogger(__name__)

REPORT_SUBMITTED = "id.lapor.report.submitted.v1"
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
# A taken tracking code or rate slot costs one more try; both are rare.
_ATTEMPTS = 6


class RateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many reports from this client; retry after {retry_after_s}s")
        self.retry_after_s = retry_after_s


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different report."""


@dataclass(frozen=True)
class SubmitResult:
    report_id: str
    tracking_code: str
    reporter_token: str
    replayed: bool  # an earlier request with the same idempotency key made this report
    published: bool  # False: the outbox keeps the event for the sweeper


def fingerprint(
    draft: ReportDraft, identity: ReporterIdentity, files: Sequence[SafeFile] = ()
) -> str:
    """Of what the reporter sent: the language the request was answered in is not part
    of it, so a replay in another language is still the same report. The files count
    by their stored bytes' SHA-256 (a report without files fingerprints as before)."""
    sent = asdict(identity)
    sent.pop("language")
    parts: list[object] = [asdict(draft), sent]
    if files:
        parts.append(evidence.files_fingerprint(files))
    body = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class _Window:
    key: str
    ends: dt.datetime


def _rate_window(settings: Settings, client_id: str, now: dt.datetime) -> _Window:
    length = settings.rate_limit_window_s
    number = int(now.timestamp()) // length
    ends = dt.datetime.fromtimestamp((number + 1) * length, dt.UTC)
    return _Window(f"{pseudonym(settings.token_secret, 'client', client_id)}:{number}", ends)


def submitted_event(
    report: Report,
    outbox_id: str,
    now: dt.datetime,
    topic: str,
    attachment_ids: Sequence[str] = (),
) -> OutboxMessage:
    """The ``report.submitted`` CloudEvent: routing facts only, nothing private, and
    the ids of the files the submission committed (the route function promotes them)."""
    return OutboxMessage.cloud_event(
        outbox_id,
        topic,
        {
            "report_id": report.id,
            "tracking_code": report.tracking_code,
            "type": report.type.value,
            "category": report.category,
            "province_code": report.region.province_code,
            "regency_code": report.region.regency_code,
            "target_agency_id": report.target_agency_id,
            "attachment_ids": list(attachment_ids),
        },
        type=REPORT_SUBMITTED,
        source="//lapor/functions/submit",
        subject=f"reports/{report.id}",
        at=now,
    )


def submit_report(
    draft: ReportDraft,
    identity: ReporterIdentity,
    *,
    language: Language = "id",
    client_id: str,
    idempotency_key: str | None,
    store: ReportStore,
    publisher: Publisher,
    clock: Clock,
    settings: Settings,
    files: Sequence[SafeFile] = (),
    blobs: BlobStore | None = None,
) -> SubmitResult:
    """Accept a report in one commit, then publish ``report.submitted`` and the
    reporter's notification.

    ``files``: the report's files, already safe (shared.usecases.evidence.safe_files),
    staged in ``blobs`` before the commit that lists them and promoted right after it.
    A refused commit (the rate limit, a replay) leaves only staged objects under
    ``uploads/``, which the bucket's lifecycle deletes after a day; a replay answers
    with the first request's report, whose files are its own.

    ``language``: the one the request was answered in (the form's or the API's
    negotiated ``id``/``en``), kept with the identity for every message to the reporter.
    Nothing is read on the way in: the idempotency key, the tracking code and the
    client's rate-limit slot are all claimed by create preconditions in that one
    commit, and only a refused commit (which writes nothing) costs reads to learn why.
    """
    now = clock.now()
    key_hash = (
        pseudonym(settings.token_secret, "idempotency", idempotency_key)
        if idempotency_key
        else None
    )
    print_ = fingerprint(draft, identity, files)
    identity = replace(identity, language=language)
    window = _rate_window(settings, client_id, now)
    slot = secrets.randbelow(settings.rate_limit_submits)
    report_id = store.new_report_id()
    calendar, policy = settings.calendar(), settings.deadline_policy()
    pairs = evidence.new_attachments(files)
    attachments = tuple(attachment for attachment, _ in pairs)
    if pairs:
        if blobs is None:
            raise ValueError("files to store, and no blob store")
        evidence.stage(report_id, pairs, blobs)

    for _ in range(_ATTEMPTS):
        report, event = lifecycle.submit(
            draft, report_id, new_tracking_code(), now, calendar, policy, attachments
        )
        outbox = submitted_event(
            report,
            f"{report_id}.{event.seq}",
            now,
            settings.topic_report_submitted,
            [attachment.id for attachment in attachments],
        )
        record = (
            IdempotencyRecord(
                key_hash, print_, report_id, report.tracking_code, now + IDEMPOTENCY_TTL
            )
            if key_hash
            else None
        )
        submission = NewSubmission(
            report,
            event,
            identity,
            outbox,
            RateSlot(window.key, slot, window.ends),
            record,
            tallies=event_tallies(
                None, report, event, calendar, policy, figure_shards=settings.figure_shards
            ),
            notifications=notices_for(None, report, event, settings=settings),
        )
        try:
            store.create_submission(submission)
            break
        except IdempotencyKeyTaken as taken:
            return _replay(taken.previous, print_, settings)
        except RateSlotTaken:
            free = sorted(
                set(range(settings.rate_limit_submits)) - store.taken_rate_slots(window.key)
            )
            if not free:
                retry_after = max(1, int((window.ends - now).total_seconds()))
                raise RateLimited(retry_after) from None
            slot = secrets.choice(free)
        except TrackingCodeTaken:
            log.warning("tracking code collision, drawing another")
    else:
        raise RuntimeError("could not claim a tracking code and a rate-limit slot")

    if blobs is not None:
        evidence.promote_after_commit(report_id, report.attachments, blobs)
    # Accepted all the same if the bus refuses: the entries stay pending for the sweeper.
    published = publish_committed(publisher, (outbox, *submission.notifications), store)
    return SubmitResult(
        report_id=report_id,
        tracking_code=report.tracking_code,
        reporter_token=reporter_token(settings.token_secret, report_id),
        replayed=False,
        published=published,
    )


def _replay(previous: IdempotencyRecord, print_: str, settings: Settings) -> SubmitResult:
    if previous.fingerprint != print_:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different report")
    return SubmitResult(
        report_id=previous.report_id,
        tracking_code=previous.tracking_code,
        reporter_token=reporter_token(settings.token_secret, previous.report_id),
        replayed=True,
        published=True,
    )
