"""The leak scanner itself (tools.leak_scan): a planted value is found in each form a
leak takes, and only where its audience is not allowed."""

from __future__ import annotations

import base64
import io
import json
import urllib.parse
from email.message import EmailMessage

import pytest

from tools.leak_scan import (
    Artefact,
    Sensitive,
    file_text,
    forms_of,
    keyset_material,
    mail_text,
    scan,
)

EMAIL = Sensitive("the reporter's e-mail", "wulan.anonim@contoh.id", frozenset({"reporter"}))


def _found_in(text: str, audience: str = "public") -> list[str]:
    return [leak.form for leak in scan([Artefact("planted", audience, text)], [EMAIL])]


@pytest.mark.parametrize(
    "planted",
    [
        "Kepada wulan.anonim@contoh.id,",
        "Kepada WULAN.ANONIM@CONTOH.ID,",
        json.dumps({"contact": "wulan.anonim@contoh.id"}),
        "/lupa-tautan?kontak=" + urllib.parse.quote("wulan.anonim@contoh.id", safe=""),
        "kontak=" + urllib.parse.quote_plus("wulan.anonim@contoh.id"),
        "contact=" + b"wulan.anonim@contoh.id".hex().upper(),
        "XPAuthor: " + "wulan.anonim@contoh.id".encode("utf-16-le").decode("latin-1"),
    ],
)
def test_a_planted_value_is_found_as_text(planted: str) -> None:
    assert _found_in(planted)


@pytest.mark.parametrize("before", range(6))
@pytest.mark.parametrize("after", range(3))
def test_a_planted_value_is_found_base64_encoded_inside_a_longer_value(
    before: int, after: int
) -> None:
    raw = b"x" * before + b"wulan.anonim@contoh.id" + b"y" * after
    assert _found_in(base64.b64encode(raw).decode())
    assert _found_in(base64.urlsafe_b64encode(b"\xfb\xff" + raw).decode().rstrip("="))


def test_a_value_in_html_is_found_escaped() -> None:
    name = Sensitive("the reporter's name", "Dewi O'Brien", frozenset())
    page = "<p>Pelapor: Dewi O&#x27;Brien</p>"
    assert [leak.form for leak in scan([Artefact("page", "public", page)], [name])] == ["html"]


def test_an_allowed_audience_is_not_a_leak() -> None:
    assert _found_in("Kepada wulan.anonim@contoh.id,", audience="reporter") == []


def test_an_unrelated_text_is_not_a_leak() -> None:
    assert _found_in("Kepada wulan@contoh.id, anonim") == []
    assert _found_in(base64.b64encode(b"wulan.anonim@contoh.ix").decode()) == []


def test_a_leak_names_what_and_where_but_shows_no_more_than_its_context() -> None:
    [leak] = scan([Artefact("log notify.log", "log", "sent to wulan.anonim@contoh.id ok")], [EMAIL])
    assert (leak.sensitive, leak.where, leak.audience) == (EMAIL.name, "log notify.log", "log")
    assert "wulan.anonim" not in leak.excerpt and "sent to [" in leak.excerpt


def test_an_e_mail_is_read_decoded() -> None:
    message = EmailMessage()
    message["To"] = "petugas@dinas.example"
    message["Subject"] = "Laporan dari Wulandari Anonimawati"  # encoded as UTF-8 words below
    message.set_content(
        "Kontak pelapor: wulan.anonim@contoh.id — mohon ditindaklanjuti.", cte="base64"
    )
    raw = message.as_bytes()
    assert b"wulan.anonim@contoh.id" not in raw  # hidden from a raw search
    assert _found_in(mail_text(raw))


def test_the_forms_of_a_value_are_distinct_and_long_enough() -> None:
    forms = forms_of("0813-7777-4242")
    assert len(set(forms.values())) == len(forms)
    assert all(len(text) >= 12 for name, text in forms.items() if name.startswith("base64"))


def test_keyset_material_is_the_key_values() -> None:
    keyset = {
        "primaryKeyId": 1,
        "key": [{"keyData": {"value": "c2VjcmV0LWtleQ==", "typeUrl": "t"}}],
    }
    assert keyset_material(json.dumps(keyset)) == ["c2VjcmV0LWtleQ=="]


def test_a_pdf_is_read_as_a_reader_would() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.add_metadata({"/Author": "wulan.anonim@contoh.id"})  # written with octal escapes
    out = io.BytesIO()
    writer.write(out)
    assert b"wulan.anonim@contoh.id" not in out.getvalue()
    assert _found_in(file_text(out.getvalue()))


def test_an_image_is_read_with_its_metadata() -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x9C9D] = "wulan.anonim@contoh.id".encode("utf-16-le")  # XPAuthor, as Windows writes it
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif)
    assert _found_in(file_text(out.getvalue()))
