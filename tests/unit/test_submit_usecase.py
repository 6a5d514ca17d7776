"""The submit use case with in-memory fakes: one commit, safe replays, limits, and a
publish failure that loses nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.config import Settings
from shared.domain.report import ReportDraft, State
from shared.ports import FixedClock
from shared.usecases.submit import (
    IdempotencyKeyReused,
    RateLimited,
    SubmitResult,
    submit_report,
)
from shared.usecases.track import track_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher, InMemoryReportStore

NOW = dt.datetime(2025, 3, 4, 2, 30, tzinfo=dt.UTC)
SETTINGS = Settings(token_secret="unit-test-secret-0123456789", rate_limit_submits=3)
DRAFT = a_draft()
IDENTITY = an_identity(name="Siti Rahayu")


@pytest.fixture
def store() -> InMemoryReportStore:
    return InMemoryReportStore()


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


def submit(
    store: InMemoryReportStore,
    publisher: InMemoryPublisher,
    *,
    draft: ReportDraft = DRAFT,
    key: str | None = None,
    client: str = "198.51.100.7",
    clock: FixedClock | None = None,
) -> SubmitResult:
    return submit_report(
        draft,
        IDENTITY,
        client_id=client,
        idempotency_key=key,
        store=store,
        publisher=publisher,
        clock=clock or FixedClock(NOW),
        settings=SETTINGS,
    )


def test_one_submit_is_one_commit_with_report_event_identity_and_outbox(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    result = submit(store, publisher)
    assert store.commits == 1
    report = store.reports[result.report_id]
    assert report.state is State.SUBMITTED and report.tracking_code == result.tracking_code
    assert len(store.events[result.report_id]) == 1
    assert store.identities[result.report_id] == IDENTITY
    # Each waits for its consumer to settle it (route, notify): publishing deletes
    # nothing, so the submission stays one commit.
    assert list(store.outbox) == [f"{result.report_id}.1", f"{result.report_id}.1.reporter"]
    assert result.published
    assert [(m.id, m.data.get("kind")) for m in publisher.published] == [
        (f"{result.report_id}.1", None),
        (f"{result.report_id}.1.reporter", "report.accepted"),
    ]
    assert all("Siti" not in str(m.data) for m in publisher.published)


def test_replay_with_same_key_returns_the_same_report(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    first = submit(store, publisher, key="double-tap-0001")
    second = submit(store, publisher, key="double-tap-0001")
    assert second.replayed and not first.replayed
    assert (second.report_id, second.tracking_code, second.reporter_token) == (
        first.report_id,
        first.tracking_code,
        first.reporter_token,
    )
    assert store.commits == 1 and len(publisher.published) == 2  # announced once


def test_same_key_with_a_different_body_is_refused(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    submit(store, publisher, key="double-tap-0002")
    other = a_draft(title="Judul yang lain sama sekali")
    with pytest.raises(IdempotencyKeyReused):
        submit(store, publisher, draft=other, key="double-tap-0002")
    assert store.commits == 1


def test_different_keys_make_different_reports(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    first = submit(store, publisher, key="double-tap-0003")
    second = submit(store, publisher, key="double-tap-0004")
    assert first.tracking_code != second.tracking_code and store.commits == 2


def test_rate_limit_refuses_before_writing(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    for _ in range(SETTINGS.rate_limit_submits):
        submit(store, publisher)
    with pytest.raises(RateLimited) as limited:
        submit(store, publisher)
    assert 0 < limited.value.retry_after_s <= SETTINGS.rate_limit_window_s
    assert store.commits == SETTINGS.rate_limit_submits
    # Another client, and the same client in the next window, are not limited.
    submit(store, publisher, client="198.51.100.8")
    later = FixedClock(NOW + dt.timedelta(seconds=SETTINGS.rate_limit_window_s))
    submit(store, publisher, clock=later)


def test_a_replay_is_answered_even_when_rate_limited(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    first = submit(store, publisher, key="double-tap-0005")
    for _ in range(SETTINGS.rate_limit_submits - 1):
        submit(store, publisher)
    assert submit(store, publisher, key="double-tap-0005").tracking_code == first.tracking_code


def test_publish_failure_still_accepts_and_keeps_the_outbox(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    publisher.fail = True
    result = submit(store, publisher)
    assert not result.published
    assert result.report_id in store.reports
    assert set(store.outbox) == {f"{result.report_id}.1", f"{result.report_id}.1.reporter"}
    assert store.commits == 1


def test_the_reporter_token_opens_the_private_view(
    store: InMemoryReportStore, publisher: InMemoryPublisher
) -> None:
    result = submit(store, publisher)
    clock = FixedClock(NOW)
    private = track_report(
        result.tracking_code, result.reporter_token, store=store, settings=SETTINGS, clock=clock
    )
    public = track_report(result.tracking_code, None, store=store, settings=SETTINGS, clock=clock)
    # Masked: the submit function cannot open the identity it sealed.
    assert private is not None and private.report["reporter"]["name"] == "S. R."
    assert public is not None and "reporter" not in public.report
