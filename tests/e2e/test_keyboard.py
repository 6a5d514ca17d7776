"""The form with a keyboard alone: every field in reading order, errors announced and
one key away from the field they concern."""

from __future__ import annotations

from typing import Any

from tools.stack import LocalStack

FIELDS_IN_ORDER = [
    "f-type-pengaduan",
    "f-title",
    "f-description",
    "f-category",
    "f-province_code",
    "f-regency_code",
    "f-incident_date",
    "f-target_agency_id",
    "f-anonymous",
    "f-confidential",
    "f-reporter-name",
    "f-reporter-email",
    "f-reporter-phone",
]


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.tagName"))


def test_tab_reaches_every_field_in_order_and_skips_the_honeypot(
    local_stack: LocalStack, phone: Any
) -> None:
    phone.goto(local_stack.urls["submit"] + "/")
    seen: list[str] = []
    for _ in range(60):
        phone.keyboard.press("Tab")
        current = focused(phone)
        seen.append(current)
        if current == "BUTTON":
            break
    assert "f-website" not in seen  # the honeypot is out of the tab order
    # A date input takes one Tab per part (day, month, year): count each field once.
    order = [f for i, f in enumerate(seen) if f in FIELDS_IN_ORDER and f not in seen[:i]]
    assert order == FIELDS_IN_ORDER, seen
    assert seen[-1] == "BUTTON"  # and the last stop is "Kirim laporan"


def test_errors_take_the_focus_and_each_link_leads_to_its_field(
    local_stack: LocalStack, phone: Any
) -> None:
    phone.goto(local_stack.urls["submit"] + "/")
    phone.fill("#f-title", "Pendek")
    phone.focus("#f-title")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")  # submits the form from a text field
    assert focused(phone) == "error-summary"  # announced at once, without a script
    phone.keyboard.press("Tab")
    link = phone.evaluate("document.activeElement.getAttribute('href')")
    phone.keyboard.press("Enter")
    assert f"#{focused(phone)}" == link
