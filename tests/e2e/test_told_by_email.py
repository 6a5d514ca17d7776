"""E-mail end to end, on the stack as make run starts it (its SMTP server keeps every
message it takes, tools/mail_sink.py): a citizen sends the form in Chromium with an
e-mail address; the confirmation arrives with the private link, and opening it shows
the report; the health office, which has no webhook, is told of the disposition by
e-mail; its follow-up reaches the citizen by e-mail, and their page says so."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.e2e.citizen import CODE
from tests.e2e.test_report_reaches_the_agency_and_back import agency_key
from tools.mail_sink import StoredMail, read_mailbox
from tools.stack import LocalStack

CITIZEN = "warga.e2e@contoh.id"
DINKES = "pengaduan@dinkes.cianjurkab.example"  # shared/reference/agencies.toml
TITLE = "Puskesmas Cipanas tutup di jam layanan"


def wait_for_mail(stack: LocalStack, to: str, needle: str, timeout_s: float = 60) -> StoredMail:
    """The message to ``to`` whose text holds ``needle``, once the sink has it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for mail in read_mailbox(stack.mail_dir):
            if mail.to == to and needle in (mail.text or ""):
                return mail
        time.sleep(0.25)
    raise AssertionError(f"no e-mail to {to} holding {needle!r} within {timeout_s}s")


def send_the_form(phone: Any, site: str) -> str:
    phone.goto(site + "/")
    phone.check("#f-type-pengaduan")
    phone.fill("#f-title", TITLE)
    phone.fill(
        "#f-description",
        "Sudah tiga hari Puskesmas Cipanas tutup pukul sepuluh pagi, padahal jadwal "
        "layanan sampai pukul dua siang. Warga yang datang dari jauh pulang tanpa dilayani.",
    )
    phone.select_option("#f-category", "kesehatan")
    phone.select_option("#f-province_code", "32")
    phone.select_option("#f-regency_code", "32.03")
    phone.fill('[name="reporter.name"]', "Warga Cipanas")
    phone.fill('[name="reporter.email"]', CITIZEN)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Kirim laporan").click()
    found = CODE.search(phone.locator("body").inner_text())
    assert found, phone.locator("body").inner_text()
    return found.group(0)


def test_the_citizen_and_an_email_only_agency_are_told_by_email(
    local_stack: LocalStack, phone: Any
) -> None:
    site = local_stack.urls["submit"]
    code = send_the_form(phone, site)

    # The confirmation: the code and the private link, which opens the report.
    accepted = wait_for_mail(local_stack, CITIZEN, code)
    assert accepted.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(rf"{re.escape(site)}/lacak/{code}\?token=[\w-]+", accepted.text or "")
    assert link, accepted.text
    phone.goto(link.group(0))
    assert TITLE in phone.locator("body").inner_text()
    assert "W. C." in phone.locator("body").inner_text()  # their own page, masked

    # Routed by the Cianjur health rule: Dinkes has no webhook, so it is told by e-mail,
    # with the report and nothing of who sent it.
    told = wait_for_mail(local_stack, DINKES, code)
    assert TITLE in (told.html or "") and CITIZEN not in told.message.as_string()

    api = local_stack.urls["agency"] + "/api/v1"
    auth = {"Authorization": f"Bearer {agency_key(local_stack, 'dinkes_cianjur_admin')}"}
    with httpx.Client(headers=auth, timeout=10) as agency:
        inbox = agency.get(f"{api}/inbox", params={"status": "dispositioned"}).json()
        [item] = [i for i in inbox["items"] if i["tracking_code"] == code]
        answer = "Kepala Puskesmas sudah kami tegur; layanan kembali sampai pukul 14.00."
        done = agency.post(f"{api}/reports/{item['id']}/follow-up", json={"message": answer})
        assert done.status_code == 200, done.text
        # The follow-up reaches the citizen by e-mail, in the agency's own words.
        followed = wait_for_mail(local_stack, CITIZEN, "layanan kembali")
        assert code in (followed.text or "")
        detail = agency.get(f"{api}/reports/{item['id']}").json()
    statuses = {(d["kind"], d["status"]) for d in detail["deliveries"]}
    assert {("report.accepted", "delivered"), ("report.dispositioned", "delivered")} <= statuses
    assert any(c.get("address") == DINKES for d in detail["deliveries"] for c in d["channels"])

    # Their timeline says how they were told (notify records it just after the relay
    # took the message), and never where.
    deadline = time.monotonic() + 30
    while True:
        phone.goto(link.group(0))
        body = phone.locator("body").inner_text()
        timeline = body.split("Riwayat")[-1]
        if timeline.count("Anda diberi tahu lewat e-mail") >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "layanan kembali sampai pukul 14.00" in timeline
    assert timeline.count("Anda diberi tahu lewat e-mail") == 2, timeline
    assert CITIZEN not in timeline
