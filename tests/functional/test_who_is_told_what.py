"""lifecycle.md's "Who is told what", row by row, on real parts: the functions
(submit, route, agency, notify, digest) through functions-framework on the emulators,
a real SMTP server (tools/mail_sink.py: STARTTLS, AUTH), the SMS gateway sink
(tools/sms_sink.py, Infobip's API) and a webhook receiver, all on 127.0.0.1.

Reports are driven through the functions' own APIs; what they commit to the outbox is
published to the emulator's topics, whose subscriptions are pull subscriptions here:
each step pulls what Pub/Sub would push to route and to notify and posts it as the
push envelope, then checks that exactly the expected people were told, by the
expected channel, and nobody else. The demo channels (shared/reference/agencies.toml):
Dinkes Cianjur and Puskesmas Cipanas by e-mail, Disdik Cianjur by the hourly digest,
DPUPR Cianjur and Pemkab Cianjur by webhook here.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import wiring
from shared.config import settings
from shared.web.schemas import REPORT_EXAMPLE
from tests.functional.test_route_function import pull
from tools.api_keys import issue_key
from tools.mail_sink import MailSink, StoredMail
from tools.sms_sink import SmsSink
from tools.stack import Emulators
from tools.webhook_receiver import WebhookReceiver, firestore_secrets

DINKES, PUSKESMAS, DISDIK = "dinkes-cianjur", "puskesmas-cipanas", "disdik-cianjur"
DPUPR, PEMKAB, PEMPROV = "dpupr-cianjur", "pemkab-cianjur", "pemprov-jabar"
ADDRESS = {
    DINKES: "pengaduan@dinkes.cianjurkab.example",
    PUSKESMAS: "pkm-cipanas@dinkes.cianjurkab.example",
    DISDIK: "pengaduan@disdik.cianjurkab.example",
    PEMPROV: "pengaduan@jabarprov.example",
}
HOOKED = (DPUPR, PEMKAB)
SITI_EMAIL, SITI_PHONE = "siti@contoh.id", "6281234567890"
# What an anonymous reporter's identity would look like anywhere: name, e-mail, phone.
IDENTITY_TRACES = ("Siti", "Rahayu", "siti@contoh.id", "81234567890", "3456-7890")
SMS_KEY = "functional-sms-key"
_message_ids = itertools.count(1)

Told = tuple[str, str]  # (channel, recipient): ("email", address), ("sms", number), ...


def app(target: str, signature: str = "http") -> FlaskClient:
    made = functions_framework.create_app(
        target=target, source=f"functions/{target}/main.py", signature_type=signature
    )
    client: FlaskClient = made.test_client()
    return client


def envelope(message: Any, subscription: str) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": str(next(_message_ids)),
            "publishTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        },
        "subscription": f"projects/{settings().project}/subscriptions/{subscription}",
    }


@dataclass
class Town:
    """The functions, the sinks and the agencies' keys; what each step told."""

    db: firestore.Client
    mail: MailSink
    sms: SmsSink
    hooks: WebhookReceiver
    keys: dict[str, str]
    submit: FlaskClient = field(default_factory=lambda: app("submit"))
    agency: FlaskClient = field(default_factory=lambda: app("agency"))
    route: FlaskClient = field(default_factory=lambda: app("route", "cloudevent"))
    notify: FlaskClient = field(default_factory=lambda: app("notify", "cloudevent"))
    seen_mail: int = 0
    seen_sms: int = 0
    seen_hooks: int = 0
    kinds: list[str] = field(default_factory=list)

    # --- acting, through the functions' APIs

    def report(self, **changes: Any) -> tuple[str, str, str]:
        """Submit through the reporter API: (report id, tracking code, reporter token)."""
        body = {**REPORT_EXAMPLE, **changes}
        made = self.submit.post(
            "/api/v1/reports", json=body, headers={"X-Forwarded-For": "10.9.8.7"}
        )
        assert made.status_code == 201, made.get_data(as_text=True)
        answer = made.get_json()
        code = answer["tracking_code"]
        reports = self.db.collection("reports")
        [found] = reports.where(filter=FieldFilter("tracking_code", "==", code)).get()
        return found.id, code, answer["reporter_token"]

    def staff(self, key: str, report_id: str, operation: str, **body: str) -> None:
        done = self.agency.post(
            f"/api/v1/reports/{report_id}/{operation}",
            json=body,
            headers={"Authorization": f"Bearer {self.keys[key]}"},
        )
        assert done.status_code == 200, done.get_data(as_text=True)

    def reporter(self, code: str, token: str, operation: str, **body: str) -> None:
        done = self.submit.post(
            f"/api/v1/reports/{code}/{operation}", json=body, headers={"X-Reporter-Token": token}
        )
        assert done.status_code == 200, done.get_data(as_text=True)

    # --- what Pub/Sub would push

    def deliver(self, agency: int, reporter: int) -> None:
        """Route what waits for route, then push ``agency`` and ``reporter`` notifications
        to notify (exactly so many: an extra one shows up in the next step's count)."""
        for message in pull("route", None, wait_s=1.0):
            assert self.route.post("/", json=envelope(message, "route")).status_code in (200, 204)
        for subscription, expect in (("notify", agency), ("notify-reporter", reporter)):
            messages = pull(subscription, expect) if expect else []
            assert len(messages) == expect, [m.data for m in messages]
            for message in messages:
                posted = self.notify.post("/", json=envelope(message, subscription))
                assert posted.status_code == 200, posted.get_data(as_text=True)
                self.kinds.append(message.attributes.get("ce-type", ""))

    def told(self) -> Counter[Told]:
        """Everyone told since the last call, by which channel, and how often."""
        mails = self.mail.messages()[: len(self.mail.messages()) - self.seen_mail]
        texts = self.sms.snapshot()[self.seen_sms :]
        hooks = self.hooks.snapshot()[self.seen_hooks :]
        self.seen_mail += len(mails)
        self.seen_sms += len(texts)
        self.seen_hooks += len(hooks)
        assert all(hook.verified for hook in hooks)
        told = [("email", m.to) for m in mails] + [("sms", t.to.lstrip("+")) for t in texts]
        return Counter(told + [("webhook", str(hook.agency_id)) for hook in hooks])

    def step(self, agency: int, reporter: int) -> Counter[Told]:
        self.deliver(agency, reporter)
        return self.told()

    def agency_messages(self) -> list[str]:
        """Everything any agency received, as text."""
        agency_mail = [m for m in self.mail.messages() if m.to in ADDRESS.values()]
        return [_whole(m) for m in agency_mail] + [h.body.decode() for h in self.hooks.snapshot()]


