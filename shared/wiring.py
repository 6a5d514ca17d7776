"""The composition root: the one place that builds clients and adapters.

Each piece is made on first use and cached for the life of the instance, so a cold
start pays only for what the request needs, and importing this module imports no
``google.cloud`` package at all (measure: ``python -X importtime -c 'import shared.wiring'``).
The Google clients find the emulators through FIRESTORE_EMULATOR_HOST and
PUBSUB_EMULATOR_HOST by themselves; the project comes from the settings.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from shared.config import settings
from shared.ports import Clock, SystemClock

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

    from shared.adapters.firestore import FirestoreReportStore
    from shared.adapters.pubsub import PubSubPublisher
    from shared.usecases.notify import Ports as NotifyPorts


@cache
def firestore_client() -> firestore.Client:
    from google.cloud import firestore

    return firestore.Client(project=settings().project)


@cache
def publisher_client() -> PublisherClient:
    from google.cloud.pubsub_v1 import PublisherClient

    from shared.adapters.pubsub import batch_settings

    return PublisherClient(batch_settings=batch_settings())


@cache
def report_store() -> FirestoreReportStore:
    from shared.adapters.firestore import FirestoreReportStore

    return FirestoreReportStore(firestore_client())


@cache
def publisher() -> PubSubPublisher:
    from shared.adapters.pubsub import PubSubPublisher

    current = settings()
    return PubSubPublisher(publisher_client(), current.project, current.publish_timeout_s)


@cache
def clock() -> Clock:
    return SystemClock()


@cache
def notify_ports() -> NotifyPorts:
    """What the notify use case talks through: the delivery log, the agencies'
    channels and the webhook sender, beside the report store."""
    from shared.adapters.firestore import FirestoreNotificationStore
    from shared.adapters.webhooks import HttpxWebhookSender
    from shared.usecases.notify import Ports

    store = FirestoreNotificationStore(firestore_client())
    return Ports(
        reports=report_store(),
        deliveries=store,
        channels=store,
        sender=HttpxWebhookSender(settings().webhook_timeout_s),
        clock=clock(),
    )


_CACHED = (report_store, publisher, clock, notify_ports, firestore_client, publisher_client)


def reset() -> None:
    """Forget every client, adapter and the settings, so the next call reads the
    environment again (tests that change it call this). Clients already made are
    closed first so their channels and threads do not pile up across tests."""
    if firestore_client.cache_info().currsize:
        firestore_client().close()
    if publisher_client.cache_info().currsize:
        publisher_client().stop()
    for made in _CACHED:
        made.cache_clear()
    settings.cache_clear()
