"""A report's files and exact place in the console, through functions-framework on the
real emulators and fake-gcs-server: the handling agency sees the files (thumbnails,
PDFs with their pages, who added each and with which event) and the exact place; each
link is the console's own route, a 302 to a short-lived signed URL for staff who may
see the report and the console's one 404 for anyone else; a follow-up brings a photo
the reporter then sees as the agency's; a refused file, or a form without its token,
changes nothing (no document, no object)."""

from __future__ import annotations

import io
import os
import re
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.cloud import firestore, storage
from PIL import Image
from pypdf import PdfWriter

from shared import wiring
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, GeoPoint, Region, Role
from shared.ports import SystemClock
from shared.tokens import reporter_token
from shared.usecases import evidence
from shared.usecases.act import act
from shared.usecases.attachments import Upload
from shared.usecases.submit import submit_report
from shared.usecases.track import track_report
from shared.web.console.common import MAX_FORM_BYTES
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher
from tests.functional.console_support import ConsoleClient, location

SignedIn = Callable[..., ConsoleClient]

DPUPR, DINKES = "dpupr-cianjur", "dinkes-cianjur"
CUGENANG, SUKAMANAH = "32.03.11", "32.03.11.2001"
ADDRESS = "Depan pasar Cugenang, dekat tiang listrik nomor 12"
POINT = GeoPoint(-6.8206721, 107.1133889)
_FILE_LINK = re.compile(r'href="(/laporan/[^/"]+/berkas/(f[0-9a-f]{10}))"')


def photo(size: tuple[int, int] = (1200, 900), *, gps: bool = True) -> bytes:
    """A phone-like JPEG: camera make and a GPS position in its EXIF."""
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 20, 20), (0, 0, size[0] // 2, size[1] // 4))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = {1: "S", 2: (6.0, 49.0, 12.5), 3: "E", 4: (107.0, 8.0, 30.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def a_pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _settings() -> Settings:
    return Settings.from_env()


def report_with_evidence(agency_id: str = DPUPR) -> str:
    """A report in Cugenang (village, address, point) with a photo and a PDF from the
    reporter, dispositioned to ``agency_id``."""
    settings = _settings()
    store = wiring.report_store()
    blobs = wiring.blob_store()
    files = evidence.safe_files(
        [Upload("IMG_2041.jpg", photo()), Upload("surat.pdf", a_pdf())],
        settings,
        wiring.malware_scanner(),
    )
    draft = replace(
        a_draft(), region=Region("32", "32.03", CUGENANG, SUKAMANAH), address=ADDRESS, point=POINT
    )
    result = submit_report(
        draft,
        an_identity(name="Siti Rahma"),
        client_id=uuid.uuid4().hex,
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=SystemClock(),
        settings=settings,
        files=files,
        blobs=blobs,
    )
    command = Command(
        Action.DISPOSITION,
        Actor(Role.SYSTEM, "system:route"),
        agency_id=agency_id,
        data={"method": "rule"},
    )
    act(result.report_id, command, store=store, clock=SystemClock(), settings=settings)
    return result.report_id


def _doc(report_id: str) -> dict[str, Any]:
    db = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
    return db.collection("reports").document(report_id).get().to_dict() or {}


def _objects() -> set[str]:
    client = storage.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
    return {
        blob.name for blob in client.bucket(os.environ["LAPOR_ATTACHMENTS_BUCKET"]).list_blobs()
    }


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def _file_links(html: str) -> list[tuple[str, str]]:
    """(path, file id) of each file link on a page, once each, in order."""
    seen: dict[str, str] = {}
    for path, file_id in _FILE_LINK.findall(unescape(html)):
        seen.setdefault(file_id, path)
    return [(path, file_id) for file_id, path in seen.items()]


def _jpeg(report_id: str) -> str:
    [jpeg] = [a["id"] for a in _doc(report_id)["attachments"] if a["media_type"] == "image/jpeg"]
    return str(jpeg)


# --- what the agency sees -------------------------------------------------------------


def test_the_agency_admin_sees_the_files_and_the_exact_place(signed_in_client: SignedIn) -> None:
    report_id = report_with_evidence()
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    page = admin.get(f"/laporan/{report_id}")
    assert page.status_code == 200
    html = unescape(page.text)

    # The place, exactly: names with their codes, the address, the point and a map link.
    assert "Cugenang (32.03.11)" in html and "Sukamanah (32.03.11.2001)" in html
    assert ADDRESS in html
    assert "-6.820672, 107.113389" in html
    assert (
        'href="https://www.openstreetmap.org/?mlat=-6.820672&mlon=107.113389'
        '#map=18/-6.820672/107.113389"' in html
    )

    # The files: a thumbnail (its size and an alt text) linking to the full photo, the
    # PDF with its pages, both from the reporter with the submission (#1).
    links = _file_links(html)
    assert len(links) == 2
    thumbnail = re.search(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]+)"', html)
    assert thumbnail is not None
    src, width, height, alt = thumbnail.groups()
    assert src.endswith("?ukuran=kecil") and (int(width), int(height)) == (320, 240)
    assert alt.startswith("Foto 1 dari pelapor")
    assert "2 halaman" in html and "1.200 \u00d7 900 px" in html
    assert html.count("Dari pelapor") == 2 and "Laporan dikirim (#1)" in html
    # The page may show images from the bucket, and from nowhere else.
    csp = page.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {wiring.storage_origin()};" in csp

    # The inbox says how many files a report has (from the report it reads anyway).
    code = _doc(report_id)["tracking_code"]
    inbox = unescape(admin.get("/kotak-masuk").text)
    row = inbox[inbox.index(f">{code}</a>") :]
    assert "2 berkas" in row[: row.index("</tr>")]


