"""The composition root: the one place that builds clients, adapters, the reference
data and the port bundle each function hands its use cases (shared.ports).

Each piece is made on first use and cached for the life of the instance, so a cold
start pays only for what the request needs, and importing this module imports no
``google.cloud`` package at all (measure: ``python -X importtime -c 'import shared.wiring'``).
The Google clients find the emulators through FIRESTORE_EMULATOR_HOST and
PUBSUB_EMULATOR_HOST by themselves; the project comes from the settings.

The reference data is the exception: the agencies and rules the national admin edits
in the console are re-checked at most every ``reference_refresh_s``, and each bundle
that holds the reference is built again when it changed (``_PerReference``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Generic, TypeVar

from shared.config import settings
from shared.ports import (
    AgencyPorts,
    AnchorPorts,
    Clock,
    ConsolePorts,
    DailyReportPorts,
    DigestPorts,
    EscalatePorts,
    MalwareScanner,
    NotifyPorts,
    PublicPorts,
    ReferenceSource,
    RetentionPorts,
    RoutePorts,
    RoutingTables,
    Sealer,
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
    from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore
    from shared.adapters.firestore_audit import FirestoreAuditLog
    from shared.adapters.firestore_casework import FirestoreCaseworkStore
    from shared.adapters.firestore_reference import FirestoreReferenceAdminStore
    from shared.adapters.firestore_staff import FirestoreStaffStore
    from shared.adapters.pubsub import PubSubPublisher
    from shared.adapters.sms import InfobipSmsSender
    from shared.adapters.smtp import SmtpEmailSender
    from shared.adapters.storage import GcsBlobStore
    from shared.adapters.webhooks import HttpxWebhookSender
    from shared.reference import Reference

B = TypeVar("B")


@cache
def firestore_client() -> firestore.Client:
    """Every call it makes gives up after ``firestore_timeout_s`` (503, not a hang)."""
    from google.cloud import firestore

    from shared.adapters.firestore_outage import bound_calls

    current = settings()
    return bound_calls(firestore.Client(project=current.project), current.firestore_timeout_s)


@cache
def publisher_client() -> PublisherClient:
    from google.cloud.pubsub_v1 import PublisherClient

    from shared.adapters.pubsub import batch_settings

    return PublisherClient(batch_settings=batch_settings())


@cache
def report_store() -> FirestoreReportStore:
    from shared.adapters.firestore import FirestoreReportStore

    return FirestoreReportStore(firestore_client(), sealer=identity_sealer)


@cache
def identity_sealer() -> Sealer:
    """Seals identities with the public keyset; opens them only where the private one
    is configured. Made on the first identity written or read (Tink loads then)."""
    from shared.adapters.crypto import sealer_from_settings

    return sealer_from_settings()


@cache
def signing_sealer() -> Sealer:
    """Seals the agencies' webhook signing secrets; opens them only where the private
    signing keyset is configured (notify, the console). Made on first use."""
    from shared.adapters.signing_secrets import signing_sealer_from_settings

    return signing_sealer_from_settings()


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
def blob_store() -> GcsBlobStore:
    """The reports' files: the LAPOR_ATTACHMENTS_BUCKET bucket (locally, fake-gcs-server's)."""
    import google.auth
    from google.cloud.storage import Client

    from shared.adapters.storage import GcsBlobStore, signing_credentials_from_file

    current = settings()
    if not current.attachments_bucket:
        raise RuntimeError("LAPOR_ATTACHMENTS_BUCKET is not set: no bucket for the files")
    client = Client(project=current.project)
    if current.storage_signing_key_file:
        signing = signing_credentials_from_file(current.storage_signing_key_file)
    else:
        signing, _ = google.auth.default()
    return GcsBlobStore(client.bucket(current.attachments_bucket), signing)


# Where the files' signed links point, for the pages' Content-Security-Policy img-src.
PRODUCTION_STORAGE_ORIGIN = "https://storage.googleapis.com"


def storage_origin() -> str:
    """The origin signed links to the files point at: the emulator's locally (its
    STORAGE_EMULATOR_HOST, as the client finds it), Cloud Storage's otherwise."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "").strip().rstrip("/")
    if not emulator:
        return PRODUCTION_STORAGE_ORIGIN
    return emulator if "://" in emulator else f"http://{emulator}"


