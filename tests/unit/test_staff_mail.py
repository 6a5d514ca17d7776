"""A staff member's own e-mail: the invitation and the password reset, composed in both
languages without an unsubscribe link, and delivered by notify to the account's
address with the link's token derived there (never carried on the bus)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from shared.config import Settings
from shared.domain.report import Role
from shared.domain.staff import StaffAccount, link_token
from shared.ports import DeliveryStatus
from shared.usecases.mail import KINDS, STAFF_KINDS, compose_email, compose_staff_email
from shared.usecases.notify import (
    DeliveryRetryable,
    StaffNotification,
    deliver,
    mark_dead_lettered,
    staff_notification,
)
from tests.fakes import NOTIFY_SETTINGS, InMemoryStaffStore, NotifyFakes

SETTINGS = Settings(
    token_secret="unit-test-secret-0123456789",
    public_base_url="https://lapor.example.go.id",
    console_url="https://console.lapor.example.go.id",
    mail_from="Lapor <noreply@lapor.example.go.id>",
)
LINK = "https://console.lapor.example.go.id/undangan/t0k3n"
CONTEXT: dict[str, Any] = {
    "name": "Rina Wati",
    "agency_name": "UPTD Jalan dan Jembatan",
    "role": "unit_officer",
    "link": LINK,
    "valid_days": 7,
}
LINK_ID = "0123456789abcdef0123456789abcdef"


def test_the_staff_kinds_are_a_staff_members_own() -> None:
    assert set(STAFF_KINDS) == {"staff.invitation", "staff.password_reset"}
    assert all(KINDS[kind].audience == "staff" for kind in STAFF_KINDS)


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("kind", sorted(STAFF_KINDS))
def test_a_staff_email_shows_the_link_in_both_parts_and_has_no_unsubscribe(
    kind: str, lang: Any
) -> None:
    context = {**CONTEXT, "valid_minutes": 60} if kind == "staff.password_reset" else CONTEXT
    message = compose_staff_email(
        kind, lang, context, "staff.abc", "rina@uptd.example", settings=SETTINGS
    )
    assert message.to == "rina@uptd.example"
    assert LINK in message.html and LINK in message.text
    assert "Rina Wati" in message.text
    assert "List-Unsubscribe" not in message.headers
    assert message.headers["Auto-Submitted"] == "auto-generated"
    assert message.headers["Content-Language"] == lang
    assert "/berhenti/" not in message.html
    assert ("Lapor" in message.subject) and message.subject.strip()
    words = " ".join(message.text.split())  # the text part wraps lines
    if kind == "staff.invitation":
        assert ("7 hari" if lang == "id" else "7 days") in words
    else:
        assert ("60 menit" if lang == "id" else "60 minutes") in words


def test_only_an_admins_invitation_speaks_of_the_authenticator_app() -> None:
    officer = compose_staff_email("staff.invitation", "id", CONTEXT, "n", "a@b.example",
                                  settings=SETTINGS)  # fmt: skip
    admin = compose_staff_email("staff.invitation", "id", {**CONTEXT, "role": "agency_admin"},
                                "n", "a@b.example", settings=SETTINGS)  # fmt: skip
    assert "autentikator" not in officer.text and "autentikator" in admin.text


def test_a_staff_kind_is_not_composed_as_a_notification_nor_the_other_way_round() -> None:
    from shared.usecases.mail import MailRecipient

    with pytest.raises(ValueError):
        compose_staff_email("report.accepted", "id", {}, "n", "a@b.example", settings=SETTINGS)
    recipient = MailRecipient.agency("a@b.example", "dpupr-cianjur", SETTINGS.token_secret)
    with pytest.raises(ValueError):
        compose_email("staff.invitation", "id", CONTEXT, "n", recipient, settings=SETTINGS)


def test_a_staff_context_takes_no_unknown_field() -> None:
    with pytest.raises(ValueError):
        compose_staff_email("staff.invitation", "id", {**CONTEXT, "password": "x"}, "n",
                            "a@b.example", settings=SETTINGS)  # fmt: skip


# --- delivered by notify ---


def _fakes() -> NotifyFakes:
    settings = Settings.model_validate(
        {**NOTIFY_SETTINGS, "console_url": "https://console.lapor.test"}
    )
    fakes = NotifyFakes(settings=settings, staff=InMemoryStaffStore())
    fakes.staff.accounts["acc1"] = StaffAccount(
        account_id="acc1", email="rina@uptd.example", name="Rina", agency_id="uptd-jalan-cianjur",
        role=Role.UNIT_OFFICER, created_by="system", created_at=fakes.clock.now(),
    )  # fmt: skip
    return fakes


def _message(kind: str = "staff.invitation", language: str = "id") -> StaffNotification:
    entry = staff_notification(
        notification_id="staff.0001", kind=kind, agency_id="uptd-jalan-cianjur",
        account_id="acc1", link_id=LINK_ID, topic="agency-notifications",
        at=dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC), ce_type="t", source="s",
        language=language,
    )  # fmt: skip
    return StaffNotification.model_validate(entry.data)


def test_notify_emails_the_link_to_the_accounts_address_once() -> None:
    fakes = _fakes()
    delivery = deliver(_message(), fakes.ports())
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.agency_id == "uptd-jalan-cianjur" and delivery.report_id is None
    assert delivery.channels[0].address is None  # the account's address is not logged
    (sent,) = fakes.email.sent
    token = link_token(fakes.settings.token_secret, LINK_ID)
    assert sent.to == "rina@uptd.example"
    assert f"https://console.lapor.test/undangan/{token}" in sent.text
    assert LINK_ID not in sent.text
    deliver(_message(), fakes.ports())  # a redelivery
    assert len(fakes.email.sent) == 1


def test_a_reset_links_to_the_reset_page_in_the_asked_language() -> None:
    fakes = _fakes()
    deliver(_message("staff.password_reset", "en"), fakes.ports())
    (sent,) = fakes.email.sent
    token = link_token(fakes.settings.token_secret, LINK_ID)
    assert f"https://console.lapor.test/sandi/{token}" in sent.text
    assert sent.headers["Content-Language"] == "en"


def test_a_deactivated_account_is_sent_nothing() -> None:
    fakes = _fakes()
    account = fakes.staff.accounts["acc1"]
    fakes.staff.accounts["acc1"] = dataclasses.replace(account, active=False)
    delivery = deliver(_message(), fakes.ports())
    assert delivery.status is DeliveryStatus.SKIPPED and fakes.email.sent == []


def test_without_a_console_url_the_mail_fails_visibly_and_is_not_retried() -> None:
    fakes = _fakes()
    fakes.settings = Settings.model_validate(NOTIFY_SETTINGS)
    delivery = deliver(_message(), fakes.ports())
    assert delivery.status is DeliveryStatus.FAILED
    assert "LAPOR_CONSOLE_URL" in (delivery.channels[0].last_error or "")


def test_a_relay_failure_is_retried_then_dead_lettered() -> None:
    fakes = _fakes()
    fakes.settings = fakes.settings.model_copy(update={"smtp_host": ""})
    with pytest.raises(DeliveryRetryable):
        deliver(_message(), fakes.ports())
    dead = mark_dead_lettered(_message(), 5, fakes.ports())
    assert dead.status is DeliveryStatus.FAILED


def test_the_message_refuses_a_made_up_link_id() -> None:
    with pytest.raises(ValueError):
        staff_notification(
            notification_id="n", kind="staff.invitation", agency_id="a", account_id="b",
            link_id="not-hex", topic="t", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            ce_type="t", source="s",
        )  # fmt: skip
