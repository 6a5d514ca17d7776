"""The citizen pages' files and place, through functions-framework against the real
emulators (Firestore, Pub/Sub, fake-gcs-server): the form's file input and place
fields without JavaScript, every refusal on one page, the places' JSON, the tracking
page's thumbnails and place, and the file links (a redirect to a short-lived signed
URL for whoever the page shows the file to, the same 404 for everyone else).
"""

from __future__ import annotations

import io
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from google.cloud import firestore, storage
from PIL import Image

from shared import wiring
from shared.config import settings
from shared.web.openapi import form_example
from tests.functional.evidence_support import phone_photo
from tests.functional.support import counts
from tests.functional.test_reporter_actions import (
    DISPOSITION,
    FOLLOW_UP,
    actions,
    drive,
    submitted,
)
from tests.functional.test_submit_form import Page
from tools.stack import Emulators

CIANJUR, CUGENANG, SUKAMANAH = "32.03", "32.03.11", "32.03.11.2001"
ADDRESS = "Jl. Raya Cugenang, depan warung Bu Iis"
LATITUDE, LONGITUDE = "-6.816284", "107.081471"
FILE_LINK = re.compile(r'href="(/lacak/[^"/]+/berkas/(f[0-9a-f]{10})[^"]*)"')


def form(**changes: Any) -> dict[str, Any]:
    """The form as a phone without JavaScript posts it: a fresh visit, ``changes`` on top."""
    return {**form_example(), "nonce": secrets.token_urlsafe(18), **changes}


def with_files(data: dict[str, Any], *files: tuple[str, bytes]) -> dict[str, Any]:
    # The declared type is what a browser would send; the function never reads it.
    data["berkas"] = [(io.BytesIO(content), name, "image/jpeg") for name, content in files]
    return data


def post(app: FlaskClient, data: dict[str, Any], path: str = "/") -> Any:
    return app.post(path, data=data, content_type="multipart/form-data")


def sent(response: Any) -> tuple[str, str]:
    """The tracking code and the reporter token of an accepted form."""
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    parts = urlsplit(response.headers["Location"])
    return parts.path.rsplit("/", 1)[1], parse_qs(parts.query)["token"][0]


def objects(emulators: Emulators) -> set[str]:
    client = storage.Client(project=emulators.project)
    try:
        return {blob.name for blob in client.list_blobs(emulators.bucket)}
    finally:
        client.close()


def pdf(pages: int = 2) -> bytes:
    """A small, valid PDF of ``pages`` blank pages (as a scanner app writes one)."""
    out = io.BytesIO()
    first, *rest = [Image.new("RGB", (200, 280), "white") for _ in range(pages)]
    first.save(out, format="PDF", save_all=True, append_images=rest)
    return out.getvalue()


@pytest.fixture
def photo() -> bytes:
    return phone_photo((1200, 900))


# --- the form -------------------------------------------------------------------------


def test_the_form_takes_files_and_a_place_without_javascript(app: FlaskClient) -> None:
    response = app.get("/")
    html = response.get_data(as_text=True)
    page = Page(html)

    form_tag = next(attrs for tag, attrs in page.elements if tag == "form")
    assert form_tag["enctype"] == "multipart/form-data"
    files = page.by_id("f-berkas")
    assert files["type"] == "file" and files["name"] == "berkas" and "multiple" in files
    assert files["accept"] == "image/*,application/pdf" and "capture" not in files
    # The limits are stated next to the input, in plain words.
    limit = settings()
    assert f"Paling banyak {limit.attachment_max_count} berkas" in html
    assert "paling besar 8 MB" in html and "paling besar 20 MB" in html
    show = page.by_id("f-show_attachments")
    assert show["type"] == "checkbox" and "checked" not in show
    assert "Tampilkan foto/dokumen di halaman publik laporan ini" in html
    for name in ("district_code", "village_code", "address", "latitude", "longitude"):
        assert page.by_id(f"f-{name}")["name"] == name
        assert f"f-{name}" in page.label_for
    assert "Titik lokasi (opsional)" in html and "<details" in html
    refresh = next(a for _, a in page.elements if a.get("name") == "perbarui_wilayah")
    assert refresh["type"] == "submit"
    assert "berkas yang sudah dipilih perlu dipilih lagi" in html
    # "Use my location" is the script's: hidden until it runs.
    assert "hidden" in page.by_id("geo-button")
    # Enter presses the report's own button, which comes before the places' one.
    buttons = [a for tag, a in page.elements if tag == "button" and a.get("type") == "submit"]
    assert "name" not in buttons[0]


