"""A report remembers the Idempotency-Keys of its last actions, and only those."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from shared.domain.calendar import WorkingCalendar
from shared.domain.report import (
    ACTION_KEYS_KEPT,
    ActionKey,
    ActionKeyReused,
    DeadlinePolicy,
    keyed_action,
    remember_key,
    submit,
)
from tests.builders import a_draft

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
REPORT, _ = submit(a_draft(), "r1", "K7M-2XQ-9RJ", NOW, WorkingCalendar(), DeadlinePolicy())


def test_a_remembered_key_names_its_event_and_refuses_another_request() -> None:
    key = ActionKey("k1", "asked-this")
    report = remember_key(REPORT, key, 5)

    assert keyed_action(report, key) == 5
    assert keyed_action(report, ActionKey("k2", "asked-this")) is None
    with pytest.raises(ActionKeyReused):
        keyed_action(report, dataclasses.replace(key, fingerprint="asked-that"))


def test_only_the_last_keys_are_kept() -> None:
    report = REPORT
    for n in range(ACTION_KEYS_KEPT + 3):
        report = remember_key(report, ActionKey(f"k{n}", "f"), n + 2)

    assert len(report.action_keys) == ACTION_KEYS_KEPT
    assert keyed_action(report, ActionKey("k0", "f")) is None  # the oldest, forgotten
    assert keyed_action(report, ActionKey(f"k{ACTION_KEYS_KEPT + 2}", "f")) == ACTION_KEYS_KEPT + 4
