"""An automated accessibility audit (axe-core, WCAG 2.1 A and AA) of every citizen page,
in the states a citizen meets them: empty, with errors, submitted, followed; and of the
public figures and list once a day's figures are published."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.citizen import submit_report
from tests.e2e.figures import routed_report, run_report, today
from tools.stack import LocalStack

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page: Any) -> list[str]:
    results = Axe().run(page, options=WCAG).response
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
    ]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_form_empty_and_with_errors_passes_the_audit(
    local_stack: LocalStack, phone: Any, lang: str
) -> None:
    phone.goto(f"{local_stack.urls['submit']}/?lang={lang}")
    assert violations(phone) == []
    with phone.expect_navigation():
        phone.locator("button[type=submit]").last.click()
    assert phone.get_by_role("alert").is_visible()
    assert violations(phone) == []


def test_the_confirmation_lookup_and_tracking_pages_pass_the_audit(
    local_stack: LocalStack, phone: Any
) -> None:
    code, private_link = submit_report(phone, local_stack.urls["submit"] + "/")
    assert violations(phone) == []  # the confirmation, with the code and the link
    phone.goto(private_link)
    assert violations(phone) == []  # the reporter's page, with its forms
    phone.goto(f"{local_stack.urls['submit']}/lacak")
    assert violations(phone) == []
    phone.goto(f"{local_stack.urls['submit']}/lacak/{code}")
    assert violations(phone) == []  # what anyone with the code sees


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_public_figures_and_the_public_list_pass_the_audit(
    local_stack: LocalStack, phone: Any, lang: str
) -> None:
    # A routed report and a run of the day's figures: the tables, the chart and the
    # list have something to show.
    routed_report(local_stack)
    run_report(local_stack, today())
    site = local_stack.urls["submit"]
    for path in (
        "/statistik",
        "/statistik?periode=kumulatif",
        "/statistik/instansi/dpupr-cianjur",
        "/statistik/definisi",
        "/laporan",
    ):
        phone.goto(f"{site}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert phone.locator("table, ol.reports").count() > 0, path
        assert violations(phone) == [], path


def test_the_audit_sees_a_violation_when_there_is_one(phone: Any) -> None:
    # So a clean result above means something: an unlabelled field must be caught.
    phone.set_content('<html lang="id"><body><main><input type="text"></main></body></html>')
    assert any(v.startswith("label ") for v in violations(phone))
