"""In-memory stand-ins for the ports, for unit tests only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Report, TimelineEvent
from shared.ports import (
    Change,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    NewSubmission,
    OutboxMessage,
    PublishFailed,
    ReportNotFound,
    SubmissionPrecheck,
    TrackingCodeTaken,
)


@dataclass
class InMemoryReportStore:
    reports: dict[str, Report] = field(default_factory=dict)
    events: dict[str, list[TimelineEvent]] = field(default_factory=dict)
    identities: dict[str, ReporterIdentity] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    rate_counts: dict[str, int] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    commits: int = 0

    def new_report_id(self) -> str:
        return uuid.uuid4().hex

    def precheck_submission(
        self, idempotency_key_hash: str | None, rate_window_key: str
    ) -> SubmissionPrecheck:
        previous = self.idempotency.get(idempotency_key_hash) if idempotency_key_hash else None
        return SubmissionPrecheck(previous, self.rate_counts.get(rate_window_key, 0))

    def create_submission(self, submission: NewSubmission) -> None:
        report = submission.report
        if any(r.tracking_code == report.tracking_code for r in self.reports.values()):
            raise TrackingCodeTaken(report.tracking_code)
        record = submission.idempotency
        if record and record.key_hash in self.idempotency:
            raise IdempotencyKeyTaken(record.key_hash)
        self.commits += 1
        self.reports[report.id] = report
        self.events[report.id] = [submission.event]
        self.identities[report.id] = submission.identity
        self.outbox[submission.outbox.id] = submission.outbox
        if record:
            self.idempotency[record.key_hash] = record
        key = submission.rate_window.key
        self.rate_counts[key] = self.rate_counts.get(key, 0) + 1

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None:
        return self.idempotency.get(key_hash)

    def find_by_tracking_code(self, tracking_code: str) -> Report | None:
        return next((r for r in self.reports.values() if r.tracking_code == tracking_code), None)

    def get(self, report_id: str) -> Report | None:
        return self.reports.get(report_id)

    def timeline(self, report_id: str) -> Sequence[TimelineEvent]:
        return list(self.events.get(report_id, []))

    def identity(self, report_id: str) -> ReporterIdentity | None:
        return self.identities.get(report_id)

    def transition(self, report_id: str, decide: Callable[[Report], Change]) -> Change:
        report = self.reports.get(report_id)
        if report is None:
            raise ReportNotFound(report_id)
        change = decide(report)
        self.commits += 1
        self.reports[report_id] = change.report
        self.events[report_id].append(change.event)
        for message in change.outbox:
            self.outbox[message.id] = message
        for message_id in change.settle:
            self.settled.add(message_id)
        return change


@dataclass
class InMemoryPublisher:
    published: list[OutboxMessage] = field(default_factory=list)
    fail: bool = False

    def publish(self, message: OutboxMessage) -> None:
        if self.fail:
            raise PublishFailed("bus unavailable")
        self.published.append(message)
