"""The national admin's agencies and routing rules in Chromium on the local stack: each
page passes the axe audit (WCAG 2.1 A and AA) in both languages and with its errors,
and a rule is added and deleted through the forms as a person would.

The stack is shared by the session's end-to-end tests, so the rule added here routes
nothing differently (Kota Bandung's SMA/SMK reports go to the province either way) and
is deleted again.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.report import Role
from tests.e2e.console import sign_in, staff_member
from tests.e2e.test_accessibility import violations
from tools.stack import LocalStack

PAGES = ("/instansi", "/instansi/dinkes-cianjur", "/aturan", "/aturan/cianjur-jalan")


@pytest.fixture
def national(local_stack: LocalStack, phone: Any) -> Any:
    member = staff_member(local_stack, Role.NATIONAL_ADMIN, "nasional")
    sign_in(phone, local_stack, member)
    return phone


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_agency_and_rule_pages_pass_the_audit(
    local_stack: LocalStack, national: Any, lang: str
) -> None:
    console = local_stack.urls["console"]
    for path in PAGES:
        national.goto(f"{console}{path}?lang={lang}")
        assert national.locator("h1").count() == 1, path
        assert violations(national) == [], path


def test_a_rule_is_added_with_its_errors_shown_first_then_deleted(
    local_stack: LocalStack, national: Any
) -> None:
    console = local_stack.urls["console"]
    national.goto(f"{console}/aturan")
    with national.expect_navigation():
        national.get_by_role("button", name="Tambah aturan").click()  # nothing chosen
    summary = national.get_by_role("alert")
    assert summary.is_visible()
    assert violations(national) == []
    with national.expect_navigation():
        summary.get_by_role("link").first.click()
    assert national.evaluate("document.activeElement.id") == "kode"

    national.get_by_label("Kode").fill("bandung-sma-smk")
    national.get_by_label("Kategori").select_option("pendidikan.sma-smk")
    national.get_by_label("Wilayah").select_option("32.73")
    national.get_by_label("Instansi").select_option("pemprov-jabar")
    with national.expect_navigation():
        national.get_by_role("button", name="Tambah aturan").click()

    assert "Aturan disimpan: bandung-sma-smk" in national.get_by_role("status").inner_text()
    assert national.get_by_role("link", name="bandung-sma-smk").is_visible()
    assert violations(national) == []

    with national.expect_navigation():
        national.get_by_role("link", name="bandung-sma-smk").click()
    with national.expect_navigation():
        national.get_by_role("button", name="Hapus aturan ini").click()

    assert "Aturan dihapus: bandung-sma-smk" in national.get_by_role("status").inner_text()
    assert national.get_by_role("link", name="bandung-sma-smk").count() == 0
