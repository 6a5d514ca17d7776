"""Composing notification e-mail: every kind in both languages, the headers a resend and
an unsubscribe rely on, the two parts saying the same, and no way for a reporter's
identity into an agency's message."""

from __future__ import annotations

import datetime as dt
import email
import re
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from pydantic import ValidationError

from shared.adapters.smtp import to_mime
from shared.config import Settings
from shared.tokens import read_unsubscribe_token
from shared.usecases.mail import (
    AGENCY_KINDS,
    KINDS,
    REPORTER_KINDS,
    TEMPLATES,
    MailRecipient,
    compose_email,
    html_to_text,
    message_id,
)

SETTINGS = Settings(
    token_secret="unit-test-secret-0123456789",
    public_base_url="https://lapor.example.go.id",
    mail_from="Lapor <noreply@lapor.example.go.id>",
)
REPORT_ID = "Rk7mQ2xq9RjWz3Lp0aBc"
CODE = "K7M-2XQ-9RJ"
TITLE = "Jalan berlubang di Jl. Siliwangi"
PRIVATE = f"https://lapor.example.go.id/lacak/{CODE}?token=t0k3n"
REPORTER = MailRecipient.reporter("siti@contoh.id", REPORT_ID)
AGENCY = MailRecipient.agency(
    "pengaduan@dpupr.cianjurkab.example", "dpupr-cianjur", SETTINGS.token_secret
)
AGENCY_NAME = "Dinas PUPR Kabupaten Cianjur"
REPORT_LINK = "https://agency.example.go.id/api/v1/reports/Rk7mQ2xq9RjWz3Lp0aBc"

_REPORTER = {"tracking_code": CODE, "title": TITLE, "private_link": PRIVATE}
_AGENCY = {
    "agency_name": AGENCY_NAME,
    "tracking_code": CODE,
    "title": TITLE,
    "report_link": REPORT_LINK,
}
_NEW = {
    **_AGENCY,
    "report_type": "pengaduan",
    "category": "Jalan dan jembatan",
    "description": "Lubang besar di depan sekolah.\nSudah dua minggu.",
    "region": "Kabupaten Cianjur",
    "due_on": dt.date(2026, 3, 24),
}
# kind -> (a full context, a text each language's message must show)
CONTEXTS: dict[str, tuple[dict[str, Any], str]] = {
    "report.accepted": (_REPORTER, PRIVATE),
    "report.on_hold": (
        {**_REPORTER, "reason": "Mohon kirim foto lokasi.", "answer_by": dt.date(2026, 3, 12)},
        "Mohon kirim foto lokasi.",
    ),
    "report.followed_up": (
        {**_REPORTER, "agency_name": AGENCY_NAME, "message": "Tim sudah meninjau lokasi."},
        "Tim sudah meninjau lokasi.",
    ),
    "report.resolved": (
        {**_REPORTER, "agency_name": AGENCY_NAME, "message": "Jalan sudah ditambal."},
        "Jalan sudah ditambal.",
    ),
    "report.closed": (_REPORTER, PRIVATE),
    "report.archived": ({**_REPORTER, "reason": "Tidak ada jawaban"}, "Tidak ada jawaban"),
    "link.resend": (_REPORTER, PRIVATE),
    "report.dispositioned": (_NEW, "Lubang besar di depan sekolah."),
    "report.forwarded": ({**_NEW, "from_agency_name": "Pemkab Cianjur"}, "Pemkab Cianjur"),
    "report.returned": (
        {**_AGENCY, "from_agency_name": "Dinas Kesehatan", "reason": "Bukan urusan kami"},
        "Bukan urusan kami",
    ),
    "report.reporter_replied": ({**_AGENCY, "message": "Belum selesai, Pak."}, "Belum selesai"),
    "report.hold_answered": ({**_AGENCY, "message": "Fotonya saya kirim."}, "Fotonya saya"),
    "report.reopened": ({**_AGENCY, "reason": "Lubangnya muncul lagi"}, "Lubangnya muncul"),
    "report.escalated": (
        {
            **_AGENCY,
            "tier": "overdue",
            "clock": "resolve",
            "due_on": dt.date(2026, 3, 24),
            "overdue_working_days": 2,
            "handling_agency_name": "UPTD Jalan",
            "dossier_url": "https://agency.example.go.id/api/v1/reports/x/dossier",
        },
        "UPTD Jalan",
    ),
    "report.daily": (
        {
            "agency_name": AGENCY_NAME,
            "day": dt.date(2026, 3, 2),
            "received": 1234,
            "followed_up": 7,
            "resolved": 5,
            "overdue_now": 3,
            "figures_link": "https://lapor.example.go.id/statistik/instansi/dpupr-cianjur",
        },
        "/statistik/instansi/dpupr-cianjur",
    ),
    "agency.digest": (
        {
            "agency_name": AGENCY_NAME,
            "items": [
                {"kind": "report.dispositioned", "tracking_code": CODE, "title": TITLE},
                {"kind": "report.reopened", "tracking_code": "AB2-CD3-EF4", "title": "Lampu"},
            ],
        },
        "AB2-CD3-EF4",
    ),
}
LANGS = ("id", "en")
# The reporters' and agencies' kinds; a staff member's own (invitation, password reset)
# are tests/unit/test_staff_mail.py's.
NOTIFICATION_KINDS = {**REPORTER_KINDS, **AGENCY_KINDS}


