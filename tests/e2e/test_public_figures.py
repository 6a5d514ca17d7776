"""The public dashboard on a phone, showing a real run's figures on the stack as
``make run`` starts it: a citizen's report sent through the form in Chromium and routed
by the stack, the day's figures computed by the README's command, and the dashboard
and the agency page read without JavaScript, their chart drawn within the page's
security policy, nothing wider than the phone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.citizen import submit_report
from tests.e2e.figures import run_report, today
from tests.e2e.test_report_reaches_the_agency_and_back import wait_for_webhook
from tools.stack import LocalStack

AGENCY = "dpupr-cianjur"  # where the Cianjur roads rule routes the form's report


def _cumulative_row(site: str, day: str) -> dict[str, Any]:
    """The agency's own cumulative row of the day's open data."""
    rows = httpx.get(f"{site}/data/harian/{day}.json", timeout=10).json()["rows"]
    return next(
        row
        for row in rows
        if (row["scope"], row["scope_id"], row["period"]) == ("agency", AGENCY, "cumulative")
    )


def test_the_dashboard_on_a_phone_shows_the_figures_of_the_days_run(
    local_stack: LocalStack, phone: Any, tmp_path: Path
) -> None:
    site = local_stack.urls["submit"]
    code, _ = submit_report(phone, site + "/")
    wait_for_webhook(local_stack, code)
    day = today().isoformat()
    answer = run_report(local_stack, today())
    assert answer["day"] == day

    blocked: list[str] = []
    phone.on("console", lambda message: blocked.append(message.text))
    phone.goto(f"{site}/statistik?periode=kumulatif")
    phone.wait_for_load_state("load")
    body = phone.locator("main").inner_text()
    assert "Statistik penanganan laporan" in body

    # The agency's line shows what the run stored for it.
    stored = _cumulative_row(site, day)
    line = phone.locator("table.agencies tr", has=phone.get_by_role("link", name="DPUPR Cianjur"))
    cells = line.locator("td").all_inner_texts()
    assert stored["received"] >= 1 and str(stored["received"]) in cells[:2], cells

    # The chart is drawn (an image of the page's own origin) and nothing was blocked.
    chart = phone.get_by_role("img", name="Grafik garis laporan diterima dan ditutup per hari")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert not [text for text in blocked if "Content Security Policy" in text], blocked
    # No JavaScript of ours runs, and the page is no wider than the phone: the wide
    # table scrolls inside its own region.
    assert phone.evaluate("document.scripts.length") == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(f"{site}/statistik")
    shot = tmp_path / "statistik.png"
    phone.screenshot(path=str(shot), full_page=True)
    copy = os.environ.get("LAPOR_SCREENSHOT_DIR")
    if copy:  # for a person to look at: LAPOR_SCREENSHOT_DIR=/tmp make test
        Path(copy, "statistik.png").write_bytes(shot.read_bytes())
    assert shot.stat().st_size > 10_000

    phone.get_by_role("link", name="DPUPR Cianjur").first.click()
    phone.wait_for_load_state("load")
    assert phone.url.endswith(f"/statistik/instansi/{AGENCY}")
    assert "Angka instansi ini" in phone.locator("main").inner_text()