def _whole(mail: StoredMail) -> str:
    return mail.message.as_string() + (mail.text or "") + (mail.html or "")


REPORTER: Counter[Told] = Counter({("email", SITI_EMAIL): 1, ("sms", SITI_PHONE): 1})
NOBODY: Counter[Told] = Counter()


def by_mail(*agencies: str) -> Counter[Told]:
    return Counter(("email", ADDRESS[a]) for a in agencies)


def by_hook(*agencies: str) -> Counter[Told]:
    return Counter(("webhook", a) for a in agencies)


@pytest.fixture
def town(seeded_emulators: Emulators, db: firestore.Client, tmp_path: Path) -> Iterator[Town]:
    with (
        MailSink(tmp_path / "mail") as mail,
        SmsSink(SMS_KEY, tmp_path) as sms,
        WebhookReceiver(_secrets(db)) as hooks,
    ):
        for agency in HOOKED:
            db.collection("agencies").document(agency).set(
                {"notification": {"webhook_url": hooks.hook_url(agency)}}, merge=True
            )
        os.environ.update(
            {
                "LAPOR_SMTP_HOST": "127.0.0.1",
                "LAPOR_SMTP_PORT": str(mail.smtp_port),
                "LAPOR_SMTP_USERNAME": mail.username,
                "LAPOR_SMTP_PASSWORD": mail.password,
                "LAPOR_SMTP_STARTTLS": "true",
                "LAPOR_SMTP_CA_FILE": str(mail.ca_file),
                "LAPOR_MAIL_FROM": "Lapor <noreply@lapor.test>",
                "LAPOR_SMS_BASE_URL": sms.url,
                "LAPOR_SMS_API_KEY": SMS_KEY,
                "LAPOR_PUBLIC_BASE_URL": "https://lapor.test",
                "LAPOR_AGENCY_URL": "https://agency.lapor.test",
            }
        )
        wiring.reset()
        keys = {
            "dinkes": issue_key(db, DINKES, "agency_admin", "t"),
            "puskesmas": issue_key(db, PUSKESMAS, "unit_officer", "t"),
            "dpupr": issue_key(db, DPUPR, "agency_admin", "t"),
            "pemkab": issue_key(db, PEMKAB, "agency_admin", "t"),
            "national": issue_key(db, "nasional", "national_admin", "t"),
            "dbmpr": issue_key(db, "dbmpr-jabar", "agency_admin", "t"),
            "pemprov": issue_key(db, PEMPROV, "agency_admin", "t"),
        }
        yield Town(db, mail, sms, hooks, keys)
    wiring.reset()