def test_the_file_link_is_a_short_lived_signed_url_of_the_clean_file(
    signed_in_client: SignedIn,
) -> None:
    report_id = report_with_evidence()
    jpeg = _jpeg(report_id)
    for member in (
        signed_in_client(Role.AGENCY_ADMIN, DPUPR),
        signed_in_client(Role.NATIONAL_ADMIN, "nasional"),
    ):
        answer = member.get(f"/laporan/{report_id}/berkas/{jpeg}")
        assert answer.status_code == 302
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        signed = answer.headers["Location"]
        parts = urlsplit(signed)
        assert signed.startswith(wiring.storage_origin())
        assert parts.path.endswith(f"/reports/{report_id}/{jpeg}")
        assert f"X-Goog-Expires={_settings().attachment_url_ttl_s}" in parts.query
        stored = Image.open(io.BytesIO(_fetch(signed)))
        assert stored.format == "JPEG" and stored.size == (1200, 900)
        assert not stored.getexif()  # no camera, no GPS

    thumb = signed_in_client(Role.AGENCY_ADMIN, DPUPR).get(
        f"/laporan/{report_id}/berkas/{jpeg}?ukuran=kecil"
    )
    assert thumb.status_code == 302
    assert urlsplit(thumb.headers["Location"]).path.endswith(f"/{jpeg}.thumb.webp")
    assert Image.open(io.BytesIO(_fetch(thumb.headers["Location"]))).size == (320, 240)


def test_anyone_else_gets_the_404_of_an_unknown_file(
    signed_in_client: SignedIn, anonymous_client: ConsoleClient
) -> None:
    report_id = report_with_evidence()
    doc = _doc(report_id)
    jpeg = _jpeg(report_id)
    [pdf] = [a["id"] for a in doc["attachments"] if a["media_type"] == "application/pdf"]
    other = signed_in_client(Role.AGENCY_ADMIN, DINKES)
    theirs = other.get(f"/laporan/{report_id}/berkas/{jpeg}")
    unknown = other.get(f"/laporan/{report_id}/berkas/f0000000000")
    assert theirs.status_code == unknown.status_code == 404
    assert "Location" not in theirs.headers
    assert theirs.text.replace(jpeg, "X") == unknown.text.replace("f0000000000", "X")

    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    for path in (
        f"/laporan/{report_id}/berkas/f0000000000",  # not this report's
        f"/laporan/{report_id}/berkas/{pdf}?ukuran=kecil",  # a PDF has no thumbnail
        f"/laporan/{report_id}/berkas/BUKAN-ID",  # malformed
        f"/laporan/tidak-ada/berkas/{jpeg}",  # no such report
    ):
        answer = admin.get(path)
        assert answer.status_code == 404, path
        assert "Halaman tidak ditemukan" in answer.text, path

    # Signed out: the console's sign-in, as for any of its pages, the same for a real
    # file and an unknown one, and never a link to the bucket.
    for file_id in (jpeg, "f0000000000"):
        answer = anonymous_client.get(f"/laporan/{report_id}/berkas/{file_id}")
        assert answer.status_code == 303
        assert location(answer).startswith("/masuk?next=")


# --- staff add files ------------------------------------------------------------------


def _post_follow_up(
    member: ConsoleClient,
    report_id: str,
    files: list[tuple[bytes, str]],
    *,
    csrf: str | None = "",
    lang: str = "id",
) -> Any:
    """The follow-up form as a browser posts it (multipart, its files in ``berkas``)."""
    seq = str(_doc(report_id)["last_seq"])
    form: dict[str, Any] = {"message": "Jalan sudah ditambal, lihat foto.", "seq": seq}
    form["berkas"] = [(io.BytesIO(data), name) for data, name in files]
    return member.post(
        f"/laporan/{report_id}/tindakan/follow-up?lang={lang}",
        form,
        csrf=csrf,
        content_type="multipart/form-data",
    )


