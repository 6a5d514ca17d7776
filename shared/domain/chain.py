"""A report's timeline as a hash chain, and how anyone verifies an export of it.

Each event's hash covers the hash of the event before it, its own number and a
commitment to each of its fields, so altering, reordering or removing an event breaks
every hash after it (docs/timeline-integrity.md publishes the procedure).

A field is committed as ``sha256(canonical([name, value, field salt]))``. The field
salt is derived from a random salt kept secret with the event, one per field, so an
export can disclose a field (its value and field salt) to one audience and only its
commitment to another: without the salt, the commitment of a hidden reason or message
cannot be used to confirm a guess of its text.

Canonical form: JSON with keys sorted, no whitespace, UTF-8 (RFC 8785 JCS for the
strings, integers and nulls used here). Pure: the caller supplies the salt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain.report import TimelineEvent

GENESIS = ""  # the ``prev_hash`` of a report's first chained event

FieldValue = str | int | None


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def event_fields(event: TimelineEvent) -> dict[str, FieldValue]:
    """What the chain commits to, by field name; each ``data`` entry is a field of its
    own (``data.method``) so a view can show one and hide another."""
    at = event.at.astimezone(dt.UTC).isoformat()
    fields: dict[str, FieldValue] = {
        "action": event.action.value,
        "at": at,
        "actor_role": event.actor.role.value,
        "actor_id": event.actor.id,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "reason": event.reason,
        "message": event.message,
    }
    for key, value in event.data.items():
        fields[f"data.{key}"] = value
    return fields


def field_salt(salt: str, name: str) -> str:
    """The salt of one field: disclosing it reveals nothing of the others'."""
    return hmac.new(salt.encode(), name.encode(), hashlib.sha256).hexdigest()


def commitment(name: str, value: FieldValue, salt_of_field: str) -> str:
    return _sha256(canonical([name, value, salt_of_field]))


def link_hash(prev_hash: str, seq: int, commitments: Mapping[str, str]) -> str:
    return _sha256(canonical({"prev": prev_hash, "seq": seq, "fields": dict(commitments)}))


def seal(event: TimelineEvent, prev_hash: str, salt: str) -> TimelineEvent:
    """The event as committed: chained to ``prev_hash`` (GENESIS for the first)."""
    commitments = {
        name: commitment(name, value, field_salt(salt, name))
        for name, value in event_fields(event).items()
    }
    digest = link_hash(prev_hash, event.seq, commitments)
    return dataclasses.replace(event, prev_hash=prev_hash, hash=digest, salt=salt)


def export(
    events: Sequence[TimelineEvent],
    shown: Callable[[TimelineEvent], Collection[str]] | None = None,
) -> list[dict[str, Any]]:
    """The timeline as a verifiable export: each event's fields that ``shown`` names
    (all when None) with their value and field salt, the others as their commitment
    only. An event written before the chain is marked ``legacy``: its shown fields,
    unprotected, and nothing of the others."""
    entries: list[dict[str, Any]] = []
    for event in events:
        values = event_fields(event)
        disclosed = set(values) if shown is None else set(shown(event))
        if event.hash is None or event.salt is None:
            visible = {n: v for n, v in values.items() if n in disclosed}
            entries.append({"seq": event.seq, "legacy": True, "fields": visible})
            continue
        fields: dict[str, dict[str, FieldValue]] = {}
        for name, value in values.items():
            salt_of_field = field_salt(event.salt, name)
            if name in disclosed:
                fields[name] = {"value": value, "salt": salt_of_field}
            else:
                fields[name] = {"commitment": commitment(name, value, salt_of_field)}
        entries.append(
            {"seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash, "fields": fields}
        )
    return entries


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: tuple[str, ...]
    legacy: tuple[int, ...]  # events written before the chain: shown, not protected
    head: str | None  # the last event's hash: what a later export must extend


def verify(entries: Sequence[Mapping[str, Any]]) -> Verdict:
    """Check an export: numbers 1, 2, 3... in order; legacy events only before the
    first chained one; each chained event's hash recomputed from its fields and
    linked to the one before it. Removing the last events is caught only against a
    head hash kept from an earlier export (docs/timeline-integrity.md)."""
    problems: list[str] = []
    legacy: list[int] = []
    prev: str | None = None
    for position, entry in enumerate(entries, start=1):
        seq = entry.get("seq")
        if seq != position:
            problems.append(f"event {position}: numbered {seq!r} (reordered or removed)")
        if entry.get("legacy"):
            if prev is not None:
                problems.append(f"event {seq}: unchained after the chain began")
            legacy.append(int(seq) if isinstance(seq, int) else position)
            continue
        expected_prev = GENESIS if prev is None else prev
        if entry.get("prev_hash") != expected_prev:
            problems.append(f"event {seq}: does not follow the event before it")
        try:
            commitments = {
                name: (
                    commitment(name, part["value"], part["salt"])
                    if "salt" in part
                    else str(part["commitment"])
                )
                for name, part in dict(entry["fields"]).items()
            }
            recomputed = link_hash(str(entry.get("prev_hash")), int(seq), commitments)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"event {seq}: malformed")
            recomputed = None
        if recomputed != entry.get("hash"):
            problems.append(f"event {seq}: its content does not match its hash (altered)")
        prev = str(entry.get("hash"))
    return Verdict(not problems, tuple(problems), tuple(legacy), prev)