def _secrets(db: firestore.Client) -> dict[str, str]:
    lookup = firestore_secrets(db.project)
    return {agency: str(lookup(agency)) for agency in HOOKED}


# --- the rows ---------------------------------------------------------------------------


def test_a_complaint_from_acceptance_to_reopening_tells_each_the_table_names_once(
    town: Town,
) -> None:
    report_id, code, token = town.report(category="kesehatan", anonymous=True)
    # accepted: the reporter (code and private link), by both channels; routed by rule to
    # Dinkes (dispositioned): Dinkes by e-mail.
    assert town.step(agency=1, reporter=1) == REPORTER + by_mail(DINKES)
    # forwarded to a unit: the unit
    town.staff("dinkes", report_id, "forward", unit_id=PUSKESMAS)
    assert town.step(1, 0) == by_mail(PUSKESMAS)
    # follow-up: the reporter
    town.staff("puskesmas", report_id, "follow-up", message="Sudah kami cek ke lokasi.")
    assert town.step(0, 1) == REPORTER
    # the reporter replies: the handling unit
    town.reporter(code, token, "reply", message="Masih tutup pagi ini.")
    assert town.step(1, 0) == by_mail(PUSKESMAS)
    # resolved: the reporter
    town.staff("puskesmas", report_id, "resolve", message="Jadwal dokter ditambah.")
    assert town.step(0, 1) == REPORTER
    # reopened: the handling unit
    town.reporter(code, token, "reopen", reason="Belum ada perubahan.")
    assert town.step(1, 0) == by_mail(PUSKESMAS)
    assert town.step(0, 0) == NOBODY and pull("notify", None, 1.0) == []

    # The reporter's messages carry the private link; nothing an agency got holds
    # anything of this anonymous reporter.
    accepted = [m for m in town.mail.messages() if m.to == SITI_EMAIL][-1]  # the oldest
    assert f"/lacak/{code}?token={token}" in (accepted.text or "")
    for text in town.agency_messages():
        assert not any(trace in text for trace in IDENTITY_TRACES), text[:400]

    # The log: every delivery, visible to staff; the reporter's lines on their page.
    detail = town.agency.get(
        f"/api/v1/reports/{report_id}", headers={"Authorization": f"Bearer {town.keys['dinkes']}"}
    ).get_json()
    delivered = {(d["kind"], d["status"]) for d in detail["deliveries"]}
    assert ("report.accepted", "delivered") in delivered
    assert ("report.dispositioned", "delivered") in delivered
    assert len(detail["deliveries"]) == 7
    shown = str(detail["deliveries"])
    assert SITI_EMAIL not in shown and SITI_PHONE not in shown
    assert ADDRESS[DINKES] in shown and ADDRESS[PUSKESMAS] not in shown  # its own only
    page = town.submit.get(f"/lacak/{code}?token={token}").get_data(as_text=True)
    lines = [line for line in page.splitlines() if "diberi tahu" in line]
    assert page.count("Anda diberi tahu lewat e-mail dan SMS") == 3  # accepted, 2 answers
    assert not any(trace in "".join(lines) for trace in ("siti@", "812"))  # never to where
    public = town.submit.get(f"/lacak/{code}").get_data(as_text=True)
    assert "diberi tahu" not in public


