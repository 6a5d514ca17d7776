"""The console's sign-in in Chromium on the local stack: password and TOTP, the
admins' enrolment, an axe audit (WCAG 2.1 A and AA) of each sign-in page in both
languages and with its errors, and the sign-in form with a keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from shared.domain.report import Role
from tests.e2e.console import sign_in, staff_member
from tests.e2e.test_accessibility import violations
from tests.functional.console_support import PASSWORD
from tools.stack import LocalStack


def focused(page: Any) -> str:
    return str(
        page.evaluate(
            "document.activeElement.id || document.activeElement.getAttribute('href')"
            " || document.activeElement.tagName"
        )
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_sign_in_pages_pass_the_audit(local_stack: LocalStack, phone: Any, lang: str) -> None:
    console = local_stack.urls["console"]
    for path in ("/masuk", "/lupa-sandi", "/undangan/bukan-token", "/tidak-ada"):
        phone.goto(f"{console}{path}?lang={lang}")
        assert violations(phone) == [], path
    phone.goto(f"{console}/masuk?lang={lang}")
    with phone.expect_navigation():
        phone.locator("button[type=submit]").click()  # nothing typed: the errors
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []


def test_an_admin_signs_in_with_password_and_code_and_every_page_passes_the_audit(
    local_stack: LocalStack, phone: Any
) -> None:
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, "dpupr-cianjur")
    console = local_stack.urls["console"]
    phone.goto(f"{console}/masuk?next=/akun")
    phone.get_by_label("Alamat e-mail").fill(admin.email)
    phone.get_by_label("Kata sandi").fill(PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Masuk").click()
    assert "/masuk/kode" in phone.url
    assert violations(phone) == []
    phone.get_by_label("Kode dari aplikasi autentikator").fill("000000")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []  # the code page with its error
    phone.get_by_label("Kode dari aplikasi autentikator").fill(admin.code())
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.url.endswith("/akun")
    assert phone.get_by_role("heading", name="Akun saya").is_visible()
    assert violations(phone) == []
    # Replacing the second factor: the page, then its errors (password, old code).
    with phone.expect_navigation():
        phone.get_by_role("link", name="ganti aplikasi autentikator").click()
    assert phone.get_by_role("heading", name="Ganti aplikasi autentikator").is_visible()
    assert violations(phone) == []
    with phone.expect_navigation():
        phone.get_by_role("button", name="Simpan").click()
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []
    phone.goto(f"{console}/akun")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Keluar", exact=True).click()
    assert "/masuk" in phone.url and phone.get_by_role("status").is_visible()


def test_an_admin_without_a_second_factor_enrols_it_from_the_qr_page(
    local_stack: LocalStack, phone: Any
) -> None:
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, "dinkes-cianjur", second_factor=False)
    phone.goto(f"{local_stack.urls['console']}/masuk")
    phone.get_by_label("Alamat e-mail").fill(admin.email)
    phone.get_by_label("Kata sandi").fill(PASSWORD)
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert "/masuk/daftar-kode" in phone.url
    qr = phone.get_by_role("img")
    assert qr.count() == 1 and qr.evaluate("img => img.naturalWidth") > 0  # the SVG draws
    assert violations(phone) == []
    key = phone.locator(".secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", key)
    phone.get_by_label("Kode dari aplikasi autentikator").fill(
        pyotp.TOTP(key.replace(" ", "")).now()
    )
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert "/masuk" not in phone.url


def test_the_sign_in_form_with_a_keyboard_alone(local_stack: LocalStack, phone: Any) -> None:
    officer = staff_member(local_stack, Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    phone.goto(f"{local_stack.urls['console']}/masuk?next=/akun")
    seen = []
    for _ in range(10):
        phone.keyboard.press("Tab")
        seen.append(focused(phone))
        if seen[-1] == "BUTTON":
            break
    assert seen[0] == "#main"  # the skip link comes first
    assert [f for f in seen if f in ("email", "password", "BUTTON")] == [
        "email",
        "password",
        "BUTTON",
    ]
    # Sent empty from the keyboard, the errors take the focus and lead to the field.
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert focused(phone) == "error-summary"
    phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    assert focused(phone) == "email"
    phone.keyboard.type(officer.email)
    phone.keyboard.press("Tab")
    phone.keyboard.type(PASSWORD)
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.url.endswith("/akun")


def test_signing_in_reaches_the_console(local_stack: LocalStack, phone: Any) -> None:
    officer = staff_member(local_stack, Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    sign_in(phone, local_stack, officer, "/akun")
    assert phone.get_by_text(officer.email).is_visible()


def test_a_visually_hidden_text_in_a_wide_table_does_not_widen_the_phone_page(
    local_stack: LocalStack, phone: Any
) -> None:
    """A row's hidden label (.vh, absolutely placed) in a table wider than the phone stays
    inside the table's scroll box instead of widening the whole page."""
    officer = staff_member(local_stack, Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    sign_in(phone, local_stack, officer, "/akun")
    phone.evaluate(
        """() => {
            const table = document.querySelector('.scroll table');
            table.style.minWidth = '60rem';
            const hidden = document.createElement('span');
            hidden.className = 'vh';
            hidden.textContent = 'Keluar dari sesi ini';
            table.querySelector('tbody tr td:last-child').appendChild(hidden);
        }"""
    )
    assert phone.evaluate("document.querySelector('.scroll').scrollWidth") > 390
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
