"""A report's files with in-memory fakes: checked before anything is stored, staged
before the commit, promoted after it (or by the route function after a crash), and
linked only for who may see them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfWriter

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.attachments import RefusalCode, SafeFile
from shared.domain.report import (
    Action,
    Actor,
    Command,
    InvalidCommand,
    Report,
    ReportDraft,
    Role,
)
from shared.domain.tracking import new_tracking_code
from shared.ports import (
    AgencyPorts,
    FixedClock,
    RoutePorts,
    ScanResult,
    ScanVerdict,
)
from shared.pubsub_push import Pushed
from shared.reference import load_reference
from shared.tokens import reporter_token
from shared.usecases import agency, evidence
from shared.usecases.act import FILES_ADDED
from shared.usecases.agency import AgencyCommand, Caller
from shared.usecases.attachments import Upload
from shared.usecases.reporter import reporter_act
from shared.usecases.route import announced_files, promote_announced, routing_tables
from shared.usecases.submit import (
    IdempotencyKeyReused,
    RateLimited,
    SubmitResult,
    submit_report,
)
from shared.usecases.track import tracked_file
from tests.builders import a_draft, an_identity
from tests.fakes import (
    InMemoryAgencyStore,
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryNotificationStore,
    InMemoryPublicStore,
    InMemoryPublisher,
    InMemoryReportStore,
)

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
SECRET = "unit-test-secret-0123456789"
SETTINGS = Settings(token_secret=SECRET, rate_limit_submits=1)
REFERENCE = load_reference()
DPUPR = Caller("dpupr-cianjur", Role.AGENCY_ADMIN)


class CleanScanner:
    def scan(self, data: bytes, *, media_type: str) -> ScanResult:
        return ScanResult(ScanVerdict.CLEAN)


def photo(colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, format="JPEG")
    return out.getvalue()


def a_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def safe(*uploads: Upload) -> tuple[SafeFile, ...]:
    return evidence.safe_files(uploads, SETTINGS, CleanScanner())


TWO_PHOTOS = safe(Upload("a.jpg", photo()), Upload("b.jpg", photo((200, 30, 30))))


def under(blobs: InMemoryBlobStore, prefix: str) -> list[str]:
    return sorted(name for name in blobs.objects if name.startswith(prefix))


def submit(
    store: InMemoryReportStore,
    blobs: InMemoryBlobStore,
    files: tuple[SafeFile, ...] = TWO_PHOTOS,
    *,
    draft: ReportDraft | None = None,
    key: str | None = None,
    client: str = "198.51.100.7",
    publisher: InMemoryPublisher | None = None,
) -> SubmitResult:
    return submit_report(
        draft or a_draft(),
        an_identity(),
        client_id=client,
        idempotency_key=key,
        store=store,
        publisher=publisher or InMemoryPublisher(),
        clock=FixedClock(NOW),
        settings=SETTINGS,
        files=files,
        blobs=blobs,
    )


# --- checking ---------------------------------------------------------------------------


def test_every_refused_file_is_reported_in_the_reporters_language() -> None:
    uploads = [
        Upload("jalan.jpg", photo()),
        Upload("surat.jpg", a_pdf()),  # a PDF that says it is a photo
        Upload("catatan.txt", b"bukan foto"),
    ]
    with pytest.raises(evidence.FilesRefused) as refused:
        evidence.safe_files(uploads, SETTINGS, CleanScanner())

    codes = [(r.code, r.name) for r in refused.value.refusals]
    assert codes == [
        (RefusalCode.NAME_MISMATCH, "surat.jpg"),
        (RefusalCode.UNSUPPORTED_TYPE, "catatan.txt"),
    ]
    assert refused.value.messages("id")[1].startswith("catatan.txt: jenis berkas tidak diterima")
    assert refused.value.messages("en")[1].startswith("catatan.txt: this type of file")


def test_no_files_are_nothing_to_check() -> None:
    assert evidence.safe_files([], SETTINGS, CleanScanner()) == ()


def test_new_attachments_get_random_ids_and_what_the_files_are() -> None:
    pdf = safe(Upload("surat.pdf", a_pdf()))
    pairs = evidence.new_attachments([*TWO_PHOTOS, *pdf])

    ids = [attachment.id for attachment, _ in pairs]
    assert len(set(ids)) == 3 and all(evidence.ATTACHMENT_ID.match(i) for i in ids)
    first, _, document = (attachment for attachment, _ in pairs)
    assert (first.media_type, first.width, first.height, first.has_thumbnail) == (
        "image/jpeg",
        640,
        480,
        True,
    )
    assert first.size == len(TWO_PHOTOS[0].data)
    assert (document.media_type, document.pages, document.has_thumbnail) == (
        "application/pdf",
        1,
        False,
    )


def test_object_names() -> None:
    assert evidence.object_name("r1", "f0123456789") == "reports/r1/f0123456789"
    assert evidence.object_name("r1", "f0123456789", thumbnail=True, staged=True) == (
        "uploads/reports/r1/f0123456789.thumb.webp"
    )


# --- the submission ---------------------------------------------------------------------


def test_a_submission_with_two_photos_commits_them_and_promotes_four_objects() -> None:
    store, blobs, publisher = InMemoryReportStore(), InMemoryBlobStore(), InMemoryPublisher()

    result = submit(store, blobs, publisher=publisher)

    report = store.reports[result.report_id]
    assert [(a.added_seq, a.added_by) for a in report.attachments] == [(1, Role.REPORTER)] * 2
    ids = [a.id for a in report.attachments]
    assert store.events[result.report_id][0].data["files"] == ",".join(ids)
    assert under(blobs, f"reports/{result.report_id}/") == sorted(
        f"reports/{result.report_id}/{i}{suffix}" for i in ids for suffix in ("", ".thumb.webp")
    )
    promoted = blobs.get(f"reports/{result.report_id}/{ids[0]}")
    assert (promoted.content_type, promoted.data) == ("image/jpeg", TWO_PHOTOS[0].data)
    thumb = blobs.get(f"reports/{result.report_id}/{ids[1]}.thumb.webp")
    assert (thumb.content_type, thumb.data) == ("image/webp", TWO_PHOTOS[1].thumbnail)
    submitted = publisher.published[0]
    assert submitted.data["attachment_ids"] == ids
    assert store.commits == 1
    # The committing function copies its new files without looking for them first.
    assert (blobs.stats.puts, blobs.stats.copies, blobs.stats.lookups) == (4, 4, 0)


def test_a_submission_without_files_announces_none_and_needs_no_blob_store() -> None:
    store, publisher = InMemoryReportStore(), InMemoryPublisher()
    result = submit_report(
        a_draft(),
        an_identity(),
        client_id="198.51.100.7",
        idempotency_key=None,
        store=store,
        publisher=publisher,
        clock=FixedClock(NOW),
        settings=SETTINGS,
    )
    assert store.reports[result.report_id].attachments == ()
    assert publisher.published[0].data["attachment_ids"] == []


def test_a_refused_commit_leaves_nothing_under_reports() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    first = submit(store, blobs, files=())  # takes the client's only rate-limit slot

    with pytest.raises(RateLimited):
        submit(store, blobs)

    assert list(store.reports) == [first.report_id]
    assert under(blobs, "reports/") == []
    # Only staged objects, which the bucket's lifecycle deletes after a day.
    assert len(under(blobs, "uploads/reports/")) == 4


def test_a_replay_with_the_same_files_is_the_same_report() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    first = submit(store, blobs, key="double-tap-0001")

    again = submit(store, blobs, key="double-tap-0001", client="203.0.113.9")

    assert again.replayed and again.report_id == first.report_id
    assert {name.split("/")[1] for name in under(blobs, "reports/")} == {first.report_id}


def test_the_same_key_with_other_files_is_refused() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    submit(store, blobs, key="double-tap-0001")
    other = safe(Upload("c.jpg", photo((10, 200, 10))))

    with pytest.raises(IdempotencyKeyReused):
        submit(store, blobs, other, key="double-tap-0001", client="203.0.113.9")
    with pytest.raises(IdempotencyKeyReused):
        submit(store, blobs, (), key="double-tap-0001", client="203.0.113.10")


class FailingCopies(InMemoryBlobStore):
    """Stores, but every copy fails: the function 'crashes' between commit and promotion."""

    def copy(self, source: str, target: str) -> None:
        raise ConnectionError("storage unavailable")


def route_ports(store: InMemoryReportStore, blobs: InMemoryBlobStore) -> RoutePorts:
    return RoutePorts(
        store,
        InMemoryPublisher(),
        FixedClock(NOW),
        SETTINGS,
        routing_tables(REFERENCE),
        REFERENCE,
        blobs_factory=lambda: blobs,
    )


def pushed_of(publisher: InMemoryPublisher, index: int) -> Pushed:
    message = publisher.published[index]
    return Pushed(dict(message.data), dict(message.attributes))


def test_a_failed_promotion_keeps_the_report_and_the_route_function_promotes_it() -> None:
    store, crashing, publisher = InMemoryReportStore(), FailingCopies(), InMemoryPublisher()

    result = submit(store, crashing, publisher=publisher)

    assert result.report_id in store.reports and under(crashing, "reports/") == []
    blobs = InMemoryBlobStore()
    blobs.objects = crashing.objects  # the same bucket, copies working again
    announced = announced_files(pushed_of(publisher, 0))
    assert not announced.files_added

    assert promote_announced(announced, route_ports(store, blobs)) == 4
    assert len(under(blobs, f"reports/{result.report_id}/")) == 4
    # Again (a redelivery): every target is there, nothing is copied.
    assert promote_announced(announced, route_ports(store, blobs)) == 0


def test_promotion_is_idempotent_and_a_staged_copy_already_gone_is_fine() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    result = submit(store, blobs)
    report = store.reports[result.report_id]
    for name in under(blobs, "uploads/"):
        blobs.delete(name)  # the lifecycle, a day later

    assert evidence.promote(report.id, report.attachments, blobs) == 0


class RacedCopies(InMemoryBlobStore):
    """Another promoter copies each object just before this one does: the bucket then
    refuses to replace it (the functions may create, not overwrite)."""

    def copy(self, source: str, target: str) -> None:
        super().copy(source, target)
        raise PermissionError("403: storage.objects.delete denied")


def test_a_copy_refused_because_another_promoter_made_it_is_done() -> None:
    store, crashing = InMemoryReportStore(), FailingCopies()
    report = store.reports[submit(store, crashing).report_id]
    raced = RacedCopies()
    raced.objects = crashing.objects

    assert evidence.promote(report.id, report.attachments, raced) == 0
    assert len(under(raced, "reports/")) == 4
    unavailable = FailingCopies()
    unavailable.objects = {k: v for k, v in crashing.objects.items() if k.startswith("uploads/")}
    with pytest.raises(ConnectionError):
        evidence.promote(report.id, report.attachments, unavailable)


def test_a_file_neither_staged_nor_promoted_is_lost_after_the_others_are_promoted() -> None:
    store, crashing = InMemoryReportStore(), FailingCopies()
    result = submit(store, crashing)
    report = store.reports[result.report_id]
    blobs = InMemoryBlobStore()
    blobs.objects = crashing.objects
    lost = evidence.object_name(report.id, report.attachments[0].id, staged=True)
    blobs.delete(lost)

    with pytest.raises(evidence.StagedFileLost) as raised:
        evidence.promote(report.id, report.attachments, blobs)

    assert raised.value.names == (lost.removeprefix("uploads/"),)
    assert len(under(blobs, "reports/")) == 3


def test_the_route_function_logs_a_lost_file_and_still_acknowledges(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, crashing, publisher = InMemoryReportStore(), FailingCopies(), InMemoryPublisher()
    submit(store, crashing, publisher=publisher)
    blobs = InMemoryBlobStore()
    blobs.objects = {k: v for k, v in crashing.objects.items() if not k.endswith(".webp")}

    announced = announced_files(pushed_of(publisher, 0))

    assert promote_announced(announced, route_ports(store, blobs)) == 2  # the photos
    assert "committed files lost before they were promoted" in caplog.text


# --- follow-ups --------------------------------------------------------------------------


def agency_ports(store: InMemoryReportStore, blobs: InMemoryBlobStore) -> AgencyPorts:
    agencies = InMemoryAgencyStore(store)
    return AgencyPorts(
        store=store,
        keys=agencies,
        inbox=agencies,
        publisher=InMemoryPublisher(),
        clock=FixedClock(NOW),
        settings=SETTINGS,
        reference=REFERENCE,
        deliveries=InMemoryNotificationStore(),
        figures=InMemoryPublicStore(),
        audit=InMemoryAuditLog(),
        blobs_factory=lambda: blobs,
    )


def a_routed_report(store: InMemoryReportStore, **draft: Any) -> Report:
    calendar, policy = SETTINGS.calendar(), SETTINGS.deadline_policy()
    report, event = lifecycle.submit(
        dataclasses.replace(a_draft(), **draft), "r1", new_tracking_code(), NOW, calendar, policy
    )
    events = [event]
    for command in (
        Command(Action.DISPOSITION, Actor(Role.SYSTEM, "system:route"), agency_id=DPUPR.agency_id),
    ):
        report, event = lifecycle.apply(report, command, NOW, calendar, policy)
        events.append(event)
    store.reports[report.id] = report
    store.events[report.id] = events
    return report


def test_a_follow_up_with_a_photo_commits_announces_and_promotes_it() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    a_routed_report(store)
    ports = agency_ports(store, blobs)
    files = safe(Upload("jalan-diperbaiki.jpg", photo((90, 90, 90))))

    acted = agency.take_action(
        "r1", DPUPR, AgencyCommand(Action.FOLLOW_UP, message="Sudah ditambal."), ports, files=files
    )

    [added] = acted.report.attachments
    assert (added.added_seq, added.added_by) == (acted.change.event.seq, Role.AGENCY_ADMIN)
    assert acted.change.event.data["files"] == added.id
    assert under(blobs, "reports/r1/") == [
        f"reports/r1/{added.id}",
        f"reports/r1/{added.id}.thumb.webp",
    ]
    [announcement] = [m for m in acted.change.outbox if m.attributes["ce-type"] == FILES_ADDED]
    assert announcement.topic == SETTINGS.topic_report_submitted
    assert dict(announcement.data) == {
        "report_id": "r1",
        "attachment_ids": [added.id],
        "seq": acted.change.event.seq,
    }
    # Its consumer (route) settles it: pending until then.
    assert announcement.id in store.outbox


def test_the_route_function_settles_a_files_added_message() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    a_routed_report(store)
    ports = agency_ports(store, blobs)
    files = safe(Upload("jalan-diperbaiki.jpg", photo((90, 90, 90))))
    acted = agency.take_action(
        "r1", DPUPR, AgencyCommand(Action.FOLLOW_UP, message="Sudah."), ports, files=files
    )
    [message] = [m for m in acted.change.outbox if m.attributes["ce-type"] == FILES_ADDED]

    announced = announced_files(Pushed(dict(message.data), dict(message.attributes)))

    assert announced.files_added
    assert promote_announced(announced, route_ports(store, blobs)) == 0  # promoted inline
    assert message.id not in store.outbox


def test_an_action_that_cannot_bring_files_stores_nothing() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    a_routed_report(store)
    files = safe(Upload("a.jpg", photo()))

    with pytest.raises(InvalidCommand):
        agency.take_action(
            "r1",
            DPUPR,
            AgencyCommand(Action.HOLD, reason="Di mana tepatnya?"),
            agency_ports(store, blobs),
            files=files,
        )

    assert blobs.objects == {}


def test_another_agency_cannot_add_files_to_a_report_it_does_not_see() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    before = a_routed_report(store)
    files = safe(Upload("a.jpg", photo()))

    with pytest.raises(Exception, match="r1"):
        agency.take_action(
            "r1",
            Caller("dinkes-cianjur", Role.AGENCY_ADMIN),
            AgencyCommand(Action.FOLLOW_UP, message="x"),
            agency_ports(store, blobs),
            files=files,
        )

    assert store.reports["r1"] == before
    assert under(blobs, "reports/") == []


def test_the_reporter_answers_with_a_document() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    report = a_routed_report(store)
    follow_up = Command(Action.FOLLOW_UP, Actor(Role.AGENCY_ADMIN, DPUPR.agency_id), message="?")
    report, event = lifecycle.apply(
        report, follow_up, NOW, SETTINGS.calendar(), SETTINGS.deadline_policy()
    )
    store.reports["r1"] = report
    store.events["r1"].append(event)
    files = safe(Upload("kuitansi.pdf", a_pdf()))

    acted = reporter_act(
        report.tracking_code,
        reporter_token(SECRET, "r1"),
        "reply",
        {"message": "Ini kuitansinya."},
        store=store,
        clock=FixedClock(NOW),
        settings=SETTINGS,
        reference=REFERENCE,
        publisher=InMemoryPublisher(),
        files=files,
        blobs=blobs,
    )

    [added] = acted.report.attachments
    assert (added.added_by, added.media_type, added.has_thumbnail) == (
        Role.REPORTER,
        "application/pdf",
        False,
    )
    assert under(blobs, "reports/") == [f"reports/r1/{added.id}"]


# --- who gets a link ----------------------------------------------------------------------


def with_files(store: InMemoryReportStore, blobs: InMemoryBlobStore, **draft: Any) -> Report:
    result = submit(store, blobs, draft=dataclasses.replace(a_draft(), **draft))
    return store.reports[result.report_id]


def link(
    store: InMemoryReportStore,
    blobs: InMemoryBlobStore,
    report: Report,
    token: str | None,
    *,
    file_id: str | None = None,
    thumbnail: bool = False,
) -> evidence.SignedFile | None:
    return tracked_file(
        report.tracking_code,
        token,
        file_id or report.attachments[0].id,
        thumbnail=thumbnail,
        store=store,
        blobs=blobs,
        settings=SETTINGS,
    )


@pytest.mark.parametrize(
    ("confidential", "show", "as_reporter", "gets"),
    [
        (False, False, True, True),
        (False, False, False, False),  # public, the reporter did not choose to show them
        (False, True, False, True),
        (True, True, True, True),
        (True, True, False, False),  # confidential: never for the public
    ],
)
def test_who_gets_a_link_is_who_the_tracking_page_shows_the_files_to(
    confidential: bool, show: bool, as_reporter: bool, gets: bool
) -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    report = with_files(store, blobs, confidential=confidential, show_attachments=show)
    token = reporter_token(SECRET, report.id) if as_reporter else None

    signed = link(store, blobs, report, token)

    assert (signed is not None) is gets
    if signed is not None:
        assert f"/reports/{report.id}/{report.attachments[0].id}?" in signed.url
        assert "X-Goog-Expires=300" in signed.url
        assert signed.expires_at > dt.datetime.now(dt.UTC)


def test_a_missing_file_a_wrong_token_and_a_bad_code_all_answer_none() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    report = with_files(store, blobs, confidential=True)
    token = reporter_token(SECRET, report.id)

    assert link(store, blobs, report, token, file_id="f0000000000") is None
    assert link(store, blobs, report, "not-the-token") is None
    assert (
        tracked_file("not a code", token, "f0", store=store, blobs=blobs, settings=SETTINGS) is None
    )


def test_the_thumbnail_link_only_for_a_file_that_has_one() -> None:
    store, blobs = InMemoryReportStore(), InMemoryBlobStore()
    report = with_files(store, blobs)
    token = reporter_token(SECRET, report.id)

    signed = link(store, blobs, report, token, thumbnail=True)

    assert signed is not None and ".thumb.webp?" in signed.url
    pdf_store = InMemoryReportStore()
    submit(pdf_store, blobs, safe(Upload("surat.pdf", a_pdf())), client="203.0.113.1")
    [pdf_report] = pdf_store.reports.values()
    pdf_token = reporter_token(SECRET, pdf_report.id)
    assert link(pdf_store, blobs, pdf_report, pdf_token, thumbnail=True) is None
    assert link(pdf_store, blobs, pdf_report, pdf_token) is not None


# --- direct uploads ------------------------------------------------------------------------


def test_an_upload_slot_is_a_put_bound_to_the_type_and_the_size_limit() -> None:
    blobs = InMemoryBlobStore()

    slot = evidence.upload_slot(blobs, SETTINGS, "image/jpeg")

    assert evidence.UPLOAD_ID.match(slot.upload_id)
    assert f"/uploads/raw/{slot.upload_id}?" in slot.put_url
    assert "X-Goog-Expires=900" in slot.put_url
    limit = SETTINGS.attachment_max_file_bytes
    assert slot.headers == {
        "Content-Type": "image/jpeg",
        "x-goog-content-length-range": f"0,{limit}",
    }
    assert slot.upload_id != evidence.upload_slot(blobs, SETTINGS, "image/jpeg").upload_id


def test_direct_uploads_are_read_back_by_id_and_checked_like_a_forms_files() -> None:
    blobs = InMemoryBlobStore()
    slot = evidence.upload_slot(blobs, SETTINGS, "image/jpeg")
    blobs.put(f"uploads/raw/{slot.upload_id}", photo(), "image/jpeg")  # the client's PUT

    [upload] = evidence.read_direct_uploads([slot.upload_id], blobs, SETTINGS)

    assert (upload.name, upload.data) == (slot.upload_id, photo())
    [file] = safe(upload)
    assert file.media_type == "image/jpeg"


def test_unknown_uploads_are_all_named() -> None:
    blobs = InMemoryBlobStore()
    put = "u" + "1" * 32
    blobs.put(f"uploads/raw/{put}", photo(), "image/jpeg")
    never_put, not_an_id = "u" + "2" * 32, "../reports/r1/f0123456789"
    with_newline = put + "\n"
    blobs.put(f"uploads/raw/{with_newline}", photo(), "image/jpeg")

    with pytest.raises(evidence.UnknownUploads) as unknown:
        evidence.read_direct_uploads([never_put, put, not_an_id, with_newline], blobs, SETTINGS)

    assert unknown.value.upload_ids == (never_put, not_an_id, with_newline)


def test_an_upload_over_the_limit_is_refused_without_being_downloaded() -> None:
    blobs = InMemoryBlobStore()
    big = "u" + "3" * 32
    blobs.put(f"uploads/raw/{big}", b"\0" * (SETTINGS.attachment_max_file_bytes + 1), "image/jpeg")

    with pytest.raises(evidence.FilesRefused) as refused:
        evidence.read_direct_uploads([big], blobs, SETTINGS)

    assert [(r.code, r.name) for r in refused.value.refusals] == [(RefusalCode.TOO_BIG, big)]
    assert blobs.stats.gets == 0


# --- the pages' img-src ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emulator", "origin"),
    [
        (None, "https://storage.googleapis.com"),
        ("http://127.0.0.1:8683", "http://127.0.0.1:8683"),
        ("127.0.0.1:8683/", "http://127.0.0.1:8683"),
    ],
)
def test_signed_links_point_at_the_storage_origin(
    monkeypatch: pytest.MonkeyPatch, emulator: str | None, origin: str
) -> None:
    from shared import wiring

    if emulator is None:
        monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    else:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator)

    assert wiring.storage_origin() == origin