def test_an_agency_with_three_addresses_gets_one_message_to_all_three(town: Town) -> None:
    three = [ADDRESS[DINKES], "kepala@dinkes.cianjurkab.example", "admin@dinkes.cianjurkab.example"]
    town.db.collection("agencies").document(DINKES).set(
        {"notification": {"webhook_url": None, "emails": three, "digest": None}}, merge=True
    )
    report_id, _, _ = town.report(category="kesehatan")
    # One SMTP transaction: one message the sink keeps, every address a recipient of it.
    assert town.step(agency=1, reporter=1) == REPORTER + Counter({("email", ", ".join(three)): 1})
    [mail] = [m for m in town.mail.messages() if m.to == ", ".join(three)]
    assert mail.delivered_to == three and mail.message["List-Unsubscribe"] is None
    # The log holds one delivery, naming the three to the agency's own staff.
    detail = town.agency.get(
        f"/api/v1/reports/{report_id}", headers={"Authorization": f"Bearer {town.keys['dinkes']}"}
    ).get_json()
    [told] = [d for d in detail["deliveries"] if d["kind"] == "report.dispositioned"]
    assert told["status"] == "delivered"
    assert [c["address"] for c in told["channels"]] == [", ".join(three)]


def test_bukan_wewenang_tells_the_regional_admin_and_the_next_agency(town: Town) -> None:
    report_id, _, _ = town.report()  # a road in Cianjur: the rule routes it to DPUPR
    assert town.step(1, 1) == REPORTER + by_hook(DPUPR)
    # Bukan Wewenang: the admin who must route it (the regency's), and routing runs
    # again: the province's road rule dispositions it to DBMPR Jabar, which has neither
    # webhook nor address here, so it is recorded as having no channel.
    town.staff("dpupr", report_id, "not-our-authority", reason="Jalan provinsi.")
    assert town.step(agency=2, reporter=0) == by_hook(PEMKAB)
    log = town.db.collection(f"reports/{report_id}/deliveries").get()
    statuses = {(d.get("agency_id"), d.get("kind")): d.get("status") for d in log}
    assert statuses[("dbmpr-jabar", "report.dispositioned")] == "no_channel"
    assert statuses[(PEMKAB, "report.returned")] == "delivered"
    # archived (by the admin of the agency it was routed to): the reporter
    town.staff("dbmpr", report_id, "archive", reason="Duplikat laporan lain.")
    assert town.step(0, 1) == REPORTER
    archived = next(m for m in town.mail.messages() if m.to == SITI_EMAIL)  # the newest
    assert "Duplikat laporan lain." in (archived.text or "")
    assert town.step(0, 0) == NOBODY


def test_queued_for_an_admin_held_and_answered(town: Town) -> None:
    # Nothing routes health reports in Bogor: queued for the admin of the region, the
    # province (no regency of Bogor in the demo tree), told by e-mail.
    report_id, code, token = town.report(category="kesehatan", regency_code="32.01")
    assert town.step(1, 1) == REPORTER + by_mail(PEMPROV)
    # a hold: the reporter
    town.staff("pemprov", report_id, "hold", reason="Puskesmas mana yang dimaksud?")
    assert town.step(0, 1) == REPORTER
    # the answer: the agency whose admin asked; routing runs again and, still unable to
    # place it, queues it for the same admin, who is told that too.
    town.reporter(code, token, "answer", message="Puskesmas Ciawi.")
    assert town.step(2, 0) == by_mail(PEMPROV, PEMPROV)
    kinds = town.kinds[-2:]
    assert sorted(kinds) == ["id.lapor.report.hold_answered.v1", "id.lapor.report.returned.v1"]
    assert town.step(0, 0) == NOBODY


def test_unsubscribing_stops_the_next_email_and_only_that(town: Town) -> None:
    report_id, _code, _token = town.report(category="kesehatan")
    town.step(1, 1)
    accepted = next(m for m in town.mail.messages() if m.to == SITI_EMAIL)
    link = str(accepted.message["List-Unsubscribe"]).strip("<>")
    assert accepted.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = re.sub(r"^https://lapor\.test", "", link)
    assert town.submit.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    town.staff("dinkes", report_id, "follow-up", message="Sedang kami tangani.")
    assert town.step(0, 1) == Counter({("sms", SITI_PHONE): 1})  # e-mail stopped, SMS not
    log = town.db.document(f"reports/{report_id}/deliveries/{report_id}.3.reporter").get()
    channels = (log.to_dict() or {})["channels"]
    assert channels["email"]["status"] == "unsubscribed"
    assert channels["sms"]["status"] == "delivered"


