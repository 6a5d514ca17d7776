"""The console's casework in Chromium on the local stack, as staff would live it: a
citizen sends the form; the DPUPR admin signs in with password and TOTP, finds the
new report by its tracking code and forwards it to the roads unit; the unit's officer
follows up and resolves it; the citizen sees the answer on the tracking page. The
inbox, report, queue and figures pages pass the axe audit (WCAG 2.1 A and AA) on a
phone and a laptop, and the inbox and a report's actions work with a keyboard alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from shared.domain.report import Role
from tests.e2e.citizen import TITLE, submit_report
from tests.e2e.console import sign_in, staff_member
from tests.e2e.test_accessibility import violations
from tools.stack import LocalStack


@pytest.fixture
def laptop(browser: Any) -> Iterator[Any]:
    """A page in a laptop-sized window, another person's browser than ``phone``'s."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    try:
        yield context.new_page()
    finally:
        context.close()


def focused(page: Any) -> str:
    return str(
        page.evaluate(
            "document.activeElement.id || document.activeElement.getAttribute('href')"
            " || document.activeElement.textContent.trim() || document.activeElement.tagName"
        )
    )


def open_by_code(page: Any, console: str, code: str, timeout_s: float = 60) -> None:
    """Find the report by its tracking code, as soon as routing has given it to the
    agency (the stack routes through Pub/Sub, so it takes a moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.goto(f"{console}/kotak-masuk")
        page.get_by_label("Kode pelacakan").fill(code.lower().replace("-", " "))
        with page.expect_navigation():
            page.get_by_role("button", name="Cari").click()
        if "/laporan/" in page.url and "Terdisposisi" in page.locator("main").inner_text():
            return
        assert time.monotonic() < deadline, f"{code} never reached the inbox"
        time.sleep(0.5)


def take(page: Any, heading: str, field_label: str, value: str, button: str) -> None:
    """Open an action's form, fill its one field and send it; the page says it is done."""
    page.locator("summary", has_text=heading).click()
    field = page.get_by_label(field_label)
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(label=value)
    else:
        field.fill(value)
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    assert page.get_by_role("status").is_visible(), page.locator("main").inner_text()


def test_staff_forward_follow_up_and_resolve_and_the_citizen_sees_it(
    local_stack: LocalStack, phone: Any, laptop: Any, browser: Any
) -> None:
    console = local_stack.urls["console"]
    code, private_link = submit_report(phone, local_stack.urls["submit"] + "/")

    admin = staff_member(local_stack, Role.AGENCY_ADMIN, "dpupr-cianjur")
    sign_in(laptop, local_stack, admin)
    assert laptop.url.endswith("/kotak-masuk")
    assert laptop.get_by_role("heading", name="Kotak masuk", exact=True).is_visible(), (
        laptop.locator("main").inner_text()
    )
    open_by_code(laptop, console, code)
    assert laptop.get_by_role("heading", name=TITLE).is_visible()
    assert "Siti Aminah" not in laptop.content()  # the identity only on request
    assert violations(laptop) == []
    take(
        laptop,
        "Teruskan ke unit kerja",
        "Unit kerja",
        "UPTD Pemeliharaan Jalan dan Jembatan Dinas PUPR Kabupaten Cianjur",
        "Teruskan",
    )
    assert "Diteruskan ke unit kerja" in laptop.locator("ol.timeline").inner_text()

    officer = staff_member(local_stack, Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    officer_page = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True
    ).new_page()
    try:
        sign_in(officer_page, local_stack, officer)
        inbox = officer_page.locator("main").inner_text()
        assert code in inbox and violations(officer_page) == []
        with officer_page.expect_navigation():
            officer_page.get_by_role("link", name=code).click()
        take(
            officer_page,
            "Tindak lanjut",
            "Tanggapan untuk pelapor",
            "Tim UPTD Jalan sudah meninjau lokasi; penambalan dijadwalkan Kamis.",
            "Kirim tindak lanjut",
        )
        take(
            officer_page,
            "Nyatakan selesai",
            "Penjelasan penyelesaian",
            "Lubang sudah ditambal dan lampu jalan diganti.",
            "Nyatakan selesai",
        )
        assert violations(officer_page) == []  # the report with its status message
    finally:
        officer_page.context.close()

    phone.goto(private_link)
    seen = phone.locator("main").inner_text()
    assert "Lubang sudah ditambal dan lampu jalan diganti." in seen
    assert "penambalan dijadwalkan Kamis" in seen


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_casework_pages_pass_the_audit_on_a_phone(
    local_stack: LocalStack, phone: Any, lang: str
) -> None:
    console = local_stack.urls["console"]
    code, _ = submit_report(phone, local_stack.urls["submit"] + "/")
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, "pemkab-cianjur")
    sign_in(phone, local_stack, admin)
    open_by_code(phone, console, code)
    for path in ("/kotak-masuk", "/kotak-masuk?status=dispositioned", "/antrean", "/angka"):
        phone.goto(f"{console}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert violations(phone) == [], path
    phone.goto(f"{console}/kotak-masuk?kode=K7M-2XQ&lang={lang}")  # with its error
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []
    phone.goto(f"{console}/kotak-masuk?lang={lang}")
    with phone.expect_navigation():
        phone.get_by_role("link", name=code).click()
    phone.locator("summary").first.click()
    with phone.expect_navigation():
        phone.locator("details[open] button[type=submit]").click()  # nothing filled in
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []  # the report page with a refused action


def test_the_inbox_and_an_action_with_a_keyboard_alone(
    local_stack: LocalStack, laptop: Any
) -> None:
    console = local_stack.urls["console"]
    code, _ = submit_report(laptop, local_stack.urls["submit"] + "/")
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, "dpupr-cianjur")
    sign_in(laptop, local_stack, admin)
    open_by_code(laptop, console, code)
    laptop.goto(f"{console}/kotak-masuk")

    # Skip link first, then the search field is reached and searched from the keyboard.
    laptop.keyboard.press("Tab")
    assert focused(laptop) == "#main"
    for _ in range(40):
        laptop.keyboard.press("Tab")
        if focused(laptop) == "kode":
            break
    assert focused(laptop) == "kode"
    laptop.keyboard.type(code)
    with laptop.expect_navigation():
        laptop.keyboard.press("Enter")
    assert "/laporan/" in laptop.url

    # An action's form: open it, type, send, all from the keyboard.
    for _ in range(60):
        laptop.keyboard.press("Tab")
        if focused(laptop) == "Tindak lanjut":
            break
    assert focused(laptop) == "Tindak lanjut"
    laptop.keyboard.press("Enter")  # opens the <details>
    laptop.keyboard.press("Tab")
    assert focused(laptop) == "follow-up-message"
    laptop.keyboard.type("Sudah kami terima dan akan ditinjau besok.")
    laptop.keyboard.press("Tab")
    assert focused(laptop) == "follow-up-berkas"  # its files, optional
    laptop.keyboard.press("Tab")
    with laptop.expect_navigation():
        laptop.keyboard.press("Enter")
    assert laptop.get_by_role("status").is_visible()
    assert "Sudah kami terima" in laptop.locator("ol.timeline").inner_text()