def test_a_follow_up_with_a_photo_adds_it_for_the_reporter_to_see(
    signed_in_client: SignedIn,
) -> None:
    report_id = report_with_evidence()
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    page = admin.get(f"/laporan/{report_id}")
    form = re.search(r'<form[^>]+/tindakan/follow-up"[^>]*>', page.text)
    assert form is not None and 'enctype="multipart/form-data"' in form.group(0)
    assert 'type="file" id="follow-up-berkas" name="berkas" multiple' in page.text
    assert 'id="not-our-authority-berkas"' not in page.text  # only where files belong
    assert "paling banyak 5 berkas, masing-masing 8 MB, semuanya 20 MB" in page.text

    answer = _post_follow_up(admin, report_id, [(photo((800, 600)), "jalan-selesai.jpg")])
    assert answer.status_code == 303, answer.text[:2000]
    assert "berkas" in unescape(location(answer))

    doc = _doc(report_id)
    added = doc["attachments"][-1]
    assert len(doc["attachments"]) == 3
    assert added["added_by"] == Role.AGENCY_ADMIN.value and added["added_seq"] == doc["last_seq"]
    assert f"reports/{report_id}/{added['id']}" in _objects()

    # The report page lists it beside the follow-up, from the agency.
    html = unescape(admin.get(f"/laporan/{report_id}").text)
    assert "Dari instansi" in html and f"Tindak lanjut (#{doc['last_seq']})" in html
    assert 'id="resolve-berkas"' in html  # in progress now: the resolution takes files too

    # The reporter's tracking view has it, as the agency's.
    settings = _settings()
    tracked = track_report(
        doc["tracking_code"],
        reporter_token(settings.token_secret, report_id),
        store=wiring.report_store(),
        settings=settings,
        clock=SystemClock(),
    )
    assert tracked is not None
    theirs = [f for f in tracked.report["attachments"] if f["id"] == added["id"]]
    assert theirs and theirs[0]["added_by"] == "agency"


def test_a_refused_file_changes_nothing_and_every_refusal_is_named(
    signed_in_client: SignedIn,
) -> None:
    report_id = report_with_evidence()
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    before, objects = _doc(report_id), _objects()
    fake = b"%PDF-1.4 not really a document"
    for lang, says in (("id", "Tidak ada"), ("en", "Nothing")):
        answer = _post_follow_up(
            admin,
            report_id,
            [(photo((640, 480)), "baik.jpg"), (b"just text", "bukan-foto.jpg"), (fake, "x.pdf")],
            lang=lang,
        )
        assert answer.status_code == 422
        html = unescape(answer.text)
        assert "bukan-foto.jpg" in html and "x.pdf" in html
        assert 'aria-invalid="true"' in html and 'href="#follow-up-berkas"' in html
        # What was typed stays; the files are to be chosen again.
        assert "Jalan sudah ditambal, lihat foto." in html
        assert says in html
    assert _doc(report_id) == before
    assert _objects() == objects

    # One file more than the limit: the whole batch, said so.
    many = [(photo((64, 48), gps=False), f"foto-{i}.jpg") for i in range(6)]
    answer = _post_follow_up(admin, report_id, many)
    assert answer.status_code == 422
    assert "Terlalu banyak berkas: paling banyak 5 berkas" in unescape(answer.text)
    assert _doc(report_id) == before and _objects() == objects

    # Files on an action that takes none: refused, nothing stored either.
    seq = str(before["last_seq"])
    answer = admin.post(
        f"/laporan/{report_id}/tindakan/hold",
        {
            "reason": "Mohon foto dari sisi lain.",
            "seq": seq,
            "berkas": (io.BytesIO(photo()), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "hanya dapat dilampirkan pada tindak lanjut" in unescape(answer.text)
    assert _doc(report_id) == before and _objects() == objects


def test_a_body_over_the_files_limit_is_refused_unread(signed_in_client: SignedIn) -> None:
    report_id = report_with_evidence()
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    before, objects = _doc(report_id), _objects()
    settings = _settings()
    # Over one file's limit, within the body's: refused by name.
    big = b"\xff\xd8\xff" + bytes(settings.attachment_max_file_bytes)
    answer = _post_follow_up(admin, report_id, [(big, "besar.jpg")])
    assert answer.status_code == 422 and "besar.jpg: berkas terlalu besar" in answer.text
    # Over every file's limit and the form's together: refused before it is read.
    huge = bytes(settings.attachment_max_total_bytes + MAX_FORM_BYTES)
    answer = _post_follow_up(admin, report_id, [(huge, "besar.jpg")])
    assert answer.status_code == 413
    assert "kirim lebih sedikit berkas" in answer.text
    assert _doc(report_id) == before and _objects() == objects


@pytest.mark.parametrize("token", [None, "salah"])
def test_a_multipart_form_without_its_token_changes_nothing(
    signed_in_client: SignedIn, token: str | None
) -> None:
    report_id = report_with_evidence()
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    before, objects = _doc(report_id), _objects()
    answer = _post_follow_up(admin, report_id, [(photo((640, 480)), "a.jpg")], csrf=token)
    assert answer.status_code == 403
    assert "Formulir kedaluwarsa" in answer.text
    assert _doc(report_id) == before and _objects() == objects