def test_redelivered_notifications_send_nothing_twice(town: Town) -> None:
    town.report(category="kesehatan")
    for message in pull("route", 1):
        town.route.post("/", json=envelope(message, "route"))
    pushed = [(m, "notify") for m in pull("notify", 1)]
    pushed += [(m, "notify-reporter") for m in pull("notify-reporter", 1)]
    for _ in range(3):
        for message, subscription in pushed:
            assert town.notify.post("/", json=envelope(message, subscription)).status_code == 200
    assert town.told() == REPORTER + by_mail(DINKES)


# --- the daily jobs, the digest and the lost link ------------------------------------------


def _working_days_later(days: int) -> str:
    calendar = settings().calendar()
    today = calendar.local_date(dt.datetime.now(dt.UTC))
    return calendar.add_working_days(today, days).isoformat()


def test_escalation_tiers_tell_whom_they_name(town: Town) -> None:
    town.report(category="kesehatan", type="aspirasi")  # 5 working days to follow up
    assert town.step(1, 1) == REPORTER + by_mail(DINKES)
    # Six working days on: the reminder (to Dinkes), overdue (Dinkes and its parent).
    escalate = app("escalate")
    run = escalate.post(f"/?date={_working_days_later(6)}")
    assert run.status_code == 200, run.get_data(as_text=True)
    assert town.step(3, 0) == by_mail(DINKES, DINKES) + by_hook(PEMKAB)
    assert town.kinds.count("id.lapor.report.escalated.v1") == 3
    assert town.step(0, 0) == NOBODY


def test_closing_by_itself_tells_the_reporter(town: Town) -> None:
    report_id, _, _ = town.report(category="kesehatan")
    town.step(1, 1)
    town.staff("dinkes", report_id, "follow-up", message="Sedang diperbaiki.")
    town.staff("dinkes", report_id, "resolve", message="Sudah diperbaiki.")
    assert town.step(0, 2) == REPORTER + REPORTER
    # The reporter stays silent for ten working days: the daily run closes it.
    assert app("escalate").post(f"/?date={_working_days_later(12)}").status_code == 200
    assert town.step(0, 1) == REPORTER
    assert town.kinds[-1] == "id.lapor.report.closed.v1"


def test_the_daily_figures_reach_each_agency_by_its_channel_once(town: Town) -> None:
    town.report(category="kesehatan")
    town.step(1, 1)
    assert app("report").post("/").status_code == 200
    dailies = pull("notify", None, 1.0)
    assert dailies and all(b'"report.daily"' in m.data for m in dailies)
    for message in dailies:
        assert town.notify.post("/", json=envelope(message, "notify")).status_code == 200
    agencies = [message.attributes["ce-subject"] for message in dailies]
    reference = wiring.reference()
    expected: Counter[Told] = Counter()
    for message in dailies:
        agency = str(_json(message)["agency_id"])
        if agency in HOOKED:
            expected[("webhook", agency)] += 1
        elif reference.agency(agency).notification.emails:
            # The digest agency too: the figures are a summary already.
            expected[("email", ", ".join(reference.agency(agency).notification.emails))] += 1
    assert len(agencies) == len({str(_json(m)["agency_id"]) for m in dailies})
    assert ("email", ADDRESS[DISDIK]) in expected and ("webhook", PEMKAB) in expected
    assert town.told() == expected


