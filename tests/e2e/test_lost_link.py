""" "Lost your link?" in Chromium on a phone, on the stack as make run starts it: the form
and its answer pass the accessibility audit, and a citizen who gave a phone number gets
the private link again by SMS (at the stack's SMS gateway sink) and opens it."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from tests.e2e.citizen import submit_report
from tests.e2e.test_accessibility import violations
from tools.stack import LocalStack

SHORT_LINK = re.compile(r"https?://\S+/l/[0-9A-Z]{9}-[0-9a-z]{10}")


def ask_again(phone: Any, code: str, contact: str, button: str) -> None:
    phone.fill('[name="tracking_code"]', code)
    phone.fill('[name="contact"]', contact)
    with phone.expect_navigation():
        phone.get_by_role("button", name=button).click()


@pytest.mark.parametrize(
    ("lang", "button", "answer"),
    [
        ("id", "Kirim ulang tautan", "Permintaan diterima"),
        ("en", "Send the link again", "Request received"),
    ],
)
def test_the_lost_link_form_its_errors_and_its_answer_pass_the_audit(
    local_stack: LocalStack, phone: Any, lang: str, button: str, answer: str
) -> None:
    site = local_stack.urls["submit"]
    phone.goto(f"{site}/lacak?lang={lang}")
    ask_again(phone, "K7M-2XQ-9RX", "bukan kontak", button)  # a wrong check symbol
    assert phone.get_by_role("alert").is_visible()
    assert phone.input_value("#f-lost-contact") == "bukan kontak"
    assert violations(phone) == []
    ask_again(phone, "K7M-2XQ-9RJ", "siti@contoh.id", button)
    assert answer in phone.locator("h1").inner_text()
    assert violations(phone) == []


def test_a_citizen_who_lost_the_link_gets_it_by_sms_and_opens_it(
    local_stack: LocalStack, phone: Any
) -> None:
    site = local_stack.urls["submit"]
    code, _ = submit_report(phone, site + "/")  # with the phone number 081234567890
    phone.goto(site + "/lacak")
    ask_again(phone, code, "0812 3456 7890", "Kirim ulang tautan")
    assert "Permintaan diterima" in phone.locator("h1").inner_text()

    text = _resent_sms(local_stack, code)
    assert text.startswith("LAPOR!") and code in text
    [link] = SHORT_LINK.findall(text)
    phone.goto(link)
    assert "token=" in phone.url
    assert "S. A." in phone.locator("body").inner_text()  # the reporter's own page, masked


def _resent_sms(stack: LocalStack, code: str, timeout_s: float = 60.0) -> str:
    """The link.resend text the sink received for ``code`` (notify sends it)."""
    kept = stack.data_dir / "sms.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = kept.read_text(encoding="utf-8").splitlines() if kept.exists() else []
        for line in lines:
            sms = json.loads(line)
            if ".resend." in sms["message_id"] and code in sms["text"]:
                return str(sms["text"])
        time.sleep(0.5)
    pytest.fail(f"no link.resend SMS for {code} at the sink within {timeout_s:.0f}s")
