"""Running the agency in Chromium on the local stack: an agency admin on a phone opens
the staff, settings and API-key pages (each passes the axe audit, WCAG 2.1 A and AA, in
both languages, with its errors and with what it shows once), sends a test delivery
to the stack's webhook receiver, rotates the secret, and issues a key with the keyboard
alone."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.report import Role
from tests.e2e.console import sign_in, staff_member
from tests.e2e.test_accessibility import violations
from tools.stack import LocalStack

DPUPR = "dpupr-cianjur"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_running_the_agency_pages_pass_the_audit(
    local_stack: LocalStack, phone: Any, lang: str
) -> None:
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, DPUPR)
    sign_in(phone, local_stack, admin)
    console = local_stack.urls["console"]
    for path in ("/staf", "/pengaturan", "/kunci-api"):
        phone.goto(f"{console}{path}?lang={lang}")
        assert phone.get_by_role("heading", level=1).is_visible()
        assert violations(phone) == [], path
    # A form sent empty or wrong: the error summary and the fields marked.
    phone.goto(f"{console}/staf?lang={lang}")
    with phone.expect_navigation():
        phone.locator("form[action^='/staf'] button[type=submit]").last.click()
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == [], "/staf with errors"
    phone.goto(f"{console}/pengaturan?lang={lang}")
    phone.locator("#webhook_url").fill("http://bukan-https.example/hook")
    with phone.expect_navigation():
        phone.locator("#webhook_url").press("Enter")
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == [], "/pengaturan with errors"


def test_an_admin_tests_its_webhook_and_rotates_its_secret_on_a_phone(
    local_stack: LocalStack, phone: Any
) -> None:
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, DPUPR)
    sign_in(phone, local_stack, admin)
    console = local_stack.urls["console"]
    phone.goto(f"{console}/pengaturan")
    phone.locator("#webhook_url").fill(f"{local_stack.receiver_url}/hooks/{DPUPR}")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Simpan").click()
    assert phone.get_by_role("status").filter(has_text="disimpan").is_visible()
    with phone.expect_navigation():
        phone.get_by_role("button", name="Kirim uji webhook").click()
    result = phone.get_by_role("status").filter(has_text="Uji webhook")
    assert "Uji webhook diterima" in result.inner_text(), result.inner_text()
    assert "HTTP 204" in result.inner_text()  # the receiver verified the signature
    assert violations(phone) == []
    with phone.expect_navigation():
        phone.get_by_role("button", name="Rotasi rahasia").click()
    secret = phone.locator("code.secret").inner_text()
    assert secret.startswith("whsec_")
    assert violations(phone) == []  # the page that shows the secret once
    with phone.expect_navigation():
        phone.get_by_role("button", name="Kirim uji webhook").click()
    result = phone.get_by_role("status").filter(has_text="Uji webhook")
    assert "Uji webhook diterima" in result.inner_text()
    assert "dua tanda tangan" in result.inner_text()
    phone.goto(f"{console}/pengaturan")
    assert secret not in phone.content()


def test_an_admin_issues_a_key_with_the_keyboard_alone(local_stack: LocalStack, phone: Any) -> None:
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, DPUPR)
    sign_in(phone, local_stack, admin)
    phone.goto(f"{local_stack.urls['console']}/kunci-api")
    phone.locator("#label").focus()
    phone.keyboard.type("Aplikasi pengaduan DPUPR")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "role"
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "agency_id"
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.tagName") == "BUTTON"
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    key = phone.locator("code.secret").inner_text()
    assert key.startswith("lpr_")
    assert phone.get_by_role("row", name="Aplikasi pengaduan DPUPR").is_visible()
    assert violations(phone) == []
    phone.goto(f"{local_stack.urls['console']}/kunci-api")
    assert key not in phone.content()