def _compose(kind: str, lang: Any = "id", **changes: Any) -> Any:
    context, _ = CONTEXTS[kind]
    recipient = REPORTER if kind in REPORTER_KINDS else AGENCY
    return compose_email(
        kind, lang, {**context, **changes}, f"{REPORT_ID}.4.x", recipient, settings=SETTINGS
    )


def test_every_kind_has_a_sample_here_and_a_template() -> None:
    assert set(CONTEXTS) == set(NOTIFICATION_KINDS)
    templates = {path.stem for path in TEMPLATES.glob("*.html") if not path.name.startswith("_")}
    assert templates == set(KINDS)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", sorted(NOTIFICATION_KINDS))
def test_each_kind_in_each_language(kind: str, lang: Any) -> None:
    message = _compose(kind, lang)
    _, must_show = CONTEXTS[kind]
    assert message.to == (REPORTER if kind in REPORTER_KINDS else AGENCY).address
    # Short and clear: one line a phone's list shows whole.
    assert 10 <= len(message.subject) <= 60 and "\n" not in message.subject
    if kind != "report.daily":
        assert CODE in message.subject or "AB2-CD3-EF4" in message.text
    assert f'<html lang="{lang}">' in message.html
    for part in (message.text, message.html):
        assert must_show in part
        assert message.headers["List-Unsubscribe"][1:-1] in part.replace("&amp;", "&")
    assert "<" not in re.sub(r"<https?://[^>]+>", "", message.text)  # no tag left in the text
    assert message.headers["Content-Language"] == lang


@pytest.mark.parametrize("kind", sorted(NOTIFICATION_KINDS))
def test_the_languages_differ(kind: str) -> None:
    indonesian, english = _compose(kind, "id"), _compose(kind, "en")
    assert indonesian.subject != english.subject
    assert indonesian.text != english.text


def test_the_reporters_words_and_links_in_both_parts() -> None:
    message = _compose("report.accepted")
    assert message.subject == f"Laporan Anda diterima: {CODE}"
    assert PRIVATE in message.text
    assert f'<a href="{PRIVATE}"' in message.html
    assert "Kode pelacakan: K7M-2XQ-9RJ" in message.text
    assert _compose("report.accepted", "en").subject == f"Your report was received: {CODE}"


def test_peoples_words_are_escaped_in_the_html_and_kept_in_the_text() -> None:
    words = '<script>alert("x")</script> & "kutip"\nbaris kedua'
    message = _compose("report.followed_up", message=words)
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;" in message.html
    assert "&lt;/script&gt; &amp; &#34;kutip&#34;<br>\nbaris kedua" in message.html
    assert '> <script>alert("x")</script> & "kutip"\n> baris kedua' in message.text


def test_message_id_is_stable_per_notification_and_address() -> None:
    first = _compose("report.accepted")
    again = _compose("report.accepted", "en")  # a resend, whatever its language
    assert first.message_id == again.message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@lapor\.example\.go\.id>", first.message_id)
    one = ("a@b.id",)
    assert message_id("r.4.reporter", ("A@b.id",), "d") == message_id("r.4.reporter", one, "d")
    assert message_id("r.4.reporter", one, "d") != message_id("r.5.reporter", one, "d")
    assert message_id("r.4.x", one, "d") != message_id("r.4.x", ("c@b.id",), "d")
    # An agency's addresses in any order, or any case: the same message.
    both, again = ("a@b.id", "c@b.id"), ("C@b.id", "a@b.id")
    assert message_id("r.4.x", both, "d") == message_id("r.4.x", again, "d")
    assert message_id("r.4.x", both, "d") != message_id("r.4.x", one, "d")


def test_one_click_unsubscribe_headers_name_the_recipient() -> None:
    for kind, recipient in (("report.accepted", REPORTER), ("report.dispositioned", AGENCY)):
        headers = _compose(kind).headers
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Auto-Submitted"] == "auto-generated"
        found = re.fullmatch(
            r"<https://lapor\.example\.go\.id/berhenti/([^>]+)>", headers["List-Unsubscribe"]
        )
        assert found is not None
        assert read_unsubscribe_token(SETTINGS.token_secret, found[1]) == recipient.opt_out


