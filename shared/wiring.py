"""The composition root: the one place that builds clients, adapters, the reference
data and the port bundle each function hands its use cases (shared.ports).

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
from shared.ports import (
    AgencyPorts,
    Clock,
    DailyReportPorts,
    DigestPorts,
    EscalatePorts,
    NotifyPorts,
    PublicPorts,
    RoutePorts,
    RoutingTables,
    SubmitPorts,
    SweepPorts,
    SystemClock,
)

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient

    from shared.adapters.firestore import (
        FirestoreAgencyStore,
        FirestoreContactPreferences,
        FirestoreFiguresStore,
        FirestoreNotificationStore,
        FirestorePublicStore,
        FirestoreReportStore,
    )
    from shared.adapters.firestore_audit import FirestoreAuditLog
    from shared.adapters.firestore_casework import FirestoreCaseworkStore
    from shared.adapters.pubsub import PubSubPublisher
    from shared.adapters.sms import InfobipSmsSender
    from shared.adapters.smtp import SmtpEmailSender
    from shared.adapters.webhooks import HttpxWebhookSender
    from shared.reference import Reference


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
def webhook_sender() -> HttpxWebhookSender:
    from shared.adapters.webhooks import HttpxWebhookSender

    return HttpxWebhookSender(settings().webhook_timeout_s)


@cache
def email_sender() -> SmtpEmailSender:
    """The SMTP relay of LAPOR_SMTP_*; refuses to build without a host."""
    from shared.adapters.smtp import SmtpEmailSender

    return SmtpEmailSender.from_settings(settings())


@cache
def contact_preferences() -> FirestoreContactPreferences:
    """Who unsubscribed (the unsubscribe page writes, notify reads)."""
    from shared.adapters.firestore import FirestoreContactPreferences

    return FirestoreContactPreferences(firestore_client(), stats=report_store().stats)


@cache
def sms_sender() -> InfobipSmsSender:
    """The SMS gateway of LAPOR_SMS_* (locally, the stack's sink)."""
    from shared.adapters.sms import InfobipSmsSender

    current = settings()
    return InfobipSmsSender(
        current.sms_base_url,
        current.sms_api_key.get_secret_value(),
        current.sms_sender,
        current.sms_timeout_s,
    )


@cache
def clock() -> Clock:
    return SystemClock()


@cache
def agency_store() -> FirestoreAgencyStore:
    """API keys and the inbox queries (the agency function)."""
    from shared.adapters.firestore import FirestoreAgencyStore

    # One count of Firestore operations per instance, shared with the report store.
    return FirestoreAgencyStore(firestore_client(), stats=report_store().stats)


@cache
def notification_store() -> FirestoreNotificationStore:
    """The delivery log and the agencies' channels (the notify function)."""
    from shared.adapters.firestore import FirestoreNotificationStore

    return FirestoreNotificationStore(firestore_client())


@cache
def public_store() -> FirestorePublicStore:
    """The published figures and the public list of reports (the citizen site)."""
    from shared.adapters.firestore import FirestorePublicStore

    return FirestorePublicStore(firestore_client(), stats=report_store().stats)


@cache
def figures_store() -> FirestoreFiguresStore:
    """The daily report job's counters and figures (one operation count with the reports)."""
    from shared.adapters.firestore import FirestoreFiguresStore

    return FirestoreFiguresStore(firestore_client(), report_store())


@cache
def reference() -> Reference:
    """The reference data bundled with the code: read once per instance, so no
    request reads it from Firestore (a change of agencies or rules is a deployment)."""
    from shared.reference import load_reference

    return load_reference()


@cache
def routing_tables() -> RoutingTables:
    from shared.usecases.route import routing_tables as from_reference

    return from_reference(reference())


# --- the bundles, one per function ----------------------------------------------------


@cache
def submit_ports() -> SubmitPorts:
    # Factories, not clients: GET / (the form) must create no client.
    return SubmitPorts(
        settings=settings(),
        clock=clock(),
        store_factory=report_store,
        publisher_factory=publisher,
        public_factory=public_ports,
        preferences_factory=contact_preferences,
        deliveries_factory=notification_store,
    )


@cache
def public_ports() -> PublicPorts:
    return PublicPorts(
        settings=settings(),
        figures=public_store(),
        reports=public_store(),
        reference=reference(),
    )


@cache
def route_ports() -> RoutePorts:
    return RoutePorts(
        store=report_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        tables=routing_tables(),
    )


@cache
def agency_ports() -> AgencyPorts:
    return AgencyPorts(
        store=report_store(),
        keys=agency_store(),
        inbox=agency_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        reference=reference(),
        deliveries=notification_store(),
        figures=public_store(),
        audit=audit_log(),
    )


@cache
def audit_log() -> FirestoreAuditLog:
    from shared.adapters.firestore_audit import FirestoreAuditLog

    return FirestoreAuditLog(firestore_client())


@cache
def casework_store() -> FirestoreCaseworkStore:
    from shared.adapters.firestore_casework import FirestoreCaseworkStore

    return FirestoreCaseworkStore(firestore_client())


@cache
def notify_ports() -> NotifyPorts:
    return NotifyPorts(
        store=report_store(),
        deliveries=notification_store(),
        channels=notification_store(),
        sender=webhook_sender(),
        clock=clock(),
        settings=settings(),
        reference=reference(),
        preferences=contact_preferences(),
        email_factory=email_sender,
        sms_factory=sms_sender,
    )


@cache
def digest_ports() -> DigestPorts:
    return DigestPorts(
        digests=notification_store(),
        channels=notification_store(),
        preferences=contact_preferences(),
        email_factory=email_sender,
        clock=clock(),
        settings=settings(),
        reference=reference(),
    )


@cache
def escalate_ports() -> EscalatePorts:
    return EscalatePorts(
        store=report_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        reference=reference(),
    )


@cache
def daily_report_ports() -> DailyReportPorts:
    return DailyReportPorts(
        figures=figures_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        reference=reference(),
    )


@cache
def sweep_ports() -> SweepPorts:
    return SweepPorts(
        store=report_store(), publisher=publisher(), clock=clock(), settings=settings()
    )


_CACHED = (
    submit_ports,
    route_ports,
    agency_ports,
    notify_ports,
    digest_ports,
    public_ports,
    escalate_ports,
    daily_report_ports,
    sweep_ports,
    routing_tables,
    reference,
    notification_store,
    public_store,
    figures_store,
    agency_store,
    audit_log,
    casework_store,
    webhook_sender,
    sms_sender,
    email_sender,
    contact_preferences,
    report_store,
    publisher,
    clock,
    firestore_client,
    publisher_client,
)


def reset() -> None:
    """Forget every client, adapter, bundle, the reference data and the settings, so
    the next call reads the environment again (tests that change it call this).
    Clients already made are closed first so their channels and threads do not pile
    up across tests."""
    if firestore_client.cache_info().currsize:
        firestore_client().close()
    if publisher_client.cache_info().currsize:
        publisher_client().stop()
    for made in _CACHED:
        made.cache_clear()
    settings.cache_clear()
