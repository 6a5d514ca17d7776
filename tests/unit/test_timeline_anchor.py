"""The daily anchor of the timelines: its root, its ids, and what the verifier catches."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from shared.domain import anchor, chain
from shared.domain.report import Action, Actor, Role, State, TimelineEvent
from tools import verify_timeline

DAY = dt.date(2026, 10, 8)
AT = dt.datetime(2026, 10, 8, 3, 0, tzinfo=dt.UTC)
INDEX_FILE = Path(__file__).resolve().parents[2] / "infra" / "firestore_indexes.json"


def export_of(code: str, *, events: int = 3) -> dict[str, Any]:
    sealed, head = [], chain.GENESIS
    for seq in range(1, events + 1):
        plain = TimelineEvent(
            seq,
            Action.SUBMIT if seq == 1 else Action.FOLLOW_UP,
            AT + dt.timedelta(hours=seq),
            Actor(Role.REPORTER if seq == 1 else Role.UNIT_OFFICER, "someone"),
            None if seq == 1 else State.SUBMITTED,
            State.SUBMITTED,
            message=None if seq == 1 else f"pesan {seq}",
        )
        event = chain.seal(plain, head, f"{code}-salt-{seq}")
        assert event.hash is not None
        sealed.append(event)
        head = event.hash
    return {"tracking_code": code, "events": chain.export(sealed), "head": head}


def anchor_of(*exports: dict[str, Any], confidential: tuple[str, ...] = ()) -> dict[str, Any]:
    heads = []
    for export in exports:
        first = anchor.first_chained_hash(export["events"])
        code = export["tracking_code"]
        public_id = anchor.public_id(code, code in confidential, first)
        assert public_id is not None
        heads.append(anchor.Head(public_id, export["head"]))
    return anchor.document(DAY, AT, heads)


def test_the_root_is_over_the_day_and_the_entries_sorted_by_id() -> None:
    a, b = export_of("AAA-AAA-AAA"), export_of("BBB-BBB-BBB")
    one, other = anchor_of(a, b), anchor_of(b, a)

    assert one == other
    assert [e["id"] for e in one["entries"]] == ["AAA-AAA-AAA", "BBB-BBB-BBB"]
    assert one["root"] == anchor.root("2026-10-08", one["entries"])
    assert one["root"] != anchor.root("2026-10-09", one["entries"])
    assert one["count"] == 2 and one["day"] == "2026-10-08"


def test_a_confidential_report_is_listed_by_its_first_events_hash_not_its_code() -> None:
    secret = export_of("CCC-CCC-CCC")
    published = anchor_of(secret, confidential=("CCC-CCC-CCC",))

    assert "CCC-CCC-CCC" not in json.dumps(published)
    assert published["entries"] == [{"id": secret["events"][0]["hash"], "head": secret["head"]}]
    assert anchor.public_id("CCC-CCC-CCC", True, None) is None
    assert anchor.check(published, secret) == []  # the reporter's export finds it


def test_an_export_that_still_holds_the_anchored_head_verifies() -> None:
    export = export_of("AAA-AAA-AAA")
    published = anchor_of(export, export_of("BBB-BBB-BBB"))
    assert anchor.check(published, export) == []

    later = export_of("AAA-AAA-AAA", events=4)  # events added since: still holds the head
    assert anchor.check(anchor_of(export), later) == []


def test_removing_the_last_event_after_the_anchor_is_caught() -> None:
    export = export_of("AAA-AAA-AAA")
    published = anchor_of(export)
    truncated = {**export, "events": export["events"][:-1], "head": export["events"][-2]["hash"]}

    assert verify_timeline.check(truncated) == []  # verifies on its own
    problems = verify_timeline.check(truncated, anchors=[published])
    assert problems == [
        "the head anchored on 2026-10-08 is not in this export (events removed or changed since)"
    ]


def test_a_changed_anchor_or_a_report_it_does_not_list_is_refused() -> None:
    export = export_of("AAA-AAA-AAA")
    published = anchor_of(export)

    forged = copy.deepcopy(published)
    forged["entries"][0]["head"] = "0" * 64
    assert "its entries do not match its root" in anchor.check(forged, export)[0]
    assert anchor.check(published, export_of("BBB-BBB-BBB")) == [
        "the anchor of 2026-10-08 has no entry for this report"
    ]
    assert anchor.check({"day": "2026-10-08"}, export) == ["not an anchor: no entries"]
    assert anchor.check({"day": 1, "entries": [{"id": 2}]}, export) == [
        "not an anchor: malformed day or entries"
    ]


def test_an_anchor_pages_entries_are_not_indexed() -> None:
    # 5,000 entries a page would otherwise cost an index entry each; nothing queries them.
    overrides = json.loads(INDEX_FILE.read_text())["fieldOverrides"]
    exempt = {(o["collectionGroup"], o["fieldPath"]) for o in overrides if o.get("indexes") == []}
    assert ("exports", "entries") in exempt
