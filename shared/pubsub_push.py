"""Reading a Pub/Sub push: the one reading every Pub/Sub-triggered function shares.

functions-framework turns the push envelope (``{"message": {"data": <base64>,
"attributes": {...}}, "subscription": ...}``) into a CloudEvent whose data is that
envelope, as Eventarc does in production. :func:`read_push` turns it into the
message's JSON data, its attributes, and whether Pub/Sub dead-lettered it; each use
case then validates its own payload (pydantic) and raises :class:`MalformedPush` for
one that no retry can fix. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

# Attributes Pub/Sub adds to a message it forwards to a dead-letter topic (production
# and the emulator alike; measured on the emulator).
DEAD_LETTER_SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
DEAD_LETTER_DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"


class MalformedPush(ValueError):
    """A message no retry can fix: the function logs why at ERROR and acknowledges it."""


@dataclass(frozen=True)
class Pushed:
    data: Any  # the message data, decoded from base64 JSON
    attributes: Mapping[str, str]
    # Pushed from the dead-letter topic: Pub/Sub gave up delivering it to the consumer.
    dead_lettered: bool = False
    delivery_attempts: int | None = None  # how often Pub/Sub tried, when dead-lettered


def read_push(event_data: Any, source: str | None, dead_letter_topic: str) -> Pushed:
    """The CloudEvent's data (the push envelope) and ``source`` as a :class:`Pushed`,
    or :class:`MalformedPush` saying why not. ``dead_letter_topic`` is the topic the
    subscription dead-letters to: under Eventarc the source names it."""
    if not isinstance(event_data, Mapping) or not isinstance(event_data.get("message"), Mapping):
        raise MalformedPush("the event carries no Pub/Sub message")
    message = event_data["message"]
    raw = message.get("data")
    if not isinstance(raw, str) or not raw:
        raise MalformedPush("the Pub/Sub message has no data")
    try:
        data = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError) as exc:  # JSONDecodeError and UnicodeError too
        raise MalformedPush(f"the message data is not base64 JSON: {exc}") from None
    given = message.get("attributes")
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise MalformedPush("the message attributes are not a map")
    attributes = {str(name): str(value) for name, value in given.items()}
    return Pushed(
        data,
        attributes,
        dead_lettered=is_dead_letter(attributes, source, dead_letter_topic),
        delivery_attempts=dead_letter_attempts(attributes),
    )


def is_dead_letter(
    attributes: Mapping[str, str], source: str | None, dead_letter_topic: str
) -> bool:
    """True for a message Pub/Sub dead-lettered: it carries the dead-letter attributes,
    or (Eventarc in production) the CloudEvent source names the dead-letter topic."""
    if DEAD_LETTER_SOURCE_SUBSCRIPTION in attributes:
        return True
    return bool(source) and str(source).endswith(f"/topics/{dead_letter_topic}")


def dead_letter_attempts(attributes: Mapping[str, str]) -> int | None:
    try:
        return int(attributes[DEAD_LETTER_DELIVERY_COUNT])
    except (KeyError, ValueError):
        return None


def invalid(what: str, error: ValidationError) -> MalformedPush:
    """A payload that failed its use case's model, as a MalformedPush naming the fields."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'data'}: {e['msg']}" for e in error.errors()
    )
    return MalformedPush(f"the message data is not a {what}: {problems}")
