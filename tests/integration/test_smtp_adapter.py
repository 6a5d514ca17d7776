"""The SMTP adapter against a real SMTP server: the mail sink (aiosmtpd), started here
on free ports with STARTTLS and AUTH as a government relay would ask. What each answer
of the relay becomes (delivered, permanent, retryable), what arrives, and the sink's
page showing it."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.smtp import SmtpEmailSender
from shared.config import Settings
from shared.ports import OutgoingEmail, SendOutcome
from shared.usecases.mail import MailRecipient, compose_email
from tools.mail_sink import DEMO_PASSWORD, DEMO_USERNAME, MailSink

FROM = "Lapor <noreply@lapor.localhost>"


def _refuse(address: str) -> str | None:
    if address.startswith("tidak-ada@"):
        return "550 5.1.1 no such mailbox"
    if address.startswith("penuh@"):
        return "452 4.2.2 mailbox full, try later"
    return None


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail", refuse=_refuse) as running:
        yield running


def _sender(sink: MailSink, **changes: object) -> SmtpEmailSender:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": sink.smtp_port,
        "sender": FROM,
        "envelope_from": "noreply@lapor.localhost",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        "ca_file": str(sink.ca_file),
        "timeout_s": 5.0,
        "local_hostname": "lapor.localhost",
        **changes,
    }
    return SmtpEmailSender(**options)  # type: ignore[arg-type]


def _message(to: str = "siti@contoh.id", subject: str = "Laporan Anda diterima") -> OutgoingEmail:
    return OutgoingEmail(
        recipients=tuple(to.split(", ")),
        subject=subject,
        text="Halo Siti,\nlaporan Anda diterima.\n",
        html="<p>Halo <b>Siti</b>,</p><script>alert(1)</script>",
        message_id="<0123456789abcdef@lapor.localhost>",
        headers={"List-Unsubscribe": "<https://x.example/berhenti/t>"},
    )


def test_starttls_and_auth_then_the_message_as_sent(sink: MailSink) -> None:
    settings = Settings(
        token_secret="integration-secret-0123456789",
        public_base_url="https://lapor.example.go.id",
        mail_from=FROM,
    )
    subject_words = "Jalan rusak – “Siliwangi” ñ 日本"  # noqa: RUF001 (UTF-8 on purpose)
    message = compose_email(
        "report.accepted",
        "id",
        {
            "tracking_code": "K7M-2XQ-9RJ",
            "title": subject_words,
            "private_link": "https://lapor.example.go.id/lacak/K7M-2XQ-9RJ?token=abc",
        },
        "Rk7mQ2xq9RjWz3Lp0aBc.1.reporter",
        MailRecipient.reporter("siti@contoh.id", "Rk7mQ2xq9RjWz3Lp0aBc"),
        settings=settings,
    )
    message = OutgoingEmail(**{**message.__dict__, "subject": f"{message.subject} {subject_words}"})
    result = _sender(sink).send(message)
    assert (result.outcome, result.status_code, result.error) == (SendOutcome.DELIVERED, 250, None)

    [kept] = sink.wait_for(1)
    assert kept.subject == message.subject  # UTF-8 subject, encoded on the way and back
    assert kept.to == "siti@contoh.id" and kept.delivered_to == ["siti@contoh.id"]
    assert kept.message["From"] == FROM
    assert kept.message["Message-ID"] == message.message_id
    assert kept.message["List-Unsubscribe"] == message.headers["List-Unsubscribe"]
    assert kept.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert kept.message.get_content_type() == "multipart/alternative"
    assert kept.text is not None and subject_words in kept.text
    assert kept.text.replace("\r\n", "\n") == message.text
    # The parts come back as sent, but for the line ending MIME adds to each.
    assert kept.html is not None and kept.html.replace("\r\n", "\n") == message.html + "\n"
    assert kept.message["Return-Path"] == "<noreply@lapor.localhost>"


def test_a_refused_recipient_is_permanent_and_a_full_mailbox_retryable(sink: MailSink) -> None:
    refused = _sender(sink).send(_message("tidak-ada@contoh.id"))
    assert refused.outcome is SendOutcome.PERMANENT
    assert refused.status_code == 550 and refused.error == "SMTP 550: 5.1.1 no such mailbox"
    later = _sender(sink).send(_message("penuh@contoh.id"))
    assert later.outcome is SendOutcome.RETRYABLE and later.status_code == 452
    assert sink.messages() == []


AGENCY_ADDRESSES = ("pengaduan@dpupr.example", "kepala@dpupr.example", "admin@dpupr.example")


def test_one_message_to_an_agencys_addresses_reaches_every_one_in_one_transaction(
    sink: MailSink,
) -> None:
    settings = Settings(
        token_secret="integration-secret-0123456789",
        public_base_url="https://lapor.example.go.id",
        mail_from=FROM,
    )
    message = compose_email(
        "report.returned",
        "id",
        {"agency_name": "DPUPR Cianjur", "tracking_code": "K7M-2XQ-9RJ", "title": "Jalan rusak"},
        "Rk7mQ2xq9RjWz3Lp0aBc.3",
        [MailRecipient.agency(a, "dpupr-cianjur", settings.token_secret) for a in AGENCY_ADDRESSES],
        settings=settings,
    )
    result = _sender(sink).send(message)
    assert (result.outcome, result.status_code, result.error) == (SendOutcome.DELIVERED, 250, None)

    [kept] = sink.wait_for(1)  # one DATA: one message kept, every RCPT on it
    assert kept.delivered_to == list(AGENCY_ADDRESSES)
    assert kept.to == ", ".join(AGENCY_ADDRESSES)  # the To: header names them all
    assert kept.message["Message-ID"] == message.message_id
    # One link cannot say which of three clicked it: none, and the footer says why.
    assert kept.message["List-Unsubscribe"] is None
    assert kept.text is not None and "semua alamat e-mail DPUPR Cianjur" in kept.text


def test_an_address_the_relay_refuses_leaves_the_message_with_the_others(
    sink: MailSink,
) -> None:
    some = _sender(sink).send(_message("a@dpupr.example, tidak-ada@dpupr.example, b@dpupr.example"))
    assert (some.outcome, some.status_code) == (SendOutcome.DELIVERED, 250)
    assert some.error == "1 of 3 recipients refused: 550 5.1.1 no such mailbox"
    [kept] = sink.wait_for(1)
    assert kept.delivered_to == ["a@dpupr.example", "b@dpupr.example"]
    every = _sender(sink).send(_message("tidak-ada@dpupr.example, tidak-ada@disdik.example"))
    assert every.outcome is SendOutcome.PERMANENT and every.status_code == 550
    assert len(sink.messages()) == 1


def test_wrong_credentials_are_permanent(sink: MailSink) -> None:
    result = _sender(sink, password="salah").send(_message())
    assert result.outcome is SendOutcome.PERMANENT and result.status_code == 535
    assert sink.messages() == []


def test_a_certificate_we_do_not_trust_is_never_sent_to(sink: MailSink) -> None:
    result = _sender(sink, ca_file="").send(_message())
    assert result.outcome is SendOutcome.RETRYABLE and result.status_code is None
    assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert sink.messages() == []


def test_without_starttls_nothing_is_sent(sink: MailSink) -> None:
    # The relay offers AUTH only over TLS; without a login it takes no mail at all.
    no_login = _sender(sink, starttls=False).send(_message())
    assert no_login.outcome is SendOutcome.RETRYABLE and no_login.status_code is None
    assert no_login.error is not None and "does not offer it" in no_login.error
    anonymous = _sender(sink, starttls=False, username="").send(_message())
    assert anonymous.outcome is SendOutcome.PERMANENT and anonymous.status_code == 530
    assert sink.messages() == []


def test_a_server_that_is_down_is_retryable(tmp_path: Path) -> None:
    with MailSink(tmp_path / "mail") as gone:
        sender = _sender(gone)
    started = time.monotonic()
    result = sender.send(_message())
    assert result.outcome is SendOutcome.RETRYABLE and result.status_code is None
    assert result.error is not None and "ConnectionRefused" in result.error
    assert time.monotonic() - started < 2


def test_a_server_that_never_answers_times_out_retryable(sink: MailSink) -> None:
    # Accepts the connection (the kernel's backlog) and never greets.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = _sender(sink, port=port, timeout_s=0.5).send(_message())
        took = time.monotonic() - started
    assert result.outcome is SendOutcome.RETRYABLE and result.status_code is None
    assert result.error == "timeout after 0.5s"
    assert 0.4 < took < 3


def test_messages_sent_at_once_are_each_kept(sink: MailSink) -> None:
    results = []

    def send(n: int) -> None:
        results.append(_sender(sink).send(_message(f"warga{n}@contoh.id", f"Pesan {n}")))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.outcome for r in results] == [SendOutcome.DELIVERED] * 8
    kept = sink.wait_for(8)
    assert sorted(m.subject for m in kept) == sorted(f"Pesan {n}" for n in range(8))


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], refused.read().decode()


def test_the_page_lists_newest_first_and_shows_a_message_without_rendering_it(
    sink: MailSink,
) -> None:
    sender = _sender(sink)
    assert sender.send(_message(subject="Pertama")).outcome is SendOutcome.DELIVERED
    time.sleep(0.01)
    assert sender.send(_message("budi@contoh.id", "Kedua <b>x</b>")).outcome is (
        SendOutcome.DELIVERED
    )
    newest, oldest = sink.wait_for(2)

    status, kind, page = _get(sink.web_url + "/")
    assert status == 200 and kind.startswith("text/html")
    assert page.index("Kedua &lt;b&gt;x&lt;/b&gt;") < page.index("Pertama")
    assert "budi@contoh.id" in page and f'href="/m/{newest.id}"' in page

    status, _, shown = _get(f"{sink.web_url}/m/{oldest.id}")
    assert status == 200
    assert "<th>Message-ID</th><td>&lt;0123456789abcdef@lapor.localhost&gt;</td>" in shown
    assert "Halo Siti,\nlaporan Anda diterima." in shown.replace("\r\n", "\n")
    # The HTML part is shown as its source: escaped, never run.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "<script>" not in shown

    status, kind, raw = _get(f"{sink.web_url}/m/{oldest.id}.eml")
    assert status == 200 and kind.startswith("text/plain") and "Subject: Pertama" in raw
    status, _, listed = _get(sink.web_url + "/messages.json")
    assert [m["subject"] for m in json.loads(listed)] == ["Kedua <b>x</b>", "Pertama"]
    for path in ("/m/../../etc/passwd", "/m/1", "/nothing", f"/m/{oldest.id[:-1]}9"):
        assert _get(sink.web_url + path)[0] == 404
