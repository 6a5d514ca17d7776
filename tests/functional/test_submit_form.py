"""The hosted form through functions-framework against the real emulators: no-JS
submission, errors by their fields, escaping, language, and nothing written on refusal.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared.web.openapi import form_example
from tests.functional.support import counts


class Page(HTMLParser):
    """Just enough of the page's structure to check its accessibility promises."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.label_for: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.elements.append((tag, found))
        if tag == "label" and "for" in found:
            self.label_for.add(found["for"])

    def by_id(self, element_id: str) -> dict[str, str]:
        return next(attrs for _, attrs in self.elements if attrs.get("id") == element_id)

    def inputs(self) -> list[tuple[str, dict[str, str]]]:
        return [
            (tag, attrs)
            for tag, attrs in self.elements
            if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden"
        ]

    def nonce(self) -> str:
        return next(a["value"] for t, a in self.elements if a.get("name") == "nonce")


def fields(**changes: str | None) -> dict[str, str]:
    data = form_example()
    for name, value in changes.items():
        key = name.replace("__", ".")
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_form_is_indonesian_by_default_and_complete(app: FlaskClient) -> None:
    response = app.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="id">' in html
    assert 'name="viewport"' in html
    assert "Sampaikan laporan Anda" in html
    page = Page(html)
    for _, attrs in page.inputs():
        assert attrs["id"] in page.label_for, f"no label for {attrs['id']}"
    names = {attrs.get("name") for _, attrs in page.elements}
    assert {
        "type", "title", "description", "category", "province_code", "regency_code",
        "incident_date", "target_agency_id", "anonymous", "confidential",
        "reporter.name", "reporter.email", "reporter.phone", "nonce", "website",
    } <= names  # fmt: skip
    honeypot = page.by_id("f-website")
    assert honeypot["tabindex"] == "-1" and honeypot["autocomplete"] == "off"
    assert "<fieldset" in html and "<legend>" in html
    assert 'type="radio"' in html and "<optgroup" in html
    assert re.search(r'<optgroup label="Jawa Barat" data-province="32">', html)
    assert "Kabupaten Cianjur" in html


def test_each_visit_gets_a_fresh_nonce(app: FlaskClient) -> None:
    assert (
        Page(app.get("/").get_data(as_text=True)).nonce()
        != Page(app.get("/").get_data(as_text=True)).nonce()
    )


def test_form_speaks_english_when_asked(app: FlaskClient) -> None:
    by_query = app.get("/?lang=en").get_data(as_text=True)
    by_header = app.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    for html in (by_query, by_header):
        assert '<html lang="en">' in html and "Submit your report" in html
    assert 'action="/?lang=en"' in by_query


def test_pages_carry_security_headers(app: FlaskClient) -> None:
    response = app.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_valid_form_redirects_to_the_private_page_which_shows_the_code(
    app: FlaskClient, db: firestore.Client
) -> None:
    response = app.post("/", data=fields())
    assert response.status_code == 303
    location = response.headers["Location"]
    match = re.fullmatch(
        r"/lacak/([0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3})\?token=([^&]+)&new=1", location
    )
    assert match, location
    code, token = match.groups()
    page = app.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Laporan Anda sudah kami terima" in html
    assert f'<p class="code">{code}</p>' in html
    assert f"/lacak/{code}?token={token}" in html
    assert "jangan dibagikan" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert counts(db)["reports"] == 1


def test_resending_the_same_form_does_not_make_a_second_report(
    app: FlaskClient, db: firestore.Client
) -> None:
    first = app.post("/", data=fields())
    again = app.post("/", data=fields())
    assert first.headers["Location"] == again.headers["Location"]
    assert counts(db)["reports"] == 1


