"""A client's share of a fixed window, claimed by a create precondition.

Each window has ``limit`` numbered slots; a request claims one at random, and only a
taken slot costs a read (to learn which are still free). Nothing is read on the way
in, so a well-behaved client pays one write per request and nothing else.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Protocol

from shared.ports import RateSlot, RateSlotTaken, SubmitStore
from shared.tokens import pseudonym
from shared.usecases.submit import RateLimited

# A taken slot costs one more try; a crowded window runs out of free slots first.
_ATTEMPTS = 6


class RateSlots(Protocol):
    """A store that keeps numbered slots per window (shared.ports.RateSlot)."""

    def claim_rate_slot(self, slot: RateSlot) -> None: ...

    def taken_rate_slots(self, window_key: str) -> frozenset[int]: ...


def claim_slot(slots: RateSlots, key: str, *, now: dt.datetime, window_s: int, limit: int) -> None:
    """One of ``limit`` slots of ``key`` in the current window of ``window_s``;
    RateLimited (with the seconds until the window ends) when none is free."""
    number = int(now.timestamp()) // window_s
    ends = dt.datetime.fromtimestamp((number + 1) * window_s, dt.UTC)
    window = f"{key}:{number}"
    slot = secrets.randbelow(limit)
    for _ in range(_ATTEMPTS):
        try:
            slots.claim_rate_slot(RateSlot(window, slot, ends))
            return
        except RateSlotTaken:
            free = sorted(set(range(limit)) - slots.taken_rate_slots(window))
            if not free:
                break
            slot = secrets.choice(free)
    raise RateLimited(max(1, int((ends - now).total_seconds())))


def claim_client_slot(
    store: SubmitStore,
    *,
    purpose: str,
    client_id: str,
    now: dt.datetime,
    window_s: int,
    limit: int,
    secret: str,
) -> None:
    """One of ``limit`` slots of the client's current ``window_s`` window for
    ``purpose`` (claim_slot). The client's address is kept only as a keyed pseudonym."""
    key = f"{purpose}:{pseudonym(secret, 'client', client_id)}"
    claim_slot(store, key, now=now, window_s=window_s, limit=limit)
