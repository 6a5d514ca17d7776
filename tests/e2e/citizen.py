"""What a citizen does on the form, shared by the end-to-end tests."""

from __future__ import annotations

import re
from typing import Any

CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}\b")
TITLE = "Jalan berlubang di depan Pasar Cianjur"


def fill_report(page: Any) -> None:
    page.check("#f-type-pengaduan")
    page.fill("#f-title", TITLE)
    page.fill(
        "#f-description",
        "Ada lubang besar di Jalan Siliwangi depan pasar. Sudah dua pengendara motor jatuh "
        "minggu ini, terutama malam hari karena lampu jalan juga mati.",
    )
    page.select_option("#f-category", "infrastruktur.jalan")
    page.select_option("#f-province_code", "32")
    page.select_option("#f-regency_code", "32.03")
    page.fill('[name="reporter.name"]', "Siti Aminah")
    page.fill('[name="reporter.phone"]', "081234567890")


def submit_report(page: Any, form_url: str) -> tuple[str, str]:
    """Fill and send the form; the tracking code and the private link it shows."""
    page.goto(form_url)
    fill_report(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Kirim laporan").click()
    found = CODE.search(page.locator("body").inner_text())
    assert found, page.locator("body").inner_text()
    private_link = page.url.replace("&new=1", "").replace("new=1&", "")
    return found.group(0), private_link