def test_the_mime_message_is_multipart_alternative_text_then_html() -> None:
    message = _compose("report.on_hold", reason="Mohon foto \u2013 dan alamat lengkap “RT 02”")
    mime = to_mime(message, SETTINGS.mail_from, dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    wire = mime.as_bytes()
    assert wire.isascii()  # UTF-8 travels encoded: any relay passes it unchanged
    parsed = email.message_from_bytes(wire, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert parsed["Subject"] == message.subject
    assert parsed["Message-ID"] == message.message_id
    assert parsed["List-Unsubscribe"] == message.headers["List-Unsubscribe"]
    assert parsed["Date"] == "Mon, 02 Mar 2026 01:00:00 +0000"
    text = parsed.get_body(preferencelist=("plain",))
    assert text is not None and "“RT 02”" in text.get_content()


def test_an_agencys_context_has_no_slot_for_the_reporter() -> None:
    identity = {"name", "email", "phone", "reporter", "reporter_name", "contact", "address"}
    for model in AGENCY_KINDS.values():
        assert not identity & set(model.model_fields)
    with pytest.raises(ValidationError):
        _compose("report.dispositioned", reporter_name="Siti Rahayu")
    with pytest.raises(ValidationError):
        _compose("report.reporter_replied", email="siti@contoh.id")


def test_a_kind_goes_only_to_its_audience() -> None:
    context, _ = CONTEXTS["report.accepted"]
    with pytest.raises(ValueError, match="goes to the reporter"):
        compose_email("report.accepted", "id", context, "n", AGENCY, settings=SETTINGS)
    context, _ = CONTEXTS["report.dispositioned"]
    with pytest.raises(ValueError, match="goes to the agency"):
        compose_email("report.dispositioned", "id", context, "n", REPORTER, settings=SETTINGS)


def test_one_message_to_several_addresses_of_one_agency_lists_them_all() -> None:
    addresses = ("pengaduan@dpupr.example", "kepala@dpupr.example", "admin@dpupr.example")
    several = [MailRecipient.agency(a, "dpupr-cianjur", SETTINGS.token_secret) for a in addresses]
    context, _ = CONTEXTS["report.dispositioned"]
    message = compose_email("report.dispositioned", "id", context, "n", several, settings=SETTINGS)
    assert message.recipients == addresses and message.to == ", ".join(addresses)
    # One link cannot say which of them clicked, and one reader must not stop the others.
    assert "List-Unsubscribe" not in message.headers and "/berhenti/" not in message.html
    assert "Admin instansi mengatur alamat-alamat itu" in message.text
    english = compose_email("report.dispositioned", "en", context, "n", several, settings=SETTINGS)
    assert "The agency's admin chooses them" in english.text
    alone = compose_email(
        "report.dispositioned", "id", context, "n", several[:1], settings=SETTINGS
    )
    assert alone.recipients == addresses[:1] and "List-Unsubscribe" in alone.headers


def test_several_recipients_are_one_agencys_and_at_least_one() -> None:
    context, _ = CONTEXTS["report.dispositioned"]
    other = MailRecipient.agency("a@dinkes.example", "dinkes-cianjur", SETTINGS.token_secret)
    with pytest.raises(ValueError, match="one agency only"):
        compose_email(
            "report.dispositioned", "id", context, "n", [AGENCY, other], settings=SETTINGS
        )
    with pytest.raises(ValueError, match="no recipient"):
        compose_email("report.dispositioned", "id", context, "n", [], settings=SETTINGS)


def test_refusals_before_anything_is_rendered() -> None:
    with pytest.raises(ValueError, match="no e-mail template"):
        compose_email("report.nothing", "id", {}, "n", REPORTER, settings=SETTINGS)
    with pytest.raises(ValidationError):  # a required field missing
        compose_email(
            "report.followed_up",
            "id",
            CONTEXTS["report.accepted"][0],
            "n",
            REPORTER,
            settings=SETTINGS,
        )
    without_base = SETTINGS.model_copy(update={"public_base_url": ""})
    with pytest.raises(ValueError, match="LAPOR_PUBLIC_BASE_URL"):
        compose_email(
            "report.accepted",
            "id",
            CONTEXTS["report.accepted"][0],
            "n",
            REPORTER,
            settings=without_base,
        )


def test_the_context_may_be_the_kinds_model() -> None:
    model = KINDS["report.accepted"].context.model_validate(CONTEXTS["report.accepted"][0])
    assert (
        compose_email("report.accepted", "id", model, "n", REPORTER, settings=SETTINGS).text
        == compose_email(
            "report.accepted",
            "id",
            CONTEXTS["report.accepted"][0],
            "n",
            REPORTER,
            settings=SETTINGS,
        ).text
    )


def test_html_to_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>Satu  dua\n tiga</p><ul><li>a</li><li>b</li></ul>"
        '<blockquote>x<br>\ny</blockquote><p><a href="https://e.id/x">lihat</a> '
        '<a href="https://e.id/y">https://e.id/y</a></p><hr><p>kaki</p></body></html>'
    )
    assert html_to_text(html) == (
        "Satu dua tiga\n\n- a\n- b\n\n> x\n> y\n\nlihat <https://e.id/x> https://e.id/y"
        "\n\n-- \n\nkaki\n"
    )
    long_link = "https://lapor.example.go.id/berhenti/" + "a" * 90
    assert long_link in html_to_text(f"<p>teks <a href='{long_link}'>{long_link}</a></p>")