@cache
def malware_scanner() -> MalwareScanner:
    """The scanner of LAPOR_ATTACHMENT_SCANNER: the plug-in point for a real one
    (shared/adapters/scanning.py); "none" passes every file unscanned, and logs it."""
    from shared.adapters.scanning import NoScanner

    match settings().attachment_scanner:
        case "none":
            return NoScanner()


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

    return FirestoreNotificationStore(firestore_client(), signing_sealer=signing_sealer)


@cache
def public_store() -> FirestorePublicStore:
    """The published figures and the public list of reports (the citizen site)."""
    from shared.adapters.firestore import FirestorePublicStore

    return FirestorePublicStore(firestore_client(), stats=report_store().stats)


@cache
def staff_store() -> FirestoreStaffStore:
    """Staff accounts, sessions and one-time links (the console; notify reads accounts)."""
    from shared.adapters.firestore_staff import FirestoreStaffStore

    return FirestoreStaffStore(firestore_client(), stats=report_store().stats)


@cache
def figures_store() -> FirestoreFiguresStore:
    """The daily report job's counters and figures (one operation count with the reports)."""
    from shared.adapters.firestore import FirestoreFiguresStore

    return FirestoreFiguresStore(firestore_client(), report_store())


@cache
def reference_source() -> ReferenceSource:
    """The agencies and rules as stored (edited in the console) over the bundled regions
    and categories; its version re-read at most every ``reference_refresh_s``."""
    from shared.adapters.firestore_reference import FirestoreReferenceSource
    from shared.reference import load_reference

    return FirestoreReferenceSource(
        firestore_client(), load_reference(), settings().reference_refresh_s
    )


def reference() -> Reference:
    """The running reference data: at most ``reference_refresh_s`` old, so an edit in
    the console reaches every function within that time, without a deployment."""
    return reference_source().current()


@cache
def reference_admin_store() -> FirestoreReferenceAdminStore:
    """The national admin's edits of agencies and rules (the console)."""
    from shared.adapters.firestore_reference import FirestoreReferenceAdminStore

    return FirestoreReferenceAdminStore(firestore_client(), signing_sealer=signing_sealer)


def routing_tables() -> RoutingTables:
    """Routing's view of the running reference, derived once per reference."""
    return _routing_tables_of(reference())


@lru_cache(maxsize=1)
def _routing_tables_of(reference: Reference) -> RoutingTables:
    from shared.usecases.route import routing_tables as from_reference

    return from_reference(reference)


class _PerReference(Generic[B]):
    """A bundle that holds the reference: the same object while the reference stays
    the same, built again (around the same stores) when it changed, so a request or a
    job run works with one reference from start to end."""

    def __init__(self, build: Callable[[Reference], B]) -> None:
        self._build = build
        self._built: tuple[Reference, B] | None = None
        self.__doc__ = build.__doc__

    def __call__(self) -> B:
        current = reference()
        built = self._built
        # By identity: the source hands out the same object until it reloads. (Two
        # threads may build at once after a reload; either bundle is as good.)
        if built is None or built[0] is not current:
            built = self._built = (current, self._build(current))
        return built[1]

    def cache_clear(self) -> None:
        self._built = None


# --- the bundles, one per function ----------------------------------------------------


@cache
def submit_ports() -> SubmitPorts:
    # Factories, not clients: the form (GET /) builds only the reference source (one
    # small version read at most every reference_refresh_s), no store, no publisher.
    return SubmitPorts(
        settings=settings(),
        clock=clock(),
        reference_factory=reference,
        store_factory=report_store,
        publisher_factory=publisher,
        public_factory=public_ports,
        preferences_factory=contact_preferences,
        deliveries_factory=notification_store,
        blobs_factory=blob_store,
        scanner_factory=malware_scanner,
    )


@_PerReference
def public_ports(reference: Reference) -> PublicPorts:
    return PublicPorts(
        settings=settings(),
        figures=public_store(),
        reports=public_store(),
        reference=reference,
    )


@_PerReference
def route_ports(reference: Reference) -> RoutePorts:
    return RoutePorts(
        store=report_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        tables=_routing_tables_of(reference),
        reference=reference,
        blobs_factory=blob_store,
    )


