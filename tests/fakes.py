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
    RateSlotTaken,
    ReportNotFound,
    TrackingCodeTaken,
)


@dataclass
class InMemoryReportStore:
    reports: dict[str, Report] = field(default_factory=dict)
    events: dict[str, list[TimelineEvent]] = field(default_factory=dict)
    identities: dict[str, ReporterIdentity] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    rate_slots: dict[str, set[int]] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    tallies: dict[tuple[str, str, str], int] = field(default_factory=dict)
    commits: int = 0

    def new_report_id(self) -> str:
        return uuid.uuid4().hex

    def create_submission(self, submission: NewSubmission) -> None:
        report = submission.report
        record = submission.idempotency
        if record and record.key_hash in self.idempotency:
            raise IdempotencyKeyTaken(self.idempotency[record.key_hash])
        slot = submission.rate_slot
        if slot.slot in self.rate_slots.get(slot.window_key, set()):
            raise RateSlotTaken(slot.id)
        if any(r.tracking_code == report.tracking_code for r in self.reports.values()):
            raise TrackingCodeTaken(report.tracking_code)
        self.commits += 1
        self.reports[report.id] = report
        self.events[report.id] = [submission.event]
        self.identities[report.id] = submission.identity
        self.outbox[submission.outbox.id] = submission.outbox
        if record:
            self.idempotency[record.key_hash] = record
        self.rate_slots.setdefault(slot.window_key, set()).add(slot.slot)

    def taken_rate_slots(self, window_key: str) -> frozenset[int]:
        return frozenset(self.rate_slots.get(window_key, set()))

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
        for tally in change.tallies:
            key = (tally.counter, tally.key, tally.field)
            self.tallies[key] = self.tallies.get(key, 0) + tally.by
        return change


@dataclass
class InMemoryPublisher:
    published: list[OutboxMessage] = field(default_factory=list)
    fail: bool = False

    def publish(self, message: OutboxMessage) -> None:
        if self.fail:
            raise PublishFailed("bus unavailable")
        self.published.append(message)
