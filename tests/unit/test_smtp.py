"""The SMTP adapter's reading of a relay's answer, and its refusal to exist without one."""

from __future__ import annotations

import pytest

from shared.adapters.smtp import MailNotConfigured, SmtpEmailSender, classify
from shared.config import Settings
from shared.ports import SendOutcome


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (250, SendOutcome.DELIVERED),
        (251, SendOutcome.DELIVERED),
        (421, SendOutcome.RETRYABLE),  # service closing: later
        (450, SendOutcome.RETRYABLE),  # mailbox busy, greylisting
        (452, SendOutcome.RETRYABLE),
        (530, SendOutcome.PERMANENT),
        (535, SendOutcome.PERMANENT),  # bad credentials: another try is refused too
        (550, SendOutcome.PERMANENT),
        (554, SendOutcome.PERMANENT),
    ],
)
def test_reply_codes(code: int, outcome: SendOutcome) -> None:
    assert classify(code) is outcome


def test_no_host_no_sender() -> None:
    with pytest.raises(MailNotConfigured, match="LAPOR_SMTP_HOST"):
        SmtpEmailSender.from_settings(Settings(token_secret="unit-test-secret-0123456789"))


def test_built_from_the_settings() -> None:
    settings = Settings.from_env(
        {
            "LAPOR_TOKEN_SECRET": "unit-test-secret-0123456789",
            "LAPOR_SMTP_HOST": "smtp.relay.go.id",
            "LAPOR_SMTP_PORT": "2525",
            "LAPOR_SMTP_USERNAME": "lapor",
            "LAPOR_SMTP_PASSWORD": "rahasia",
            "LAPOR_SMTP_STARTTLS": "false",
            "LAPOR_MAIL_TIMEOUT_S": "3.5",
            "LAPOR_MAIL_FROM": "Lapor Cianjur <lapor@cianjurkab.go.id>",
        }
    )
    sender = SmtpEmailSender.from_settings(settings)
    assert (sender.host, sender.port, sender.starttls, sender.timeout_s) == (
        "smtp.relay.go.id",
        2525,
        False,
        3.5,
    )
    assert sender.envelope_from == "lapor@cianjurkab.go.id"
    assert sender.local_hostname == "cianjurkab.go.id"
    assert "rahasia" not in repr(settings)  # the password never lands in a log line


def test_mail_from_needs_an_address() -> None:
    with pytest.raises(ValueError, match="LAPOR_MAIL_FROM"):
        Settings(token_secret="unit-test-secret-0123456789", mail_from="Lapor")