@_PerReference
def agency_ports(reference: Reference) -> AgencyPorts:
    return AgencyPorts(
        store=report_store(),
        keys=agency_store(),
        inbox=agency_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        reference=reference,
        deliveries=notification_store(),
        figures=public_store(),
        audit=audit_log(),
        blobs_factory=blob_store,
        scanner_factory=malware_scanner,
    )


@cache
def audit_log() -> FirestoreAuditLog:
    """The change log (one operation count with the reports)."""
    from shared.adapters.firestore_audit import FirestoreAuditLog

    return FirestoreAuditLog(firestore_client(), stats=report_store().stats)


@cache
def casework_store() -> FirestoreCaseworkStore:
    """Notes, assignment, response templates (one operation count with the reports)."""
    from shared.adapters.firestore_casework import FirestoreCaseworkStore

    return FirestoreCaseworkStore(firestore_client(), stats=report_store().stats)


@_PerReference
def notify_ports(reference: Reference) -> NotifyPorts:
    return NotifyPorts(
        store=report_store(),
        deliveries=notification_store(),
        channels=notification_store(),
        sender=webhook_sender(),
        clock=clock(),
        settings=settings(),
        reference=reference,
        preferences=contact_preferences(),
        email_factory=email_sender,
        sms_factory=sms_sender,
        staff=staff_store(),
    )


@_PerReference
def digest_ports(reference: Reference) -> DigestPorts:
    return DigestPorts(
        digests=notification_store(),
        channels=notification_store(),
        preferences=contact_preferences(),
        email_factory=email_sender,
        clock=clock(),
        settings=settings(),
        reference=reference,
    )


@_PerReference
def escalate_ports(reference: Reference) -> EscalatePorts:
    return EscalatePorts(
        store=report_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        reference=reference,
    )


@_PerReference
def retention_ports(reference: Reference) -> RetentionPorts:
    return RetentionPorts(
        store=report_store(), clock=clock(), settings=settings(), reference=reference
    )


@_PerReference
def daily_report_ports(reference: Reference) -> DailyReportPorts:
    return DailyReportPorts(
        figures=figures_store(),
        publisher=publisher(),
        clock=clock(),
        settings=settings(),
        reference=reference,
    )


def anchor_ports() -> AnchorPorts:
    """The daily anchor of the timelines (made per run: it holds no client of its own)."""
    from shared.adapters.firestore_anchor import FirestoreAnchorStore

    return AnchorPorts(
        anchors=FirestoreAnchorStore(firestore_client(), report_store()),
        clock=clock(),
        settings=settings(),
    )


@cache
def sweep_ports() -> SweepPorts:
    return SweepPorts(
        store=report_store(), publisher=publisher(), clock=clock(), settings=settings()
    )


@_PerReference
def console_ports(reference: Reference) -> ConsolePorts:
    # Each console area adds its store here (see ConsolePorts). Built again with the
    # agency API's bundle when the reference changed.
    return ConsolePorts(
        agency=agency_ports(),
        staff=staff_store(),
        clock=clock(),
        settings=settings(),
        publisher=publisher(),
        casework=casework_store(),
        agency_admin=agency_admin_store(),
        webhooks=webhook_sender(),
        reference_admin=reference_admin_store(),
    )


@cache
def agency_admin_store() -> FirestoreAgencyAdminStore:
    from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore

    return FirestoreAgencyAdminStore(
        firestore_client(), stats=report_store().stats, signing_sealer=signing_sealer
    )


_CACHED = (
    submit_ports,
    console_ports,
    route_ports,
    agency_ports,
    notify_ports,
    digest_ports,
    public_ports,
    escalate_ports,
    retention_ports,
    daily_report_ports,
    sweep_ports,
    _routing_tables_of,
    reference_source,
    reference_admin_store,
    notification_store,
    public_store,
    figures_store,
    agency_store,
    audit_log,
    casework_store,
    agency_admin_store,
    webhook_sender,
    sms_sender,
    malware_scanner,
    email_sender,
    blob_store,
    contact_preferences,
    staff_store,
    report_store,
    identity_sealer,
    signing_sealer,
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
