"""A staff member's invitation and password reset from the use case to the mailbox: the
outbox entry the use case commits on the emulator is pushed to the notify function
(functions-framework) as Pub/Sub pushes it, notify mails it through a real SMTP server
(tools/mail_sink.py: STARTTLS, AUTH), and the link in the mail opens once."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import settings
from shared.domain.report import Role
from shared.domain.staff import SessionStage
from shared.usecases import staff as staff_usecases
from tests.functional.console_support import ConsoleClient, csrf_of
from tools.mail_sink import MailSink, StoredMail
from tools.stack import Emulators
from tools.staff import ToolPorts, tool_ports

CONSOLE = "https://console.lapor.test"
PASSWORD = "kopi susu gula aren"
_ids = itertools.count(1)


@dataclass
class Office:
    db: firestore.Client
    mail: MailSink
    ports: ToolPorts
    notify: FlaskClient

    def push_outbox(self) -> list[dict[str, Any]]:
        """Push every pending outbox entry to notify, as the subscription would."""
        pushed = []
        for doc in self.db.collection("outbox").stream():
            entry = doc.to_dict() or {}
            data = entry["data"]
            envelope = {
                "subscription": "projects/lapor-test/subscriptions/notify",
                "message": {
                    "data": base64.b64encode(json.dumps(data).encode()).decode(),
                    "attributes": dict(entry.get("attributes") or {}),
                    "messageId": str(next(_ids)),
                    "publishTime": "2026-12-07T03:00:00Z",
                },
            }
            answer = self.notify.post("/", json=envelope)
            assert answer.status_code in (200, 204), answer.get_data(as_text=True)
            pushed.append(data)
        return pushed


@pytest.fixture
def office(seeded_emulators: Emulators, db: firestore.Client, tmp_path: Path) -> Iterator[Office]:
    with MailSink(tmp_path / "mail") as mail:
        os.environ.update(
            {
                "LAPOR_SMTP_HOST": "127.0.0.1",
                "LAPOR_SMTP_PORT": str(mail.smtp_port),
                "LAPOR_SMTP_USERNAME": mail.username,
                "LAPOR_SMTP_PASSWORD": mail.password,
                "LAPOR_SMTP_STARTTLS": "true",
                "LAPOR_SMTP_CA_FILE": str(mail.ca_file),
                "LAPOR_MAIL_FROM": "Lapor <noreply@lapor.test>",
                "LAPOR_PUBLIC_BASE_URL": "https://lapor.test",
                "LAPOR_CONSOLE_URL": CONSOLE,
            }
        )
        wiring.reset()
        notify = functions_framework.create_app(
            target="notify", source="functions/notify/main.py"
        ).test_client()
        yield Office(db, mail, tool_ports(db, settings()), notify)
    wiring.reset()


def _link(message: StoredMail, path: str) -> str:
    body = message.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    found = re.search(re.escape(CONSOLE + path) + r"([A-Za-z0-9_=-]+)", text)
    assert found, text
    return found.group(1)


def test_an_invitation_reaches_the_mailbox_and_its_link_sets_the_password_once(
    office: Office,
) -> None:
    invited = staff_usecases.invite(
        staff_usecases.SYSTEM, "rina@uptd.example", "Rina Wati", Role.UNIT_OFFICER,
        "uptd-jalan-cianjur", office.ports,
    )  # fmt: skip
    (data,) = office.push_outbox()
    assert data["kind"] == "staff.invitation" and "rina" not in json.dumps(data)
    (mail,) = office.mail.wait_for(1)
    assert mail.to == "rina@uptd.example"
    assert "Undangan" in mail.subject and "List-Unsubscribe" not in mail.message
    token = _link(mail, "/undangan/")
    staff_usecases.accept_invitation(token, PASSWORD, office.ports)
    with pytest.raises(staff_usecases.LinkInvalid):
        staff_usecases.accept_invitation(token, PASSWORD, office.ports)
    signed = staff_usecases.sign_in("rina@uptd.example", PASSWORD, office.ports, client_key="t")
    assert signed.session.stage is SessionStage.FULL
    # Pub/Sub delivers at least once: a second push sends nothing more.
    office.push_outbox()
    assert len(office.mail.messages()) == 1
    log = office.db.collection("deliveries").document(str(data["notification_id"])).get()
    assert (log.to_dict() or {}).get("status") == "delivered"
    assert invited.account_id == data["account_id"]


def test_a_reset_link_in_english_sets_a_new_password(office: Office) -> None:
    staff_usecases.create_account(
        "budi@uptd.example", "Budi", Role.UNIT_OFFICER, "uptd-jalan-cianjur", PASSWORD,
        office.ports,
    )  # fmt: skip
    staff_usecases.request_password_reset(
        "Budi@uptd.example", office.ports, client_key="t", language="en"
    )
    office.push_outbox()
    (mail,) = office.mail.wait_for(1)
    assert mail.subject == "Reset your Lapor console password"
    token = _link(mail, "/sandi/")
    staff_usecases.reset_password(token, "a brand new passphrase", office.ports)
    with pytest.raises(staff_usecases.SignInRefused):
        staff_usecases.sign_in("budi@uptd.example", PASSWORD, office.ports, client_key="t")
    staff_usecases.sign_in(
        "budi@uptd.example", "a brand new passphrase", office.ports, client_key="t"
    )


def test_a_reset_asked_on_the_english_page_is_mailed_in_english(
    office: Office, console_app: Any
) -> None:
    staff_usecases.create_account(
        "budi@uptd.example", "Budi", Role.UNIT_OFFICER, "uptd-jalan-cianjur", PASSWORD,
        office.ports,
    )  # fmt: skip
    browser = ConsoleClient(console_app.test_client())
    page = browser.get("/lupa-sandi?lang=en")
    answer = browser.post(
        "/lupa-sandi?lang=en", {"email": "budi@uptd.example"}, csrf=csrf_of(page.text)
    )
    assert answer.status_code == 200
    (data,) = office.push_outbox()
    assert data["language"] == "en"
    (mail,) = office.mail.wait_for(1)
    assert mail.subject == "Reset your Lapor console password"