def test_the_form_page_allows_what_its_scripts_need_and_nothing_more(app: FlaskClient) -> None:
    response = app.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert csp.count("'sha256-") == 3  # the stylesheet and the two scripts
    assert "connect-src 'self'" in csp
    assert f"img-src 'self' {wiring.storage_origin()}" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Permissions-Policy"] == (
        "camera=(), microphone=(), geolocation=(self)"
    )
    # Other pages may not ask for the location.
    assert "geolocation=()" in app.get("/lacak").headers["Permissions-Policy"]


def test_the_places_button_shows_the_districts_then_the_villages_and_sends_nothing(
    app: FlaskClient, db: firestore.Client, clean_emulators: Emulators, photo: bytes
) -> None:
    before = counts(db)
    chosen = form(title="Jalan rusak di Cugenang", perbarui_wilayah="1")

    districts = post(app, with_files(chosen, ("jalan.jpg", photo)))
    villages = post(app, form(perbarui_wilayah="1", district_code=CUGENANG, address=ADDRESS))

    assert districts.status_code == villages.status_code == 200
    first = districts.get_data(as_text=True)
    assert f'<option value="{CUGENANG}">Cugenang</option>' in first
    assert 'value="Jalan rusak di Cugenang"' in first  # the values are kept
    assert "Laporan Anda belum dikirim" in first
    assert "pilih lagi sebelum mengirim" in first  # the files were not kept
    second = villages.get_data(as_text=True)
    assert f'<option value="{CUGENANG}" selected>Cugenang</option>' in second
    assert f'<option value="{SUKAMANAH}">Sukamanah</option>' in second
    assert f'value="{ADDRESS}"' in second
    assert "pilih lagi sebelum mengirim" not in second
    assert counts(db) == before
    assert objects(clean_emulators) == set()


