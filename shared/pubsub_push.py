"""What a Pub/Sub push tells a function beyond its data: whether it was dead-lettered.

Pure, so the route and notify entry points share one reading of it.
"""

from __future__ import annotations

from collections.abc import Mapping

# Attributes Pub/Sub adds to a message it forwards to a dead-letter topic (production
# and the emulator alike; measured on the emulator).
DEAD_LETTER_SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
DEAD_LETTER_DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"


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
