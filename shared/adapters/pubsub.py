"""The Publisher port on Pub/Sub: publish one message and wait until the bus has it.

A submission publishes exactly one message and then answers the citizen, so the
client's batching only adds latency: :func:`batch_settings` keeps the batch window at
a few milliseconds (the library default is 10 ms). Whatever goes wrong, the caller
gets :class:`PublishFailed` and the outbox entry stays pending for the sweeper.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from google.cloud.pubsub_v1 import PublisherClient
from google.cloud.pubsub_v1.types import BatchSettings

from shared.ports import OutboxMessage, PublishFailed

log = logging.getLogger(__name__)

# Measured on the emulator, one message published then waited on, median of 200:
# 10 ms window (the default) 13-15 ms, 5 ms 8.5 ms, 2 ms 4.5-5 ms, 1 ms 3.3 ms. The RPC
# itself is ~2-3 ms, so 1 ms adds little and still lets requests that arrive together
# in one instance (concurrency > 1) share a batch.
MAX_LATENCY_S = 0.001


def batch_settings() -> BatchSettings:
    return BatchSettings(max_latency=MAX_LATENCY_S)


class PubSubPublisher:
    def __init__(self, client: PublisherClient, project: str, timeout_s: float = 10.0) -> None:
        self._client = client
        self._project = project
        self._timeout_s = timeout_s
        self._topics: dict[str, str] = {}
        self._lock = threading.Lock()

    def topic_path(self, topic: str) -> str:
        """``projects/<project>/topics/<topic>``, built once per topic."""
        path = self._topics.get(topic)
        if path is None:
            path = (
                topic
                if topic.startswith("projects/")
                else self._client.topic_path(self._project, topic)
            )
            with self._lock:
                self._topics[topic] = path
        return str(path)

    def publish(self, message: OutboxMessage) -> None:
        topic = self.topic_path(message.topic)
        try:
            data = json.dumps(message.data, separators=(",", ":")).encode()
            # timeout bounds the RPC and its retries too, so a message that missed our
            # wait is not published minutes later behind the sweeper's back (mostly).
            future: Any = self._client.publish(
                topic, data, timeout=self._timeout_s, **dict(message.attributes)
            )
            message_id = future.result(timeout=self._timeout_s)
        except FutureTimeout as exc:
            log.warning(
                "publish timed out",
                extra={"topic": topic, "outbox_id": message.id, "timeout_s": self._timeout_s},
            )
            raise PublishFailed(f"no answer from Pub/Sub within {self._timeout_s}s") from exc
        except Exception as exc:  # the bus's failure, whatever its type, is PublishFailed
            log.warning(
                "publish failed",
                extra={"topic": topic, "outbox_id": message.id, "error": repr(exc)},
            )
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
        log.debug(
            "published", extra={"topic": topic, "outbox_id": message.id, "message_id": message_id}
        )
