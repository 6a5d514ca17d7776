"""Helpers the functional tests share."""

from __future__ import annotations

from google.cloud import firestore

# Every collection the submit path writes (events are counted across reports).
WRITTEN = ("reports", "identities", "outbox", "idempotency", "tracking_codes", "rate_limits")


def counts(db: firestore.Client) -> dict[str, int]:
    """How many documents each written collection holds: a refusal must change none."""
    found = {name: len(list(db.collection(name).stream())) for name in WRITTEN}
    found["events"] = len(list(db.collection_group("events").stream()))
    return found
