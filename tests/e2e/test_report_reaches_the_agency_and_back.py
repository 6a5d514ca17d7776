"""The whole loop on the local stack, as people would live it.

A citizen sends the form in Chromium; route dispositions the report; the agency's
webhook receiver (a real local HTTP server) gets a correctly signed notification;
the agency follows up and resolves through its API; the citizen confirms and rates
on the tracking page.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.e2e.citizen import submit_report
from tools.stack import LocalStack


def wait_for_webhook(
    stack: LocalStack, tracking_code: str, timeout_s: float = 60
) -> dict[str, Any]:
    """The receiver's log line for this report's notification, once it arrives."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.receiver_log.exists():
            for line in stack.receiver_log.read_text().splitlines():
                if line.startswith("{") and tracking_code in line:
                    entry: dict[str, Any] = json.loads(line)
                    return entry
        time.sleep(0.25)
    raise AssertionError(f"no webhook for {tracking_code} within {timeout_s}s")


def agency_key(stack: LocalStack, name: str) -> str:
    keys = json.loads(stack.demo_keys_path.read_text())
    return str(keys[name]["key"])


def test_a_report_reaches_the_agency_and_the_citizen_confirms_the_answer(
    local_stack: LocalStack, phone: Any
) -> None:
    code, private_link = submit_report(phone, local_stack.urls["submit"] + "/")

    # Routed by the Cianjur roads rule; the public works office is told at once.
    webhook = wait_for_webhook(local_stack, code)
    assert webhook["agency_id"] == "dpupr-cianjur"
    assert webhook["verified"] is True, webhook  # Standard Webhooks signature checked
    assert webhook["type"] == "report.dispositioned"

    api = local_stack.urls["agency"] + "/api/v1"
    auth = {"Authorization": f"Bearer {agency_key(local_stack, 'dpupr_cianjur_admin')}"}
    with httpx.Client(headers=auth, timeout=10) as agency:
        inbox = agency.get(f"{api}/inbox", params={"status": "dispositioned"}).json()
        [item] = [i for i in inbox["items"] if i["tracking_code"] == code]
        report_url = f"{api}/reports/{item['id']}"
        detail = agency.get(report_url).json()
        assert detail["reporter"]["name"] == "Siti Aminah"  # not anonymous: shown to it
        follow_up = agency.post(
            f"{report_url}/follow-up",
            json={"message": "Tim UPTD sudah meninjau lokasi; penambalan dijadwalkan Kamis."},
        )
        assert follow_up.status_code == 200, follow_up.text
        resolved = agency.post(
            f"{report_url}/resolve", json={"message": "Lubang sudah ditambal pada hari Kamis."}
        )
        assert resolved.status_code == 200, resolved.text

    # The citizen sees the answer and confirms it on the tracking page.
    phone.goto(private_link)
    page = phone.locator("body").inner_text()
    assert "Lubang sudah ditambal pada hari Kamis." in page
    assert "menunggu konfirmasi pelapor" in page
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ya, sudah selesai").click()
    assert "tanggapan Anda sudah tercatat" in phone.locator("body").inner_text()

    phone.check('[name="rating"][value="5"]')
    with phone.expect_navigation():
        phone.get_by_role("button", name="Kirim penilaian").click()
    closed = phone.locator("body").inner_text()
    assert "tanggapan Anda sudah tercatat" in closed

    with httpx.Client(timeout=10) as public:
        tracked = public.get(f"{local_stack.urls['submit']}/api/v1/reports/{code}").json()
    assert (tracked["state"], tracked["rating"]) == ("closed", 5)
    assert [e["action"] for e in tracked["timeline"]] == [
        "submit",
        "disposition",
        "follow_up",
        "resolve",
        "confirm",
        "rate",
    ]
