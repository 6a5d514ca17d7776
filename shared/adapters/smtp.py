"""E-mail through any SMTP relay a government already runs: the EmailSender port over
the standard library (smtplib, email.message.EmailMessage).

One conversation per message: connect, EHLO, STARTTLS when configured (the relay's
certificate verified against the system's trust store, plus LAPOR_SMTP_CA_FILE when
set), EHLO again, AUTH when a user name is set (smtplib picks a mechanism the relay
offers), MAIL, one RCPT per recipient (an agency's several addresses share one
message, one transaction), DATA, QUIT. No pooled connection: notify sends one message per
Pub/Sub push, so a kept connection would seldom be reused before the relay closes it,
and a fresh one never fails on a stale socket. ``LAPOR_MAIL_TIMEOUT_S`` bounds the
connect and each reply, not the whole conversation.

What the relay answered decides the outcome (:func:`classify`), so notify knows
whether to try again:

- the message accepted (2xx): delivered, the relay has taken it on;
- a 5xx reply at any step (a refused recipient, sender or login): permanent; but when
  the relay took some of several recipients, the message went to those: delivered,
  with the refused ones' replies as the error (sending again would repeat it to the rest);
- a 4xx reply, no connection, a timeout, a dropped connection, a TLS failure, a
  relay that does not offer STARTTLS (nothing is sent in clear): retryable.

Once the message is accepted, a failing QUIT changes nothing: it is delivered.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import TYPE_CHECKING

from shared.ports import OutgoingEmail, SendOutcome, SendResult

if TYPE_CHECKING:
    from shared.config import Settings

ERROR_CHARS = 300  # enough of the relay's reply to tell what went wrong
ACCEPTED = 250  # smtplib accepts a message on exactly this reply to DATA


class MailNotConfigured(RuntimeError):
    """No relay is configured (LAPOR_SMTP_HOST is empty)."""


def classify(code: int) -> SendOutcome:
    """2xx delivered, 5xx permanent, anything else (4xx) worth another try."""
    if 200 <= code < 300:
        return SendOutcome.DELIVERED
    if 500 <= code < 600:
        return SendOutcome.PERMANENT
    return SendOutcome.RETRYABLE


def to_mime(message: OutgoingEmail, sender: str, at: dt.datetime) -> EmailMessage:
    """The message as sent: multipart/alternative, the text first and the HTML last
    (the part a client prefers), both UTF-8 in quoted-printable so a relay without
    8BITMIME passes them unchanged; non-ASCII headers are RFC 2047 encoded."""
    mime = EmailMessage(policy=SMTP_POLICY)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(at.astimezone(dt.UTC))
    mime["Message-ID"] = message.message_id
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text, charset="utf-8", cte="quoted-printable")
    mime.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return mime


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _refused(code: int, reply: bytes | str) -> SendResult:
    error = f"SMTP {code}: {_reply_text(reply)}"[:ERROR_CHARS]
    return SendResult(classify(code), code, error)


def _retry(error: str) -> SendResult:
    return SendResult(SendOutcome.RETRYABLE, None, error[:ERROR_CHARS])


class SmtpEmailSender:
    """The EmailSender port: one SMTP conversation per :meth:`send`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        envelope_from: str,
        starttls: bool = True,
        username: str = "",
        password: str = "",
        timeout_s: float = 10.0,
        ca_file: str = "",
        local_hostname: str | None = None,
    ) -> None:
        if not host:
            raise MailNotConfigured("LAPOR_SMTP_HOST is not set: there is no relay to send to")
        self.host = host
        self.port = port
        self.sender = sender
        self.envelope_from = envelope_from
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout_s = timeout_s
        self.ca_file = ca_file
        self.local_hostname = local_hostname
        self._tls: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpEmailSender:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            envelope_from=settings.mail_from_address,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            timeout_s=settings.mail_timeout_s,
            ca_file=settings.smtp_ca_file,
            # EHLO with our mail domain: no reverse DNS lookup of the instance on the way.
            local_hostname=settings.mail_domain,
        )

    def _tls_context(self) -> ssl.SSLContext:
        # Made on first use: the local sink writes its certificate as it starts.
        if self._tls is None:
            with self._lock:
                if self._tls is None:
                    context = ssl.create_default_context()
                    if self.ca_file:
                        context.load_verify_locations(cafile=self.ca_file)
                    self._tls = context
        return self._tls

    def send(self, message: OutgoingEmail) -> SendResult:
        mime = to_mime(message, self.sender, dt.datetime.now(dt.UTC))
        try:
            turned_away = self._converse(mime, message.recipients)
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = next(iter(refused.recipients.values()))
            return _refused(code, reply)
        except smtplib.SMTPResponseException as refused:  # sender, DATA, AUTH, greeting
            return _refused(refused.smtp_code, refused.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH
            return _retry(f"the relay does not offer it: {exc}")
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, TLS, DNS ...
            # smtplib reports a reply that timed out as a disconnection caused by it.
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                return _retry(f"timeout after {self.timeout_s}s")
            return _retry(f"{type(exc).__name__}: {exc}")
        if turned_away:
            replies = (f"{code} {_reply_text(reply)}" for code, reply in turned_away.values())
            error = f"{len(turned_away)} of {len(message.recipients)} recipients refused: "
            error += "; ".join(replies)
            return SendResult(SendOutcome.DELIVERED, ACCEPTED, error[:ERROR_CHARS])
        return SendResult(SendOutcome.DELIVERED, ACCEPTED)

    def _converse(self, mime: EmailMessage, to: tuple[str, ...]) -> dict[str, tuple[int, bytes]]:
        """The recipients the relay refused while it took the message for the others."""
        # Connects and reads the greeting; the host is also the name STARTTLS verifies.
        connection = smtplib.SMTP(
            self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout_s
        )
        with contextlib.closing(connection) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password)
            refused = smtp.send_message(mime, from_addr=self.envelope_from, to_addrs=list(to))
            # Accepted: the relay owns it now. A failing QUIT must not turn it into a retry.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
        return refused
