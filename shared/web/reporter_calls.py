"""The use-case calls the submit function's two faces share: the citizen
pages (:mod:`shared.web.citizen_pages`) and the reporter JSON API
(:mod:`shared.web.reporter_api`) submit, track and act through these, so both log
and bound their input the same way.

Logs carry the tracking code and outcome only: never the reporter token, the
reporter's identity, the description or the client address.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.domain.privacy import Audience
from shared.ports import SubmitPorts
from shared.usecases import reporter
from shared.usecases.act import Acted
from shared.usecases.lost_link import Contact, request_link_resend
from shared.usecases.rate_limit import claim_client_slot
from shared.usecases.submit import RateLimited, SubmitResult, submit_report
from shared.usecases.timeline_export import export_timeline
from shared.usecases.track import Tracked, track_report
from shared.web.api_files import with_links
from shared.web.catalog import catalog_of
from shared.web.dispatch import Call
from shared.web.http import client_address
from shared.web.i18n import event_label, state_label
from shared.web.schemas import TIMEZONE, ReportIn, ReportOut

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile

log = logging.getLogger("lapor.submit")

# A tracking code is nine symbols with dashes; anything much longer is not one.
CODE_MAX = 40

SubmitCall = Call[SubmitPorts]


def today(call: SubmitCall) -> dt.date:
    return call.ports.clock.now().astimezone(TIMEZONE).date()


def absolute(call: SubmitCall, path: str) -> str:
    """``path`` on the public base URL (the request's own host when none is set)."""
    base = call.ports.settings.public_base_url.rstrip("/") or call.request.host_url.rstrip("/")
    return base + path


def retry_minutes(limited: RateLimited) -> int:
    return max(1, -(-limited.retry_after_s // 60))


def retry_after(limited: RateLimited) -> dict[str, str]:
    return {"Retry-After": str(limited.retry_after_s)}


def submit(
    call: SubmitCall,
    report_in: ReportIn,
    key: str | None,
    channel: str,
    files: Sequence[SafeFile] = (),
) -> SubmitResult:
    """``files``: the report's, already safe (shared.usecases.evidence.safe_files)."""
    ports = call.ports
    draft, identity = report_in.to_domain()
    result = submit_report(
        draft,
        identity,
        language=call.lang,
        client_id=client_address(call.request, ports.settings.trusted_proxy_hops),
        idempotency_key=key,
        store=ports.store,
        publisher=ports.publisher,
        clock=ports.clock,
        settings=ports.settings,
        files=files,
        blobs=ports.blobs if files else None,
    )
    log.info(
        "report accepted",
        extra={
            "channel": channel,
            "tracking_code": result.tracking_code,
            "replayed": result.replayed,
            "published": result.published,
            "files": len(files),
        },
    )
    return result


def claim_upload_slot(call: SubmitCall) -> None:
    """One of the direct uploads a client may ask for in the submissions' window: as
    many as its reports may carry (``rate_limit_submits`` x ``attachment_max_count``).
    Claimed by a create precondition, so nothing is read unless the slot is taken;
    RateLimited when every slot of the window is."""
    ports = call.ports
    settings = ports.settings
    claim_client_slot(
        ports.store,
        purpose="upload",
        client_id=client_address(call.request, settings.trusted_proxy_hops),
        now=ports.clock.now(),
        window_s=settings.rate_limit_window_s,
        limit=settings.rate_limit_submits * settings.attachment_max_count,
        secret=settings.token_secret,
    )


def track(call: SubmitCall, code: str, token: str | None) -> Tracked | None:
    ports = call.ports
    return track_report(
        code[:CODE_MAX],
        token,
        store=ports.store,
        settings=ports.settings,
        clock=ports.clock,
        deliveries=ports.deliveries,
    )


def tracked_file_links(call: SubmitCall, tracked: Tracked) -> list[dict[str, Any]]:
    """The files the tracking view shows, with their signed links."""
    ports = call.ports
    return with_links(
        tracked.report_id, tracked.report["attachments"], lambda: ports.blobs, ports.settings
    )


def report_out(call: SubmitCall, tracked: Tracked) -> dict[str, Any]:
    """The tracked report as the JSON API shows it (``ReportOut``), with its files'
    signed links and the labels in the caller's language."""
    lang = call.lang
    report = dict(tracked.report)
    report["attachments"] = tracked_file_links(call, tracked)
    report["audience"] = tracked.audience.value
    report["status_label"] = state_label(report["state"], lang)
    name = catalog_of(call.ports.reference).agency_name
    report["timeline"] = [
        {**event, "action_label": event_label(event, lang, name)} for event in report["timeline"]
    ]
    shown = ReportOut.model_validate(report).model_dump(mode="json", exclude_none=False)
    if tracked.audience is not Audience.REPORTER:
        shown.pop("reporter", None)
    return shown


# What the export says of the identity it shows (Bahasa Indonesia first).
IDENTITY_NOTE = {
    "id": (
        "Nama dan kontak lengkap Anda disimpan tersegel (terenkripsi) dan hanya dapat dibuka "
        "oleh bagian sistem yang mengirim pemberitahuan kepada Anda dan oleh petugas instansi "
        "yang menangani laporan bernama (setiap kali dibuka, tercatat). Tautan pribadi ini "
        "hanya menampilkan versi tersamar, agar tautan yang bocor tidak membuka data Anda. "
        'Untuk menghapusnya, gunakan "Hapus data kontak saya" di halaman laporan.'
    ),
    "en": (
        "Your full name and contact details are held sealed (encrypted) and can be opened "
        "only by the part of the system that sends you notifications and by the staff of "
        "the agency handling a named report (every such view is recorded). This private "
        "link shows only a masked version, so that a leaked link does not give your data "
        'away. To erase them, use "Erase my contact details" on the report\'s page.'
    ),
}


def reporter_data(call: SubmitCall, code: str, token: str | None) -> dict[str, Any] | None:
    """Everything held about the reporter of the report ``code`` names, as one JSON
    document for them to keep ("Unduh data saya"): the report and its timeline as they
    see them, their files as signed links, the notifications sent to them, the
    verifiable timeline export, and their identity as this function can show it
    (masked: it cannot open the sealed one). None when the report is unknown to the
    asker (as for tracking); reporter.TokenRejected when the token is not the
    reporter's. InvalidTrackingCode for text that cannot be a code."""
    tracked = track(call, code, token)
    if tracked is None:
        return None
    if tracked.audience is not Audience.REPORTER:
        raise reporter.TokenRejected(hide=False)
    ports = call.ports
    shown = report_out(call, tracked)
    exported = export_timeline(code[:CODE_MAX], token, store=ports.store, settings=ports.settings)
    return {
        "format": "lapor.reporter-data.v1",
        "generated_at": ports.clock.now().isoformat(),
        "tracking_code": shown["tracking_code"],
        "report": {k: v for k, v in shown.items() if k != "reporter"},
        "identity": shown.get("reporter"),
        "identity_note": IDENTITY_NOTE,
        "contact_erased": tracked.report.get("contact_erased"),
        "notifications": tracked.report.get("notices", []),
        "timeline_export": exported,
    }


def resend_link(call: SubmitCall, code: str, contact: Contact) -> None:
    """ "Lost your link?": nothing comes back, so nothing can be told apart."""
    ports = call.ports
    request_link_resend(
        code,
        contact,
        client_id=client_address(call.request, ports.settings.trusted_proxy_hops),
        store=ports.store,
        publisher=ports.publisher,
        clock=ports.clock,
        settings=ports.settings,
    )


def reporter_act(
    call: SubmitCall,
    code: str,
    token: str | None,
    operation: str,
    data: Any,
    files: Sequence[SafeFile] = (),
    idempotency_key: str | None = None,
) -> Acted:
    """``files``: what a reply or an answer brings, already safe; ``idempotency_key``:
    the client's, so a retried action is taken once."""
    ports = call.ports
    return reporter.reporter_act(
        code[:CODE_MAX],
        token,
        operation,
        data,
        store=ports.store,
        clock=ports.clock,
        settings=ports.settings,
        reference=ports.reference,
        publisher=ports.publisher,
        files=files,
        blobs=ports.blobs if files else None,
        idempotency_key=idempotency_key,
    )
