"""The outbox sweeper: publish again what a commit promised but the bus never got.

Every use case publishes right after its commit (:mod:`shared.usecases.outbox`); when
that publish fails (or the process dies in between) the outbox entry stays
``pending``. Every few minutes the sweeper republishes the entries older than
``settings.outbox_sweep_age_s``, oldest first, at most ``settings.outbox_sweep_limit``
per run, so its reads grow with the work, not with the size of the outbox.

After a successful republish:
- an entry its consumer settles (``report.submitted``: route deletes it in the
  transaction that routes the report; a notification: notify deletes it in the write
  that records its first attempt) stays pending, with ``attempts`` counted, so a message
  lost anywhere before its consumer acted is sent again on the next run;
- an entry on any other topic (none today) is settled at once: the bus has it and
  the subscriber's retry policy and dead-letter topic take over from there.
A consumer that receives a message twice dedupes (route on the report's state and
seq, notify on its delivery record per ``notification_id``), so a republish never
sends again what a receiver has already accepted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass

from shared.ports import OutboxMessage, PublishFailed, SweepPorts
from shared.topology import CONSUMER_SETTLED_TOPICS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    republished: int
    failed: int
    settled: int  # of the republished, those nobody else settles

    def as_json(self) -> dict[str, int]:
        return {"republished": self.republished, "failed": self.failed, "settled": self.settled}


def sweep_outbox(
    ports: SweepPorts, consumer_settled: Collection[str] = CONSUMER_SETTLED_TOPICS
) -> SweepResult:
    store, publisher, settings = ports.store, ports.publisher, ports.settings
    now = ports.clock.now()
    cutoff = now - dt.timedelta(seconds=settings.outbox_sweep_age_s)
    entries = store.pending_outbox(cutoff, settings.outbox_sweep_limit)
    sent: list[OutboxMessage] = []
    failed: list[str] = []
    for entry in entries:
        try:
            publisher.publish(entry)
        except PublishFailed as exc:
            failed.append(entry.id)
            log.warning(
                "sweeper could not republish", extra={"outbox_id": entry.id, "error": str(exc)}
            )
            continue
        sent.append(entry)
    keep = [m.id for m in sent if m.topic in consumer_settled]
    done = [m.id for m in sent if m.topic not in consumer_settled]
    # Failed attempts count too: ``attempts`` says how often the sweeper tried.
    if keep or failed:
        store.record_sweep([*keep, *failed], now)
    if done:
        store.settle_outbox(done)
    result = SweepResult(len(sent), len(failed), len(done))
    log.info(
        "outbox swept",
        extra={**result.as_json(), "examined": len(entries), "cutoff": cutoff.isoformat()},
    )
    if len(entries) == settings.outbox_sweep_limit:
        log.warning("outbox sweep hit its limit; the rest waits for the next run")
    return result