def test_every_refusal_shows_on_one_page_and_nothing_is_stored(
    app: FlaskClient,
    db: firestore.Client,
    clean_emulators: Emulators,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_FILE_BYTES", str(64 * 1024))
    settings.cache_clear()
    wiring.reset()
    big = phone_photo((1200, 900))
    assert len(big) > 64 * 1024
    before = counts(db)

    response = post(
        app,
        with_files(form(title=""), ("foto.jpg", pdf()), ("besar.jpg", big)),
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    page = Page(html)
    assert "Ada 3 isian yang perlu diperbaiki" in html
    summary = html[html.index('id="error-summary"') : html.index("</ul>")]
    assert '<a href="#f-title">' in summary
    assert (
        '<a href="#f-berkas">Foto dan dokumen: foto.jpg: isi berkas tidak sesuai dengan namanya.'
        in summary
    )
    assert '<a href="#f-berkas">Foto dan dokumen: besar.jpg: berkas terlalu besar' in summary
    assert "paling besar 64 KB" in summary
    described = page.by_id("f-berkas")["aria-describedby"].split()
    assert described == ["f-berkas-hint", "f-berkas-error"]
    assert page.by_id("f-berkas")["aria-invalid"] == "true"
    assert "pilih lagi sebelum mengirim" in html
    assert counts(db) == before
    assert objects(clean_emulators) == set()


def test_refusals_read_in_english_for_an_english_visitor(
    app: FlaskClient, db: firestore.Client
) -> None:
    response = post(app, with_files(form(), ("foto.jpg", pdf())), path="/?lang=en")
    assert response.status_code == 422
    assert "foto.jpg: the file is not what its name says." in response.get_data(as_text=True)
    assert counts(db)["reports"] == 0


def test_a_body_over_the_limit_is_a_page_naming_the_limit(
    app: FlaskClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_FILE_BYTES", str(64 * 1024))
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_TOTAL_BYTES", str(128 * 1024))
    settings.cache_clear()
    wiring.reset()
    limit = settings().attachment_max_total_bytes + settings().max_body_bytes

    response = post(app, with_files(form(), ("besar.jpg", b"\xff" * limit)))

    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Kiriman terlalu besar" in html
    assert "Kiriman melebihi 192 KB" in html and "semuanya paling besar 128 KB" in html
    assert counts(db)["reports"] == 0


# --- the places' JSON -------------------------------------------------------------------


def test_the_places_of_a_regency_are_public_cacheable_json(app: FlaskClient) -> None:
    response = app.get(f"/data/wilayah/{CIANJUR}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["ETag"]
    body = response.get_json()
    assert body["regency_code"] == CIANJUR
    assert len(body["districts"]) == 32  # Kepmendagri 2025
    cugenang = next(d for d in body["districts"] if d["code"] == CUGENANG)
    assert cugenang["name"] == "Cugenang"
    assert {"code": SUKAMANAH, "name": "Sukamanah"} in cugenang["villages"]
    again = app.get(f"/data/wilayah/{CIANJUR}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("code", ["99.99", "32.03.11", "32", "x"])
def test_anything_but_a_known_regency_is_a_problem_404(app: FlaskClient, code: str) -> None:
    response = app.get(f"/data/wilayah/{code}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- the tracking page and the file links ---------------------------------------------


def submit_with_files(app: FlaskClient, photo: bytes, **changes: Any) -> tuple[str, str]:
    data = form(
        district_code=CUGENANG,
        village_code=SUKAMANAH,
        address=ADDRESS,
        latitude=LATITUDE,
        longitude=LONGITUDE,
        **changes,
    )
    return sent(post(app, with_files(data, ("jalan.jpg", photo), ("surat.pdf", pdf(3)))))


def test_the_reporter_sees_the_files_and_the_exact_place(
    app: FlaskClient, db: firestore.Client, photo: bytes
) -> None:
    code, token = submit_with_files(app, photo)

    page = app.get(f"/lacak/{code}", query_string={"token": token})

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sukamanah, Cugenang, Kabupaten Cianjur, Jawa Barat" in html
    assert ADDRESS in html
    assert f"{float(LATITUDE)}, {float(LONGITUDE)}" in html
    assert (
        f"https://www.openstreetmap.org/?mlat={float(LATITUDE)}&amp;mlon={float(LONGITUDE)}"
        f"#map=17/{float(LATITUDE)}/{float(LONGITUDE)}"
    ) in html
    assert "Dari pelapor" in html
    parsed = Page(html)
    [image] = [attrs for tag, attrs in parsed.elements if tag == "img"]
    assert image["alt"] == "Foto 1 dari pelapor"
    assert (image["width"], image["height"]) == ("320", "240")
    assert image["src"].endswith("?token=" + token + "&ukuran=kecil")
    assert "Dokumen PDF 1: 3 halaman" in html
    assert "2 berkas dilampirkan" in html  # beside the submission in the timeline
    links = FILE_LINK.findall(html)
    assert len({file_id for _, file_id in links}) == 2


def test_the_reporters_file_link_redirects_to_a_short_lived_signed_url(
    app: FlaskClient, photo: bytes
) -> None:
    code, token = submit_with_files(app, photo)
    html = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    file_id = FILE_LINK.findall(html)[0][1]

    for query in ({"token": token}, {"token": token, "ukuran": "kecil"}):
        response = app.get(f"/lacak/{code}/berkas/{file_id}", query_string=query)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(wiring.storage_origin())
        assert "X-Goog-Signature=" in response.headers["Location"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    full = app.get(f"/lacak/{code}/berkas/{file_id}", query_string={"token": token})
    thumb = app.get(
        f"/lacak/{code}/berkas/{file_id}", query_string={"token": token, "ukuran": "kecil"}
    )
    assert ".thumb.webp" in thumb.headers["Location"]
    assert ".thumb.webp" not in full.headers["Location"]


def test_the_public_sees_no_file_unless_the_reporter_chose_to_show_them(
    app: FlaskClient, photo: bytes
) -> None:
    code, token = submit_with_files(app, photo)
    own = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    file_ids = {file_id for _, file_id in FILE_LINK.findall(own)}

    public = app.get(f"/lacak/{code}")
    html = public.get_data(as_text=True)
    assert public.status_code == 200
    assert "<img" not in html and "/berkas/" not in html
    assert ADDRESS not in html
    # The rounded point and a zoomed-out map.
    assert "-6.816, 107.081" in html and "dibulatkan" in html and "#map=15/" in html
    for file_id in file_ids:
        assert app.get(f"/lacak/{code}/berkas/{file_id}").status_code == 404
    # A wrong token is the public, too.
    assert app.get(f"/lacak/{code}/berkas/{next(iter(file_ids))}?token=x").status_code == 404


def test_the_public_sees_the_files_the_reporter_chose_to_show(
    app: FlaskClient, photo: bytes
) -> None:
    code, _ = submit_with_files(app, photo, show_attachments="1")

    html = app.get(f"/lacak/{code}").get_data(as_text=True)

    links = FILE_LINK.findall(html)
    assert links and all("token=" not in href for href, _ in links)
    assert app.get(links[0][0].replace("&amp;", "&")).status_code == 302


def test_a_confidential_reports_files_are_only_for_the_reporter(
    app: FlaskClient, photo: bytes
) -> None:
    code, token = submit_with_files(app, photo, confidential="1", show_attachments="1")
    own = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    file_id = FILE_LINK.findall(own)[0][1]

    assert app.get(f"/lacak/{code}/berkas/{file_id}").status_code == 404
    assert (
        app.get(f"/lacak/{code}/berkas/{file_id}", query_string={"token": token}).status_code == 302
    )


@pytest.mark.parametrize(
    "file_id", ["f123", "F0123456789", "f0123456789a", "..%2Fsecret", "f012345678g"]
)
def test_a_malformed_file_id_is_the_same_404(app: FlaskClient, file_id: str) -> None:
    response = app.get(f"/lacak/K7M-2XQ-9RJ/berkas/{file_id}")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True)


def test_a_file_nobody_may_see_is_the_same_404_as_a_missing_one(
    app: FlaskClient, photo: bytes
) -> None:
    code, token = submit_with_files(app, photo)
    own = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    hidden = FILE_LINK.findall(own)[0][1]  # the reporter did not let the public see it

    answers = {
        path: app.get(path, query_string=query)
        for path, query in (
            (f"/lacak/{code}/berkas/{hidden}", {}),
            (f"/lacak/{code}/berkas/f0123456789", {"token": token}),
            ("/lacak/K7M-2XQ-9RJ/berkas/f0123456789", {}),
        )
    }

    assert {answer.status_code for answer in answers.values()} == {404}
    # The same page, naming no file; it leads back to the report's tracking page (and
    # its language switch keeps the asker's own token).
    switch = re.compile(r'<a href="[^"]*" lang="en"')
    pages = {
        switch.sub("", answer.get_data(as_text=True)).replace("K7M-2XQ-9RJ", code)
        for answer in answers.values()
    }
    assert len(pages) == 1
    [page] = pages
    assert "/berkas/" not in page and f'href="/lacak/{code}"' in page


# --- the reporter's reply, with files -------------------------------------------------


def test_the_reply_form_takes_files_and_refuses_a_bad_one_with_the_text_error_beside_it(
    app: FlaskClient, db: firestore.Client, clean_emulators: Emulators, photo: bytes
) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP)
    page = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    reply_form = page[page.index(f'action="/lacak/{code}/reply"') - 40 :]
    assert 'enctype="multipart/form-data"' in reply_form[:200]
    assert 'id="f-reply-berkas" name="berkas" multiple' in reply_form
    before = objects(clean_emulators)

    refused = post(
        app,
        with_files({"token": token, "message": ""}, ("foto.jpg", pdf())),
        path=f"/lacak/{code}/reply",
    )

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "foto.jpg: isi berkas tidak sesuai dengan namanya." in html
    assert 'id="f-reply-message-error"' in html  # the empty message, on the same page
    assert actions(db, report_id)[-1] == "follow_up"
    assert objects(clean_emulators) == before

    accepted = post(
        app,
        with_files({"token": token, "message": "Ini fotonya."}, ("jalan.jpg", photo)),
        path=f"/lacak/{code}/reply",
    )

    assert accepted.status_code == 303
    assert actions(db, report_id)[-1] == "reporter_reply"
    html = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    [image] = [attrs for tag, attrs in Page(html).elements if tag == "img"]
    assert image["alt"] == "Foto 1 dari pelapor"
    assert "1 berkas dilampirkan" in html
    file_id = FILE_LINK.findall(html)[0][1]
    assert f"reports/{report_id}/{file_id}" in objects(clean_emulators)