def test_same_nonce_with_edited_form_asks_to_send_again(
    app: FlaskClient, db: firestore.Client
) -> None:
    app.post("/", data=fields())
    before = counts(db)
    response = app.post("/", data=fields(title="Judul yang sudah diubah"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "sudah pernah dikirim" in html
    assert Page(html).nonce() != form_example()["nonce"]
    assert counts(db) == before


def test_invalid_form_is_shown_again_with_errors_by_their_fields(
    app: FlaskClient, db: firestore.Client
) -> None:
    before = counts(db)
    response = app.post(
        "/",
        data=fields(title="pendek", reporter__email="bukan-email", reporter__name="", type=None),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert counts(db) == before
    page = Page(html)
    summary = page.by_id("error-summary")
    assert summary["role"] == "alert" and summary["tabindex"] == "-1"
    for field, anchor in (
        ("title", "f-title"),
        ("reporter.email", "f-reporter-email"),
        ("reporter.name", "f-reporter-name"),
    ):
        assert f'href="#{anchor}"' in html, field
        control = page.by_id(anchor)
        assert control["aria-invalid"] == "true"
        assert f"{anchor}-error" in control["aria-describedby"].split()
    assert 'href="#f-type-pengaduan"' in html
    assert "Minimal 10 karakter." in html
    assert "Alamat email tidak valid." in html
    # The user's input is kept.
    assert page.by_id("f-title")["value"] == "pendek"
    assert page.by_id("f-reporter-email")["value"] == "bukan-email"
    assert "Sudah tiga bulan jalan" in html
    assert page.nonce() == form_example()["nonce"]


def test_errors_are_in_english_on_the_english_form(app: FlaskClient) -> None:
    html = app.post("/?lang=en", data=fields(title="short")).get_data(as_text=True)
    assert "At least 10 characters." in html and "Minimal 10" not in html


def test_regency_must_belong_to_the_province(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = app.post("/", data=fields(province_code="31", regency_code="32.03"))
    assert response.status_code == 422
    assert "tidak berada di provinsi yang dipilih" in response.get_data(as_text=True)
    assert counts(db) == before


def test_future_incident_date_is_refused(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = app.post("/", data=fields(incident_date="2999-12-31"))
    assert response.status_code == 422
    assert "tidak boleh di masa depan" in response.get_data(as_text=True)
    assert counts(db) == before


def test_anonymous_form_needs_no_contact(app: FlaskClient) -> None:
    data = fields(anonymous="1", reporter__name="", reporter__email="", reporter__phone="")
    assert app.post("/", data=data).status_code == 303


def test_values_are_html_escaped_everywhere(app: FlaskClient) -> None:
    evil = "<script>alert('x')</script> judul"
    refused = app.post("/", data=fields(title=evil, description="<b>pendek</b>"))
    html = refused.get_data(as_text=True)
    assert "<script>alert" not in html and "<b>pendek" not in html
    assert "&lt;script&gt;" in html
    accepted = app.post("/", data=fields(title=evil, nonce="another-nonce-0001"))
    page = app.get(accepted.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_filled_honeypot_is_refused_and_writes_nothing(
    app: FlaskClient, db: firestore.Client
) -> None:
    before = counts(db)
    response = app.post("/", data=fields(website="http://spam.example"))
    assert response.status_code == 400
    assert counts(db) == before


def test_wrong_content_type_is_415(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = app.post("/", data="title=x", content_type="text/plain")
    assert response.status_code == 415
    assert counts(db) == before


def test_oversized_form_is_413(app: FlaskClient, db: firestore.Client) -> None:
    before = counts(db)
    response = app.post("/", data=fields(description="x" * 70_000))
    assert response.status_code == 413
    assert "Isian terlalu besar" in response.get_data(as_text=True)
    assert counts(db) == before


def test_rate_limited_form_explains_in_indonesian(
    app: FlaskClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.config import settings

    monkeypatch.setenv("LAPOR_RATE_LIMIT_SUBMITS", "1")
    settings.cache_clear()
    assert app.post("/", data=fields()).status_code == 303
    before = counts(db)
    response = app.post("/", data=fields(nonce="second-nonce-0001"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Terlalu banyak laporan" in response.get_data(as_text=True)
    assert counts(db) == before


def test_tracking_page_switches_language_and_keeps_the_token(app: FlaskClient) -> None:
    location = app.post("/", data=fields()).headers["Location"]
    html = app.get(location).get_data(as_text=True)
    switch = re.search(r'href="([^"]*lang=en[^"]*)"', html)
    assert switch is not None
    english = app.get(switch.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Not yet verified" in english and "S. R." in english
