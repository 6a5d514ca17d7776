"""Casework in Chromium on the local stack, as an agency admin would do it on a phone: a
citizen sends the form; the DPUPR admin adds a response template, leaves an internal
note (first an empty one, refused beside its field), takes the report on with a
priority, fills the follow-up form from the template without any JavaScript, asks for
the reporter's identity, and finds each of those in the change log. Every page passes
the axe audit (WCAG 2.1 A and AA), in Bahasa Indonesia and in English."""

from __future__ import annotations

import time
from typing import Any

from shared.domain.report import Role
from tests.e2e.citizen import submit_report
from tests.e2e.console import sign_in, staff_member
from tests.e2e.test_accessibility import violations
from tools.stack import LocalStack

TEMPLATE_TEXT = "Terima kasih. Tim kami akan meninjau lokasi dalam tiga hari kerja."


def _open_by_code(page: Any, console: str, code: str, timeout_s: float = 60) -> None:
    """Search the inbox for the code until routing has given the report to the agency."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.goto(f"{console}/kotak-masuk")
        page.get_by_label("Kode pelacakan").fill(code)
        with page.expect_navigation():
            page.get_by_role("button", name="Cari").click()
        if "/laporan/" in page.url and "Terdisposisi" in page.locator("main").inner_text():
            return
        assert time.monotonic() < deadline, f"{code} never reached the inbox"
        time.sleep(0.5)


def _send(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_an_admin_works_a_report_with_notes_a_template_and_the_identity(
    local_stack: LocalStack, phone: Any
) -> None:
    console = local_stack.urls["console"]
    code, _ = submit_report(phone, local_stack.urls["submit"] + "/")
    admin = staff_member(local_stack, Role.AGENCY_ADMIN, "dpupr-cianjur")
    sign_in(phone, local_stack, admin)

    # A response template, after the form refused an empty one.
    phone.goto(f"{console}/templat")
    assert violations(phone) == []
    _send(phone, "Tambah templat")
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []
    phone.get_by_label("Judul", exact=True).fill("Akan ditinjau")
    phone.get_by_label("Isi", exact=True).fill(TEMPLATE_TEXT)
    phone.get_by_label("Tindak lanjut", exact=True).check()
    _send(phone, "Tambah templat")
    assert "Templat ditambahkan." in phone.get_by_role("status").inner_text()
    assert violations(phone) == []

    _open_by_code(phone, console, code)
    report_url = phone.url.split("?")[0]
    assert violations(phone) == []

    # An empty note is refused beside its field; a note is kept.
    _send(phone, "Simpan catatan")
    assert phone.get_by_text("Tulis isi catatan.").is_visible()
    assert violations(phone) == []
    phone.get_by_label("Catatan baru").fill("Sudah dikoordinasikan dengan UPTD Jalan.")
    _send(phone, "Simpan catatan")
    assert "Catatan disimpan." in phone.get_by_role("status").inner_text()
    assert "Sudah dikoordinasikan dengan UPTD Jalan." in phone.locator("main").inner_text()

    # Taking it on, urgent.
    phone.get_by_label("Petugas", exact=True).select_option(label=admin.name)
    phone.get_by_label("Prioritas", exact=True).select_option(label="Mendesak")
    _send(phone, "Simpan penugasan")
    assert "Penugasan disimpan." in phone.get_by_role("status").inner_text()
    assert phone.get_by_label("Prioritas", exact=True).input_value() == "urgent"

    # The template fills the follow-up's text: a link, no script.
    with phone.expect_navigation():
        phone.get_by_role("link", name="Akan ditinjau").click()
    assert phone.get_by_label("Tanggapan untuk pelapor").input_value() == TEMPLATE_TEXT
    assert violations(phone) == []

    # The identity only when asked for, and then recorded.
    assert "Siti Aminah" not in phone.content()
    _send(phone, "Tampilkan identitas pelapor")
    assert "Siti Aminah" in phone.locator("main").inner_text()
    assert violations(phone) == []

    phone.goto(f"{console}/riwayat")
    log = phone.locator("main").inner_text()
    for change in ("Melihat identitas pelapor", "Menugaskan laporan", "Menambah templat jawaban"):
        assert change in log, change
    assert violations(phone) == []
    phone.goto(f"{console}/riwayat?jenis=identitas")
    assert code in phone.locator("main").inner_text()

    for path in ("/templat", "/riwayat", report_url.removeprefix(console)):
        phone.goto(f"{console}{path}?lang=en")
        assert phone.locator("h1").count() == 1, path
        assert violations(phone) == [], f"{path} in English"
