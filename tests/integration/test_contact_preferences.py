"""ContactPreferences: the fake held to the Firestore adapter on the real emulator
(the same assertions for both), then what the adapter costs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore import OPT_OUTS, FirestoreContactPreferences
from shared.tokens import agency_opt_out, reporter_opt_out
from tests.fakes import InMemoryContactPreferences
from tools.stack import Emulators

SECRET = "integration-secret-0123456789"
FIRST = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["fake", "firestore"])
def preferences(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield InMemoryContactPreferences()
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    yield FirestoreContactPreferences(client)
    client.close()


def test_an_opt_out_stops_exactly_its_recipient(preferences: Any) -> None:
    reporter_email = reporter_opt_out("Rk7mQ2xq9RjWz3Lp0aBc", "email")
    agency_address = agency_opt_out(SECRET, "dpupr-cianjur", "pengaduan@dpupr.example")
    assert not preferences.is_opted_out(reporter_email)

    preferences.opt_out(reporter_email, FIRST)
    preferences.opt_out(agency_address, FIRST)
    preferences.opt_out(reporter_email, FIRST + dt.timedelta(days=1))  # again: nothing new

    assert preferences.is_opted_out(reporter_email)
    assert preferences.is_opted_out(agency_address)
    others = [
        reporter_opt_out("Rk7mQ2xq9RjWz3Lp0aBc", "sms"),
        reporter_opt_out("AnotherReport0000000", "email"),
        agency_opt_out(SECRET, "dpupr-cianjur", "kadis@dpupr.example"),
        agency_opt_out(SECRET, "dinkes-cianjur", "pengaduan@dpupr.example"),
    ]
    assert [preferences.is_opted_out(who) for who in others] == [False] * 4


def test_firestore_keeps_the_first_time_at_one_read_and_one_write_each(
    clean_emulators: Emulators,
) -> None:
    client = firestore.Client(project=clean_emulators.project)
    preferences = FirestoreContactPreferences(client)
    who = reporter_opt_out("Rk7mQ2xq9RjWz3Lp0aBc", "email")
    preferences.opt_out(who, FIRST)
    preferences.opt_out(who, FIRST + dt.timedelta(hours=3))
    assert preferences.is_opted_out(who)
    stats = preferences.stats.snapshot()
    assert (stats.commits, stats.writes, stats.reads) == (2, 2, 1)
    stored = client.collection(OPT_OUTS).document(who.key).get().to_dict() or {}
    assert stored["at"] == FIRST
    assert stored["audience"] == "reporter" and stored["channel"] == "email"
    client.close()
