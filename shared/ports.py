"""The ports the use cases talk through; adapters implement them, fakes stand in for tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Report, TimelineEvent


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


@dataclass(frozen=True)
class OutboxMessage:
    """An event to publish, committed with the change that caused it (transactional outbox)."""

    id: str
    topic: str
    data: Mapping[str, object]
    attributes: Mapping[str, str]
    created_at: dt.datetime


@dataclass(frozen=True)
class IdempotencyRecord:
    key_hash: str
    fingerprint: str  # of the request body: the same key with another body is refused
    report_id: str
    tracking_code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class RateWindow:
    key: str  # client and window, e.g. "<client hash>:<window number>"
    expires_at: dt.datetime


@dataclass(frozen=True)
class NewSubmission:
    """Everything one accepted submission writes, in one commit."""

    report: Report
    event: TimelineEvent
    identity: ReporterIdentity
    outbox: OutboxMessage
    rate_window: RateWindow
    idempotency: IdempotencyRecord | None = None


@dataclass(frozen=True)
class SubmissionPrecheck:
    previous: IdempotencyRecord | None = None
    submits_in_window: int = 0


class TrackingCodeTaken(Exception):
    """Another report already holds this tracking code; draw a new one."""


class IdempotencyKeyTaken(Exception):
    """A concurrent request with the same idempotency key committed first."""


class PublishFailed(Exception):
    """The message bus did not accept the message; the outbox keeps it for the sweeper."""


@dataclass(frozen=True)
class Change:
    """What one transition writes, atomically: the report, its event, and the outbox.

    ``settle`` names outbox entries this change has dealt with (the route function
    settles the ``report.submitted`` entry it consumed), so the sweeper leaves them.
    """

    report: Report
    event: TimelineEvent
    outbox: tuple[OutboxMessage, ...] = ()
    settle: tuple[str, ...] = ()


class ReportNotFound(Exception):
    pass


class ReportStore(Protocol):
    def new_report_id(self) -> str: ...

    def precheck_submission(
        self, idempotency_key_hash: str | None, rate_window_key: str
    ) -> SubmissionPrecheck: ...

    def create_submission(self, submission: NewSubmission) -> None:
        """Commit all of it or nothing; raise TrackingCodeTaken or IdempotencyKeyTaken."""
        ...

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None: ...

    def find_by_tracking_code(self, tracking_code: str) -> Report | None: ...

    def get(self, report_id: str) -> Report | None: ...

    def timeline(self, report_id: str) -> Sequence[TimelineEvent]: ...

    def identity(self, report_id: str) -> ReporterIdentity | None: ...

    def transition(self, report_id: str, decide: Callable[[Report], Change]) -> Change:
        """Read the report, let ``decide`` compute the change, and commit it atomically.

        Runs in a transaction: a concurrent change makes ``decide`` run again on the
        fresh report, so no update is lost. ``decide`` may raise to change nothing
        (a LifecycleError, say); that exception propagates. ReportNotFound if absent.
        """
        ...


class Publisher(Protocol):
    def publish(self, message: OutboxMessage) -> None:
        """Return once the bus has accepted the message; raise PublishFailed otherwise."""
        ...


@dataclass
class FixedClock:
    """A clock for tests and benchmarks that moves only when told."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)
