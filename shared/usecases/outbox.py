"""Publishing what a commit put in the outbox: one rule for every use case.

A use case that commits outbox messages publishes them itself, right after the
commit, through :func:`publish_committed`. The commit is what counts: when the bus
refuses, the entries stay pending and the outbox sweeper publishes them later, so a
failed publish is logged, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shared.ports import OutboxMessage, Publisher, PublishFailed

log = logging.getLogger(__name__)


def publish_committed(publisher: Publisher | None, messages: Sequence[OutboxMessage]) -> bool:
    """Publish what a change put in the outbox, best effort: on failure the entries
    stay pending and the sweeper publishes them. True when all went out now."""
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
    return True
