"""The timeline's hash chain: what verifies, and every tampering that must not."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from types import MappingProxyType

from shared.domain import chain
from shared.domain.report import Action, Actor, Role, State, TimelineEvent

AT = dt.datetime(2025, 3, 4, 2, 30, 15, 123456, tzinfo=dt.UTC)


def _events() -> list[TimelineEvent]:
    plain = [
        TimelineEvent(
            1, Action.SUBMIT, AT, Actor(Role.REPORTER, "reporter"), None, State.SUBMITTED
        ),
        TimelineEvent(
            2,
            Action.DISPOSITION,
            AT + dt.timedelta(hours=1),
            Actor(Role.SYSTEM, "system:route"),
            State.SUBMITTED,
            State.DISPOSITIONED,
            data=MappingProxyType({"method": "rule", "agency_id": "dinas-pu", "rank": 2}),
        ),
        TimelineEvent(
            3,
            Action.FOLLOW_UP,
            AT + dt.timedelta(days=1),
            Actor(Role.UNIT_OFFICER, "bidang-jalan"),
            State.DISPOSITIONED,
            State.IN_PROGRESS,
            message="Jalan di depan rumah Pak Budi sudah ditambal",
            reason="pemeliharaan",
        ),
    ]
    sealed: list[TimelineEvent] = []
    head = chain.GENESIS
    for number, event in enumerate(plain):
        committed = chain.seal(event, head, f"salt-{number}")
        assert committed.hash is not None
        head = committed.hash
        sealed.append(committed)
    return sealed


def test_an_untouched_export_verifies_and_names_its_head() -> None:
    events = _events()
    verdict = chain.verify(chain.export(events))
    assert verdict.ok and verdict.problems == () and verdict.legacy == ()
    assert verdict.head == events[-1].hash
    assert events[0].prev_hash == chain.GENESIS and events[1].prev_hash == events[0].hash


def test_a_sealed_event_equals_the_event_it_was() -> None:
    event = _events()[2]
    assert event == dataclasses.replace(event, prev_hash=None, hash=None, salt=None)


def test_altering_any_field_of_any_event_is_detected() -> None:
    entries = chain.export(_events())
    for index, entry in enumerate(entries):
        for name in entry["fields"]:
            altered = copy.deepcopy(entries)
            part = altered[index]["fields"][name]
            part["value"] = "something else" if part["value"] != "something else" else "x"
            verdict = chain.verify(altered)
            assert not verdict.ok, (index, name)
            assert any("altered" in problem for problem in verdict.problems)


def test_rehashing_an_altered_event_breaks_the_link_to_the_next() -> None:
    events = _events()
    forged = chain.seal(
        dataclasses.replace(events[1], data=MappingProxyType({"method": "manual"})),
        events[0].hash or "",
        "forger's salt",
    )
    verdict = chain.verify(chain.export([events[0], forged, events[2]]))
    assert not verdict.ok
    assert verdict.problems == ("event 3: does not follow the event before it",)


def test_reordering_events_is_detected() -> None:
    events = _events()
    assert not chain.verify(chain.export([events[0], events[2], events[1]])).ok


def test_removing_an_event_is_detected_wherever_it_was_but_the_tail() -> None:
    events = _events()
    assert not chain.verify(chain.export(events[1:])).ok
    assert not chain.verify(chain.export([events[0], events[2]])).ok
    # The tail is caught against a head kept from an earlier export.
    truncated = chain.verify(chain.export(events[:2]))
    assert truncated.ok and truncated.head != events[-1].hash


def test_adding_a_field_is_detected() -> None:
    entries = chain.export(_events())
    entries[0]["fields"]["reason"] = {"value": "ditambahkan", "salt": "s"}
    assert not chain.verify(entries).ok


def test_malformed_entries_are_reported_not_raised() -> None:
    entries = chain.export(_events())
    entries[1]["fields"] = {"action": {"nothing": 1}}
    verdict = chain.verify(entries)
    assert not verdict.ok and "event 2: malformed" in verdict.problems


def test_a_partial_export_verifies_and_hides_what_it_omits() -> None:
    events = _events()
    entries = chain.export(events, shown=lambda event: {"action", "at", "from_state", "to_state"})
    assert chain.verify(entries).ok
    text = json.dumps(entries)
    assert "Pak Budi" not in text and "bidang-jalan" not in text
    # Neither the event's salt nor the hidden fields' salts leave: a guess of the hidden
    # message cannot be checked against its commitment.
    for event in events:
        assert event.salt is not None and event.salt not in text
        assert chain.field_salt(event.salt, "message") not in text
    guess = events[2].message
    hidden = entries[2]["fields"]["message"]["commitment"]
    assert hidden != chain.commitment("message", guess, "")
    assert hidden == chain.commitment("message", guess, chain.field_salt("salt-2", "message"))


def test_events_written_before_the_chain_read_as_legacy_and_the_chain_starts_after() -> None:
    old = [
        dataclasses.replace(event, prev_hash=None, hash=None, salt=None) for event in _events()[:2]
    ]
    later = chain.seal(_events()[2], chain.GENESIS, "salt")
    verdict = chain.verify(chain.export([*old, later]))
    assert verdict.ok and verdict.legacy == (1, 2) and verdict.head == later.hash


def test_stripping_the_hash_of_a_chained_event_is_detected() -> None:
    events = _events()
    stripped = dataclasses.replace(events[0], prev_hash=None, hash=None, salt=None)
    # Made legacy, the first event hides nothing: the second no longer starts a chain.
    assert not chain.verify(chain.export([stripped, *events[1:]])).ok
    middle = dataclasses.replace(events[1], prev_hash=None, hash=None, salt=None)
    verdict = chain.verify(chain.export([events[0], middle, events[2]]))
    assert not verdict.ok and "event 2: unchained after the chain began" in verdict.problems


def test_the_canonical_form_sorts_keys_and_has_no_whitespace() -> None:
    assert chain.canonical({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()


def test_only_the_report_store_writes_timeline_events() -> None:
    """Every event is chained where the store commits it; code elsewhere that wrote to
    a report's events collection would commit events the chain never saw."""
    root = Path(__file__).resolve().parents[2]
    writers = {
        path.relative_to(root).as_posix()
        for folder in ("shared", "functions", "tools")
        for path in (root / folder).rglob("*.py")
        if re.search(r"collection\((EVENTS|[\"']events[\"'])\)", path.read_text(encoding="utf-8"))
    }
    assert writers == {"shared/adapters/firestore.py"}
