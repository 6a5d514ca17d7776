"""A local SMTP relay that keeps every message, and a web page to read them.

For ``make run`` and the tests: a real SMTP server (aiosmtpd) on 127.0.0.1 that asks
what a government relay asks, so the functions' SMTP adapter is exercised for real:

- STARTTLS with a self-signed certificate made at start (by ``cryptography``, the
  library google-auth already brings): ``<dir>/tls/cert.pem``, which the functions
  trust through LAPOR_SMTP_CA_FILE, so the certificate is verified, not ignored;
- AUTH PLAIN or LOGIN with the demo credentials, offered only after STARTTLS; no
  mail is taken before both;
- every accepted message kept as it arrived in ``<dir>/<arrival>.eml``, with
  ``Return-Path`` and ``Delivered-To`` added on top as a final relay does;
- a page on 127.0.0.1 listing them newest first (to, subject, date) and showing each:
  its headers, the text part, and the HTML part as escaped source, never rendered.

    python -m tools.mail_sink --dir .lapor/mail --smtp-port 8025 --web-port 8091

As a library (tests): :class:`MailSink`, with ``refuse`` to script an SMTP refusal
per recipient (a 5xx or 4xx reply instead of taking the message).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import email
import hashlib
import hmac
import html
import ipaddress
import itertools
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tools.local_server import LOCALHOST, LocalServer, ThreadedHttpServer, serve_until_interrupted

DEMO_USERNAME = "lapor"
DEMO_PASSWORD = "lapor-demo-password"  # 127.0.0.1 only, for `make run` and the tests
CERT_DAYS = 30
_MESSAGE_ID = re.compile(r"^\d{19}-\d{6}$")  # <arrival ns>-<sequence>, see _store

# (recipient address) -> an SMTP reply such as "550 5.1.1 no such user", or None to take it
Refuse = Callable[[str], str | None]


# --------------------------------------------------------------------------- certificate


def certificate_path(mail_dir: Path) -> Path:
    """Where the sink of ``mail_dir`` keeps its certificate (LAPOR_SMTP_CA_FILE)."""
    return mail_dir / "tls" / "cert.pem"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for 127.0.0.1 and localhost: (cert, key) PEM files
    in ``directory``, made at every start (nothing to renew, nothing to keep secret)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lapor local mail sink")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOCALHOST))]
            ),
            critical=False,
        )
        # Its own trust anchor (LAPOR_SMTP_CA_FILE) and the server's certificate at once.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.chmod(0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


# --------------------------------------------------------------------------- the mailbox


@dataclass(frozen=True)
class StoredMail:
    """One kept message: the .eml as received, parsed."""

    id: str
    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    @property
    def date(self) -> str:
        return str(self.message.get("Date", ""))

    @property
    def delivered_to(self) -> list[str]:
        return [str(value) for value in self.message.get_all("Delivered-To", [])]

    def _part(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        return None if part is None else str(part.get_content())

    @property
    def text(self) -> str | None:
        return self._part("plain")

    @property
    def html(self) -> str | None:
        return self._part("html")


def read_message(path: Path) -> StoredMail:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return StoredMail(path.stem, path, parsed)


def read_mailbox(directory: Path) -> list[StoredMail]:
    """Every kept message, newest first."""
    paths = sorted(directory.glob("*.eml"), reverse=True) if directory.is_dir() else []
    return [read_message(path) for path in paths]


# --------------------------------------------------------------------------- the page

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ccc;vertical-align:top}"
    "pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.8rem}"
)
_CSP = "; ".join(
    [
        "default-src 'none'",
        f"style-src 'sha256-{base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()}'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


def inbox_page(messages: Sequence[StoredMail]) -> bytes:
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(m.date)}</td>"
        f"<td>{html.escape(m.to)}</td>"
        f'<td><a href="/m/{html.escape(m.id)}">{html.escape(m.subject or "(no subject)")}</a></td>'
        "</tr>"
        for m in messages
    )
    table = (
        "<table><thead><tr><th>Date</th><th>To</th><th>Subject</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if messages
        else "<p>No mail yet.</p>"
    )
    return _page(
        "Lapor local mail",
        f"<h1>Lapor local mail</h1><p>{len(messages)} message(s), newest first.</p>{table}",
    )


def message_page(mail: StoredMail) -> bytes:
    headers = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in mail.message.items()
    )
    text, source = mail.text, mail.html
    parts = [
        f'<p><a href="/">All mail</a> · <a href="/m/{html.escape(mail.id)}.eml">raw .eml</a></p>',
        f"<h1>{html.escape(mail.subject or '(no subject)')}</h1>",
        f"<h2>Headers</h2><table>{headers}</table>",
        "<h2>Text</h2>" + (f"<pre>{html.escape(text)}</pre>" if text is not None else "<p>none"),
        # The HTML as source: what a client would render, shown as text and never run.
        "<h2>HTML (source)</h2>"
        + (f"<pre>{html.escape(source)}</pre>" if source is not None else "<p>none"),
    ]
    return _page(mail.subject or mail.id, "".join(parts))


def messages_json(messages: Sequence[StoredMail]) -> bytes:
    return json.dumps(
        [
            {
                "id": m.id,
                "to": m.to,
                "subject": m.subject,
                "date": m.date,
                "message_id": str(m.message.get("Message-ID", "")),
            }
            for m in messages
        ],
        ensure_ascii=False,
    ).encode()


# --------------------------------------------------------------------------- the server


class MailSink(LocalServer):
    """The SMTP server (a thread of its own, aiosmtpd's Controller) and the page (an
    http.server thread), both on 127.0.0.1; free ports unless given."""

    def __init__(
        self,
        directory: Path,
        smtp_port: int = 0,
        web_port: int = 0,
        username: str = DEMO_USERNAME,
        password: str = DEMO_PASSWORD,
        refuse: Refuse | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.smtp_port = smtp_port or _free_port()
        self.username = username
        self.password = password
        self.refuse = refuse
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self._web = ThreadedHttpServer(self._handler_class(), web_port, name="mail-sink-page")

    @property
    def ca_file(self) -> Path:
        """The certificate a client trusts to verify this server (LAPOR_SMTP_CA_FILE)."""
        return certificate_path(self.directory)

    @property
    def web_port(self) -> int:
        return self._web.port

    @property
    def web_url(self) -> str:
        return self._web.url

    def messages(self) -> list[StoredMail]:
        return read_mailbox(self.directory)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[StoredMail]:
        """The messages once there are at least ``count`` (or whatever came by then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.messages()

    # --- SMTP

    def _tls_context(self) -> ssl.SSLContext:
        cert, key = make_certificate(self.ca_file.parent)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        # handled=False: aiosmtpd answers the refusal (535) itself.
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(data.login, self.username.encode()) & hmac.compare_digest(
            data.password, self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data)

    def _store(self, envelope: Envelope) -> Path:
        content = envelope.original_content or b""
        added = f"Return-Path: <{envelope.mail_from}>\r\n" + "".join(
            f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos
        )
        with self._lock:
            name = f"{time.time_ns():019d}-{next(self._sequence):06d}"
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = self.directory / f".{name}.tmp"
        staging.write_bytes(added.encode() + content)
        final = self.directory / f"{name}.eml"
        staging.rename(final)  # whole or not at all: the page never reads half a message
        return final

    def _smtp_handler(self) -> object:
        sink = self

        class Handler:
            async def handle_RCPT(
                self,
                server: SMTP,
                session: Session,
                envelope: Envelope,
                address: str,
                rcpt_options: list[str],
            ) -> str:
                refusal = sink.refuse(address) if sink.refuse else None
                if refusal:
                    return refusal
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
                await asyncio.to_thread(sink._store, envelope)
                return "250 2.0.0 Message accepted for delivery"

        return Handler()

    # --- the page

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/":
                    self._answer(200, "text/html; charset=utf-8", inbox_page(sink.messages()))
                    return
                if path == "/messages.json":
                    body = messages_json(sink.messages())
                    self._answer(200, "application/json", body)
                    return
                name = path.removeprefix("/m/")
                raw = name.endswith(".eml")
                name = name.removesuffix(".eml")
                found = sink.directory / f"{name}.eml"
                if not path.startswith("/m/") or not _MESSAGE_ID.fullmatch(name):
                    self._answer(404, "text/plain; charset=utf-8", b"not found")
                elif not found.is_file():
                    self._answer(404, "text/plain; charset=utf-8", b"no such message")
                elif raw:
                    self._answer(200, "text/plain; charset=utf-8", found.read_bytes())
                else:
                    self._answer(200, "text/html; charset=utf-8", message_page(read_message(found)))

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Security-Policy", _CSP)
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    # --- life

    def start(self) -> Self:
        self._controller = Controller(
            self._smtp_handler(),
            hostname=LOCALHOST,
            port=self.smtp_port,
            server_hostname="localhost",
            tls_context=self._tls_context(),
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
        )
        self._controller.start()
        self._web.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._web.stop()


def _free_port() -> int:
    # aiosmtpd's Controller connects to its own port once started: it needs the number.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mail_sink")
    parser.add_argument("--dir", type=Path, required=True, help="where the .eml files go")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--web-port", type=int, default=8091)
    args = parser.parse_args(argv)
    # aiosmtpd logs every connection, and warns of its own deprecated login_data on
    # each AUTH: keep its errors only.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    sink = MailSink(args.dir, smtp_port=args.smtp_port, web_port=args.web_port).start()
    print(
        f"mail sink: SMTP on {LOCALHOST}:{sink.smtp_port} (STARTTLS, AUTH "
        f"{DEMO_USERNAME}), messages in {sink.directory}, page on {sink.web_url}/",
        flush=True,
    )
    return serve_until_interrupted(sink)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
