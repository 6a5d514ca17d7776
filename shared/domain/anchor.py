"""The daily anchor of the timelines: the head of every report whose timeline changed,
published with the day's figures, so removing a report's last events is caught by anyone
who compares its export with the anchor (docs/timeline-integrity.md).

An entry names its report by a **public id**: the tracking code of a report the public
may see, and for a confidential one the hash of its first chained event, which only
those who can obtain its export know (the tracking code of a confidential report is
answered as unknown, so the anchor must not list it).

The anchor is published whole, so its **root** is a SHA-256 over the canonical form of
its day and its entries sorted by id: one hash per day that anyone can recompute, and
keep or republish elsewhere. A Merkle tree would only matter if a verifier were to
check one report without downloading the list. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain.chain import GENESIS, canonical

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Head:
    """One report's entry: its public id and the hash of its last event."""

    id: str
    head: str


def public_id(tracking_code: str, confidential: bool, first_hash: str | None) -> str | None:
    """The id the anchor names a report by; None for a confidential report with no
    chained event (nothing to anchor)."""
    if not confidential:
        return tracking_code
    return first_hash or None


def entries(heads: Iterable[Head]) -> list[dict[str, str]]:
    """The anchor's entries, sorted by id (ties by head) so the root is one value."""
    return [{"id": h.id, "head": h.head} for h in sorted(heads, key=lambda h: (h.id, h.head))]


def root(day: str, listed: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 over ``canonical({"day": day, "entries": listed})``: binds the list to
    its day, so a day's root cannot be passed off as another's."""
    return hashlib.sha256(canonical({"day": day, "entries": list(listed)})).hexdigest()


def document(day: dt.date, anchored_at: dt.datetime, heads: Iterable[Head]) -> dict[str, Any]:
    """The anchor as published (``/data/jangkar/<day>.json``)."""
    listed = entries(heads)
    return {
        "format_version": FORMAT_VERSION,
        "day": day.isoformat(),
        "anchored_at": anchored_at.astimezone(dt.UTC).isoformat(),
        "hash": "sha256",
        "canonical_form": "RFC 8785 (JCS)",
        "procedure": "docs/timeline-integrity.md",
        "count": len(listed),
        "root": root(day.isoformat(), listed),
        "entries": listed,
    }


def first_chained_hash(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The hash of an export's first chained event (its ``prev_hash`` is GENESIS)."""
    for entry in events:
        if isinstance(entry, Mapping) and not entry.get("legacy"):
            if entry.get("prev_hash") == GENESIS and isinstance(entry.get("hash"), str):
                return str(entry["hash"])
            return None
    return None


def check(anchor: Any, export: Mapping[str, Any]) -> list[str]:
    """The problems found comparing a timeline export with a published anchor (none:
    the head the anchor published for this report is in the export, so nothing at or
    before it was removed or changed since that day)."""
    if not isinstance(anchor, Mapping) or not isinstance(anchor.get("entries"), list):
        return ["not an anchor: no entries"]
    day, listed = anchor.get("day"), anchor["entries"]
    if not isinstance(day, str) or not all(
        isinstance(e, Mapping) and isinstance(e.get("id"), str) and isinstance(e.get("head"), str)
        for e in listed
    ):
        return ["not an anchor: malformed day or entries"]
    problems = []
    if root(day, listed) != anchor.get("root"):
        problems.append(f"the anchor of {day}: its entries do not match its root")
    events = export.get("events") or []
    ids = {export.get("tracking_code"), first_chained_hash(events)} - {None}
    anchored = [str(e["head"]) for e in listed if e["id"] in ids]
    if not anchored:
        problems.append(f"the anchor of {day} has no entry for this report")
    hashes = {entry.get("hash") for entry in events if isinstance(entry, Mapping)}
    for head in anchored:
        if head not in hashes:
            problems.append(
                f"the head anchored on {day} is not in this export (events removed or "
                "changed since)"
            )
    return problems