def _json(message: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(message.data)
    return loaded


def test_a_digest_agency_gets_one_email_in_the_hour_listing_its_reports(town: Town) -> None:
    first, code_1, _ = town.report(category="pendidikan", title="Atap kelas SD bocor")
    second, code_2, _ = town.report(category="pendidikan", title="Guru jarang datang")
    assert town.step(2, 2) == REPORTER + REPORTER  # queued: Disdik hears nothing yet
    digest = app("digest")
    assert digest.get("/").status_code == 405  # POST only, as Cloud Scheduler calls it
    hour = {"X-CloudScheduler-ScheduleTime": dt.datetime.now(dt.UTC).isoformat()}
    run = digest.post("/", headers=hour)
    assert run.status_code == 200 and run.get_json()["sent"] == 1, run.get_json()
    assert town.told() == by_mail(DISDIK)
    [mail] = [m for m in town.mail.messages() if m.to == ADDRESS[DISDIK]]
    assert code_1 in (mail.text or "") and code_2 in (mail.text or "")
    assert "Atap kelas SD bocor" in (mail.html or "")
    assert digest.post("/", headers=hour).get_json()["sent"] == 0  # once per agency and hour
    assert town.told() == NOBODY
    for report_id in (first, second):
        log = town.db.document(f"reports/{report_id}/deliveries/{report_id}.2.{DISDIK}").get()
        email = (log.to_dict() or {})["channels"]["email"]
        assert email["status"] == "delivered" and email["digest_id"].startswith(DISDIK)


def test_the_lost_link_goes_to_the_contact_given_and_to_nobody_else(town: Town) -> None:
    _, code, token = town.report(category="kesehatan")
    town.step(1, 1)
    for contact, told in (("0812 3456 7890", Counter({("sms", SITI_PHONE): 1})),
                          ("orang.lain@contoh.id", NOBODY)):  # fmt: skip
        form = {"tracking_code": code, "contact": contact, "website": ""}
        answer = town.submit.post("/lupa-tautan", data=form)
        assert answer.status_code == 303 and "terkirim=1" in answer.headers["Location"]
        assert town.step(0, 1 if told else 0) == told
    [text] = [t for t in town.sms.snapshot() if "Tautan pribadi" in t.text]
    link = re.search(r"https://lapor\.test(/l/\S+)", text.text)
    assert link is not None
    opened = town.submit.get(link.group(1))
    assert opened.status_code in (302, 303) and token in opened.headers["Location"]


# --- failures, shown to the admins ----------------------------------------------------------


def test_failed_deliveries_are_listed_for_the_admins_who_answer_for_them(town: Town) -> None:
    # The relay refuses Dinkes's address for good; the reporter's SMS is dead-lettered.
    town.mail.refuse = lambda to: "550 5.1.1 no such mailbox" if to == ADDRESS[DINKES] else None
    town.sms.respond = lambda request: (503, 0.0)
    _, code, _ = town.report(category="kesehatan")
    for message in pull("route", 1):
        town.route.post("/", json=envelope(message, "route"))
    [to_dinkes] = pull("notify", 1)
    assert town.notify.post("/", json=envelope(to_dinkes, "notify")).status_code == 200
    [accepted] = pull("notify-reporter", 1)
    assert town.notify.post("/", json=envelope(accepted, "notify-reporter")).status_code == 500
    dead = {
        "CloudPubSubDeadLetterSourceSubscription": "notify-reporter",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5",
    }
    accepted.attributes.update(dead)
    answer = town.notify.post("/", json=envelope(accepted, "notify-reporter-dead-letter"))
    assert answer.status_code == 200

    def failed(key: str, query: str = "status=failed") -> Any:
        auth = {"Authorization": f"Bearer {town.keys[key]}"}
        return town.agency.get(f"/api/v1/deliveries?{query}", headers=auth)

    national = failed("national").get_json()["items"]
    assert {(d["kind"], d["agency_id"]) for d in national} == {
        ("report.dispositioned", DINKES),
        ("report.accepted", None),
    }
    reporter = next(d for d in national if d["recipient"] == "reporter")
    parts = {c["channel"]: c["status"] for c in reporter["channels"]}
    assert parts == {"email": "delivered", "sms": "failed"}  # what was accepted stays
    assert reporter["last_error"].startswith("dead-lettered after 5 attempts")
    [own] = failed("dinkes").get_json()["items"]
    assert own["kind"] == "report.dispositioned" and own["tracking_code"] == code
    assert own["channels"][0]["address"] == ADDRESS[DINKES]  # its own address
    assert "550" in own["channels"][0]["last_error"]
    assert ADDRESS[DINKES] not in str(national) and SITI_EMAIL not in str(national)
    assert failed("dpupr").get_json()["items"] == []
    assert failed("puskesmas").status_code == 403
    assert failed("national", "status=delivered").status_code == 400
    first = failed("national", "status=failed&limit=1").get_json()
    rest = failed("national", f"status=failed&cursor={first['next_cursor']}").get_json()
    assert len(first["items"]) == len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert "/api/v1/deliveries" in town.agency.get("/openapi.json").get_json()["paths"]
