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
class RateSlot:
    """One of the ``limit`` submissions a client may make in a window.

    Each accepted report claims a slot document with a create precondition in the
    report's own commit, so the limit costs no read on the way in: a commit fails
    only when the slot is taken, and only then are the taken slots counted.
    """

    window_key: str  # "<client pseudonym>:<window number>"
    slot: int
    expires_at: dt.datetime

    @property
    def id(self) -> str:
        return f"{self.window_key}:{self.slot}"


@dataclass(frozen=True)
class NewSubmission:
    """Everything one accepted submission writes, in one commit."""

    report: Report
    event: TimelineEvent
    identity: ReporterIdentity
    outbox: OutboxMessage
    rate_slot: RateSlot
    idempotency: IdempotencyRecord | None = None


class TrackingCodeTaken(Exception):
    """Another report already holds this tracking code; draw a new one."""


class IdempotencyKeyTaken(Exception):
    """An earlier request with the same idempotency key committed first."""

    def __init__(self, previous: IdempotencyRecord) -> None:
        super().__init__(previous.key_hash)
        self.previous = previous


class RateSlotTaken(Exception):
    """The client already used this rate-limit slot in this window; pick a free one."""


class PublishFailed(Exception):
    """The message bus did not accept the message; the outbox keeps it for the sweeper."""


@dataclass(frozen=True)
class Tally:
    """A running total moved in the same commit as the change that explains it."""

    counter: str  # a family of totals, e.g. "routing_stats"
    key: str  # which total, e.g. a routing rule id
    field: str  # e.g. "not_our_authority"
    by: int = 1


@dataclass(frozen=True)
class Change:
    """What one transition writes, atomically: the report, its event, the outbox, and
    the running totals the event moves.

    ``settle`` names outbox entries this change has dealt with (the route function
    settles the ``report.submitted`` entry it consumed), so the sweeper leaves them.
    """

    report: Report
    event: TimelineEvent
    outbox: tuple[OutboxMessage, ...] = ()
    settle: tuple[str, ...] = ()
    tallies: tuple[Tally, ...] = ()


class ReportNotFound(Exception):
    pass


class ReportStore(Protocol):
    def new_report_id(self) -> str: ...

    def create_submission(self, submission: NewSubmission) -> None:
        """Commit all of it or nothing.

        When a claim is taken, raise IdempotencyKeyTaken (checked first: a replay wins),
        RateSlotTaken or TrackingCodeTaken; nothing is written then.
        """
        ...

    def taken_rate_slots(self, window_key: str) -> frozenset[int]: ...

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
