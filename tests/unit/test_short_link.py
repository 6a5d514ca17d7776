"""The short private link of an SMS: a token derived from the reporter token (no
storage), checked in constant time, and a path the citizen site routes."""

from __future__ import annotations

import datetime as dt

from shared.config import Settings
from shared.ports import FixedClock
from shared.tokens import (
    SHORT_TOKEN_LENGTH,
    is_short_reporter_token,
    reporter_token,
    short_reporter_token,
)
from shared.usecases.sms import short_link_path, short_private_link, split_short_link
from shared.usecases.submit import submit_report
from shared.usecases.track import open_short_link
from shared.web.submit_app import APP
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher, InMemoryReportStore

SECRET = "unit-test-secret-0123456789"
SETTINGS = Settings(token_secret=SECRET)


def test_the_short_token_is_derived_short_and_unambiguous() -> None:
    token = short_reporter_token(SECRET, "report-1")
    assert token == short_reporter_token(SECRET, "report-1")  # nothing stored: derived
    assert len(token) == SHORT_TOKEN_LENGTH
    assert set(token) <= set("0123456789abcdefghjkmnpqrstvwxyz")  # no i, l, o, u
    assert token != short_reporter_token(SECRET, "report-2")
    assert token != short_reporter_token("another-secret-0123456789", "report-1")
    assert token not in reporter_token(SECRET, "report-1")


def test_only_its_own_short_token_opens_a_report() -> None:
    token = short_reporter_token(SECRET, "report-1")
    assert is_short_reporter_token(SECRET, "report-1", token)
    assert is_short_reporter_token(SECRET, "report-1", token.upper())  # typed from a phone
    assert not is_short_reporter_token(SECRET, "report-2", token)
    assert not is_short_reporter_token(SECRET, "report-1", token[:-1] + "0")
    assert not is_short_reporter_token(SECRET, "report-1", None)
    assert not is_short_reporter_token(SECRET, "report-1", "")


def test_the_link_is_the_compact_code_and_the_token_on_the_base_url() -> None:
    token = short_reporter_token(SECRET, "report-1")
    link = short_private_link("https://lapor.example.id/", SECRET, "report-1", "K7M-2XQ-9RJ")
    assert link == f"https://lapor.example.id/l/K7M2XQ9RJ-{token}"
    assert short_link_path("K7M-2XQ-9RJ", token) == f"/l/K7M2XQ9RJ-{token}"
    assert split_short_link(f"K7M2XQ9RJ-{token}") == ("K7M2XQ9RJ", token)
    assert split_short_link("K7M-2XQ-9RJ-abc") == ("K7M-2XQ-9RJ", "abc")
    assert split_short_link("K7M2XQ9RJ") is None
    assert split_short_link("K7M2XQ9RJ-") is None


def test_the_submit_app_routes_the_short_path() -> None:
    adapter = APP.urls.bind("lapor.example.id")
    endpoint, values = adapter.match(short_link_path("K7M-2XQ-9RJ", "0123456789"))
    assert endpoint == "short_link" and values == {"link": "K7M2XQ9RJ-0123456789"}


def test_opening_a_short_link_gives_the_reporter_token_only_for_its_report() -> None:
    store = InMemoryReportStore()
    clock = FixedClock(dt.datetime(2025, 3, 4, 2, 0, tzinfo=dt.UTC))
    result = submit_report(
        a_draft(),
        an_identity(),
        client_id="198.51.100.7",
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=clock,
        settings=SETTINGS,
    )
    token = short_reporter_token(SECRET, result.report_id)
    reads = store.reads
    opened = open_short_link(result.tracking_code, token, store=store, settings=SETTINGS)
    assert opened == result.reporter_token
    wrong = open_short_link(result.tracking_code, "0123456789", store=store, settings=SETTINGS)
    unknown = open_short_link("K7M-2XQ-9RJ", token, store=store, settings=SETTINGS)
    assert wrong is None and unknown is None
    assert store.reads - reads == 3  # one read each, whatever the answer
