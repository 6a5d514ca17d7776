"""Reading a Pub/Sub push envelope, the one way route and notify share."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shared.pubsub_push import MalformedPush, read_push

TOPIC = "report-submitted-dead-letter"


def envelope(data: Any, attributes: Any = None) -> dict[str, Any]:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    message: dict[str, Any] = {"data": base64.b64encode(raw).decode(), "messageId": "1"}
    if attributes is not None:
        message["attributes"] = attributes
    return {"message": message, "subscription": "projects/p/subscriptions/route"}


def test_a_push_gives_its_json_data_and_its_attributes() -> None:
    pushed = read_push(envelope({"report_id": "abc"}, {"ce-id": "abc.3"}), None, TOPIC)
    assert pushed.data == {"report_id": "abc"}
    assert pushed.attributes == {"ce-id": "abc.3"}
    assert (pushed.dead_lettered, pushed.delivery_attempts) == (False, None)


def test_a_push_without_attributes_has_none() -> None:
    assert read_push(envelope([1, 2]), None, TOPIC).attributes == {}


def test_the_dead_letter_attributes_mark_a_push_and_count_the_attempts() -> None:
    attributes = {
        "CloudPubSubDeadLetterSourceSubscription": "route",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5",
    }
    pushed = read_push(envelope({}, attributes), None, TOPIC)
    assert (pushed.dead_lettered, pushed.delivery_attempts) == (True, 5)


def test_under_eventarc_the_source_naming_the_dead_letter_topic_marks_a_push() -> None:
    dead = read_push(envelope({}), f"//pubsub.googleapis.com/projects/p/topics/{TOPIC}", TOPIC)
    live = read_push(envelope({}), "//pubsub.googleapis.com/projects/p/topics/x", TOPIC)
    assert dead.dead_lettered and not live.dead_lettered


@pytest.mark.parametrize(
    ("event_data", "why"),
    [
        (None, "no Pub/Sub message"),
        ({}, "no Pub/Sub message"),
        ({"message": "x"}, "no Pub/Sub message"),
        ({"message": {}}, "no data"),
        ({"message": {"data": ""}}, "no data"),
        ({"message": {"data": "%%%"}}, "not base64 JSON"),
        (envelope(b"not json"), "not base64 JSON"),
        (envelope(b"\xff\xfe"), "not base64 JSON"),
        (envelope({}, ["not", "a", "map"]), "attributes are not a map"),
    ],
)
def test_an_envelope_no_retry_can_fix_says_why(event_data: Any, why: str) -> None:
    with pytest.raises(MalformedPush, match=why):
        read_push(event_data, None, TOPIC)
