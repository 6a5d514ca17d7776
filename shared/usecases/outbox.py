"""Publishing what a commit put in the outbox: one rule for every use case.

A use case that commits outbox messages publishes them itself, right after the
commit, through :func:`publish_committed`. The commit is what counts: when the bus
refuses, the entries stay pending and the outbox sweeper publishes them later, so a
failed publish is logged, never raised.

Who deletes an entry: its consumer, in the write that acts on it, for every topic in
:data:`shared.topology.CONSUMER_SETTLED_TOPICS` (``report.submitted`` by route, the
notifications by notify). That is every topic the outbox carries today, so
publishing deletes nothing: a delete here would cost each action a commit of its
own, and an entry deleted on publish is one the sweeper can no longer resend if the
message is lost before its consumer acts. Only an entry on a topic outside that set
is deleted here once the bus has it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from shared.ports import OutboxMessage, Publisher, PublishFailed
from shared.topology import CONSUMER_SETTLED_TOPICS

log = logging.getLogger(__name__)


class OutboxSettler(Protocol):
    def settle_outbox(self, message_ids: Sequence[str]) -> None: ...


def publish_committed(
    publisher: Publisher | None,
    messages: Sequence[OutboxMessage],
    store: OutboxSettler | None = None,
) -> bool:
    """Publish what a change put in the outbox, best effort: on failure the entries
    stay pending and the sweeper publishes them. True when all went out now.

    With ``store``, the published entries nobody else settles are deleted from the
    outbox; without it the caller settles them (a job settling a page at once).
    """
    if not messages:
        return True
    if publisher is None:
        return False
    try:
        for message in messages:
            publisher.publish(message)
    except PublishFailed:
        log.warning(
            "publish failed; the outbox keeps it for the sweeper",
            extra={"outbox_ids": [m.id for m in messages]},
        )
        return False
    settled = [m.id for m in messages if m.topic not in CONSUMER_SETTLED_TOPICS]
    if store is not None and settled:
        try:
            store.settle_outbox(settled)
        except Exception:
            # Committed and published: a failed delete only lets the sweeper publish
            # once more (notify dedupes on the notification id); it must not fail the
            # action that was taken.
            log.warning("outbox entries not settled", extra={"outbox_ids": settled})
    return True
