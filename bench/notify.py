"""Notify benchmark: who each lifecycle event tells and what delivering it costs, and
1,000 e-mails through the local SMTP server.

On fresh emulators, seeded with the demo agencies (Dinkes Cianjur, Puskesmas Cipanas
and the regency's admins told by e-mail, DPUPR and the rest by webhook to a local
receiver), with the local SMTP server (tools/mail_sink.py: STARTTLS on its own
certificate, AUTH) and the SMS gateway sink (tools/sms_sink.py) on 127.0.0.1:

1. **Per lifecycle event.** ``STORIES`` reports (a named reporter with an e-mail
   address and a phone) are taken through every event of lifecycle.md's "Who is told
   what" by the use cases (submit_report, act, the daily escalation run), each event's
   notifications taken from what it committed to the outbox, and each delivered
   in-process by the notify use case with the real adapters (Firestore, SMTP, SMS,
   webhook), the store's operations counted per notification (StoreStats, as billed).
   Then the hourly digest of an agency with ``STORIES`` queued items.
2. **1,000 e-mails.** ``EMAILS`` reports are filed, then their ``report.accepted``
   notifications (e-mail only) are delivered by the notify use case from
   ``WORKERS`` threads (as many notify instances), each message one SMTP conversation
   with STARTTLS and AUTH. Measured: from the first delivery until the server has
   accepted all of them, and each delivery's wall time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    announce,
    counted,
    emulated_environment,
    logs_to_file,
    ms,
    percentiles,
    print_table,
    write_results,
)

STORIES = 20
EMAILS = 1000
WORKERS = 8
SMS_KEY = "bench-sms-key"
NOTIFICATION_TOPICS = ("agency-notifications", "reporter-notifications")


@dataclasses.dataclass
class Cost:
    """What one kind of thing cost, summed over its occurrences."""

    count: int = 0
    reads: int = 0
    writes: int = 0
    commits: int = 0

    def per(self, what: int) -> dict[str, float]:
        n = max(1, what)
        return {
            "document_reads": round(self.reads / n, 2),
            "document_writes": round(self.writes / n, 2),
            "commits": round(self.commits / n, 2),
        }


class Recorder:
    """A publisher that keeps what the use cases publish (notify is called in-process)."""

    def __init__(self) -> None:
        self.held: list[Any] = []

    def publish(self, message: Any) -> None:
        self.held.append(message)

    def take(self) -> list[Any]:
        taken, self.held = self.held, []
        return [m for m in taken if m.topic in NOTIFICATION_TOPICS]


def run() -> dict[str, Any]:
    announce("notify", f"the lifecycle's notifications, then {EMAILS:,} e-mails over SMTP")
    with logs_to_file("notify"):
        figures = _measure()
    write_results("notify", figures)
    _print_figures(figures)
    return figures


def _measure() -> dict[str, Any]:
    from tools.mail_sink import MailSink
    from tools.sms_sink import SmsSink
    from tools.webhook_receiver import WebhookReceiver

    with tempfile.TemporaryDirectory(prefix="lapor-bench-notify-") as tmp:
        mail_dir = Path(tmp) / "mail"
        with (
            MailSink(mail_dir) as mail,
            SmsSink(SMS_KEY, Path(tmp)) as sms,
            WebhookReceiver(_secret_of) as hooks,
        ):
            env = {
                "LAPOR_SMTP_HOST": "127.0.0.1",
                "LAPOR_SMTP_PORT": str(mail.smtp_port),
                "LAPOR_SMTP_USERNAME": mail.username,
                "LAPOR_SMTP_PASSWORD": mail.password,
                "LAPOR_SMTP_STARTTLS": "true",
                "LAPOR_SMTP_CA_FILE": str(mail.ca_file),
                "LAPOR_MAIL_FROM": "Lapor <noreply@lapor.bench>",
                "LAPOR_SMS_BASE_URL": sms.url,
                "LAPOR_SMS_API_KEY": SMS_KEY,
                "LAPOR_PUBLIC_BASE_URL": "https://lapor.bench",
                "LAPOR_AGENCY_URL": "https://agency.lapor.bench",
                "LAPOR_RATE_LIMIT_SUBMITS": "1000000",
            }
            with emulated_environment(env) as emu:
                from tools.seed import seed_emulator

                seed_emulator(emu.firestore_host, emu.project, demo_webhook_url=hooks.url)
                _SECRETS.update(_read_secrets())
                events, kinds, digest = _lifecycle()
                emails = _emails(mail)
    return {
        "method": (
            "In-process notify use case with the real adapters on the emulators, the local "
            "SMTP server (STARTTLS, AUTH) and SMS sink; Firestore operations as billed "
            "(StoreStats of the report and notification stores)."
        ),
        "stories": STORIES,
        "notifications_per_event": events,
        "firestore_per_notification_by_kind_and_channel": kinds,
        "digest": digest,
        "emails": emails,
    }


_SECRETS: dict[str, str] = {}


def _secret_of(agency_id: str) -> str | None:
    return _SECRETS.get(agency_id)


def _read_secrets() -> dict[str, str]:
    """Each agency's signing secret as the agency holds it: opened as notify opens it."""
    from shared import wiring
    from shared.adapters.signing_secrets import stored_secrets

    found = {}
    for doc in wiring.firestore_client().collection("agency_secrets").stream():
        secret, _, open_secret = stored_secrets(doc.to_dict() or {}, doc.id, wiring.signing_sealer)
        if secret:
            found[doc.id] = open_secret(secret)
    return found


# --- 1. the lifecycle -----------------------------------------------------------------------


def _lifecycle() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    from shared import wiring
    from shared.config import settings
    from shared.domain.privacy import ReporterIdentity
    from shared.domain.report import Action, Actor, Command, ReportType, Role
    from shared.ports import FixedClock
    from shared.usecases.act import act
    from shared.usecases.digest import digest_hour, run_digests
    from shared.usecases.escalate import escalate
    from shared.usecases.notify import deliver, notification_message
    from shared.usecases.submit import submit_report
    from tests.builders import a_draft

    config = settings()
    store = wiring.report_store()
    notifications = wiring.notification_store()
    recorder = Recorder()
    identity = ReporterIdentity("Siti Aminah", "siti@contoh.id", "+6281234567890")
    start = dt.datetime.now(dt.UTC)
    clock = FixedClock(start)
    events: dict[str, list[int]] = defaultdict(list)
    event_costs: dict[str, Cost] = defaultdict(Cost)
    kinds: dict[str, Cost] = defaultdict(Cost)

    def send(event: str, messages: list[Any]) -> None:
        from shared.pubsub_push import Pushed

        events[event].append(len(messages))
        ports = dataclasses.replace(wiring.notify_ports(), clock=clock)
        for message in messages:
            parsed = notification_message(Pushed(dict(message.data), {}))
            before = (store.stats.snapshot(), notifications.stats.snapshot())
            delivery = deliver(parsed, ports)
            used = [store.stats.since(before[0]), notifications.stats.since(before[1])]
            channels = "+".join(c.channel for c in delivery.channels) or delivery.status.value
            for cost in (kinds[f"{parsed.kind} ({channels})"], event_costs[event]):
                cost.count += 1
                cost.reads += sum(u.reads for u in used)
                cost.writes += sum(u.writes for u in used)
                cost.commits += sum(u.commits for u in used)

    def step(event: str, report_id: str, command: Command) -> None:
        change = act(report_id, command, store=store, clock=clock, settings=config)
        send(event, [m for m in change.outbox if m.topic in NOTIFICATION_TOPICS])

    admin = Actor(Role.AGENCY_ADMIN, "dinkes-cianjur")
    unit = Actor(Role.UNIT_OFFICER, "puskesmas-cipanas")
    citizen = Actor(Role.REPORTER, "reporter")
    router = Actor(Role.SYSTEM, "system:route")
    for n in range(STORIES):
        # A health complaint in Cianjur through its whole life (Dinkes, the unit: e-mail).
        filed = submit_report(
            a_draft(category="kesehatan", title=f"Puskesmas tutup {n}"),
            identity, client_id=f"bench-{n}", idempotency_key=None, store=store,
            publisher=recorder, clock=clock, settings=config,
        )  # fmt: skip
        send("submit", recorder.take())
        report = filed.report_id
        step("disposition", report, Command(Action.DISPOSITION, router, agency_id="dinkes-cianjur"))
        step("forward", report, Command(Action.FORWARD, admin, unit_id="puskesmas-cipanas"))
        step("follow_up", report, Command(Action.FOLLOW_UP, unit, message="Sudah dicek."))
        step("reporter_reply", report, Command(Action.REPORTER_REPLY, citizen, message="Belum."))
        step("resolve", report, Command(Action.RESOLVE, unit, message="Jadwal ditambah."))
        step("reopen", report, Command(Action.REOPEN, citizen, reason="Masih tutup."))
        step("resolve", report, Command(Action.RESOLVE, unit, message="Dokter ditambah."))
        step("confirm", report, Command(Action.CONFIRM, citizen))
        step("rate", report, Command(Action.RATE, citizen, rating=4))
        # A road report: DPUPR (webhook) says Bukan Wewenang, the regency (webhook) holds
        # it, the reporter answers, and it is archived.
        filed = submit_report(
            a_draft(title=f"Jalan rusak {n}"), identity, client_id=f"bench-road-{n}",
            idempotency_key=None, store=store, publisher=recorder, clock=clock, settings=config,
        )  # fmt: skip
        send("submit", recorder.take())
        road = filed.report_id
        step("disposition", road, Command(Action.DISPOSITION, router, agency_id="dpupr-cianjur"))
        dpupr = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
        step("not_our_authority", road, Command(Action.NOT_OUR_AUTHORITY, dpupr, reason="Bukan."))
        step("queue_for_admin", road, Command(Action.QUEUE_FOR_ADMIN, router, reason="Admin."))
        pemkab = Actor(Role.AGENCY_ADMIN, "pemkab-cianjur")
        step("hold", road, Command(Action.HOLD, pemkab, reason="Di mana?"))
        step("answer_hold", road, Command(Action.ANSWER_HOLD, citizen, message="Depan pasar."))
        step("archive", road, Command(Action.ARCHIVE, pemkab, reason="Duplikat."))

    # The daily run, working days later: escalation tiers and closing by itself.
    calendar = config.calendar()
    today = calendar.local_date(start)
    for n in range(STORIES):
        filed = submit_report(
            a_draft(category="kesehatan", title=f"Antrean lama {n}", type=ReportType.ASPIRATION),
            identity, client_id=f"bench-late-{n}", idempotency_key=None, store=store,
            publisher=recorder, clock=clock, settings=config,
        )  # fmt: skip
        send("submit", recorder.take())
        step("disposition", filed.report_id,
             Command(Action.DISPOSITION, router, agency_id="dinkes-cianjur"))  # fmt: skip
    escalation_ports = dataclasses.replace(wiring.escalate_ports(), publisher=recorder)
    escalate(calendar.add_working_days(today, 6), escalation_ports)
    messages = recorder.take()
    by_report: dict[str, list[Any]] = defaultdict(list)
    for message in messages:
        by_report[str(message.data.get("report_id"))].append(message)
    for report_messages in by_report.values():
        send("escalate (reminder + overdue, caught up)", report_messages)

    # The hourly digest: STORIES reports to Disdik (digest = "hourly"), then one run.
    for n in range(STORIES):
        filed = submit_report(
            a_draft(category="pendidikan", title=f"Atap sekolah bocor {n}"), identity,
            client_id=f"bench-school-{n}", idempotency_key=None, store=store,
            publisher=recorder, clock=clock, settings=config,
        )  # fmt: skip
        recorder.take()
        step("disposition (digest agency)", filed.report_id,
             Command(Action.DISPOSITION, router, agency_id="disdik-cianjur"))  # fmt: skip
    before = (store.stats.snapshot(), notifications.stats.snapshot())
    started = time.perf_counter()
    digest_run = run_digests(digest_hour(start, config.timezone), wiring.digest_ports())
    elapsed = time.perf_counter() - started
    used = [store.stats.since(before[0]), notifications.stats.since(before[1])]
    digest = {
        "agencies_with_a_digest": sum(
            1 for a in wiring.reference().agencies if a.notification.digest
        ),
        "items": digest_run.items,
        "emails_sent": digest_run.sent,
        "document_reads": sum(u.reads for u in used),
        "document_writes": sum(u.writes for u in used),
        "commits": sum(u.commits for u in used),
        "run_s": round(elapsed, 3),
    }
    per_event = {
        event: {
            "events": len(counts),
            "notifications": round(sum(counts) / len(counts), 2),
            "firestore_per_notification": event_costs[event].per(event_costs[event].count),
        }
        for event, counts in events.items()
    }
    per_kind = {
        kind: {"notifications": cost.count, **cost.per(cost.count)}
        for kind, cost in sorted(kinds.items())
    }
    return per_event, per_kind, digest


# --- 2. 1,000 e-mails --------------------------------------------------------------------


def _emails(mail: Any) -> dict[str, Any]:
    from shared import wiring
    from shared.config import settings
    from shared.domain.privacy import ReporterIdentity
    from shared.usecases.notify import deliver, notification_message
    from shared.usecases.submit import submit_report
    from tests.builders import a_draft

    config = settings()
    store = wiring.report_store()
    recorder = Recorder()
    already = len(mail.messages())
    pending: list[Any] = []
    for n in range(EMAILS):
        identity = ReporterIdentity(f"Warga {n}", f"warga{n}@contoh.id", None)
        submit_report(
            a_draft(category="kesehatan", title=f"Laporan {n}"), identity,
            client_id=f"bench-mail-{n}", idempotency_key=None, store=store, publisher=recorder,
            clock=wiring.clock(), settings=config,
        )  # fmt: skip
        pending += [m for m in recorder.take() if m.data.get("kind") == "report.accepted"]
    assert len(pending) == EMAILS, len(pending)
    from shared.pubsub_push import Pushed

    parsed = [notification_message(Pushed(dict(m.data), {})) for m in pending]
    ports = wiring.notify_ports()
    samples: list[float] = []

    def one(message: Any) -> None:
        started = time.perf_counter()
        deliver(message, ports)
        samples.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, parsed))
    accepted = _wait(lambda: len(mail.messages()) - already >= EMAILS, 120)
    all_accepted_s = time.perf_counter() - started
    got = len(mail.messages()) - already
    return {
        "emails": EMAILS,
        "workers": WORKERS,
        "accepted_by_the_server": got,
        "all_accepted": accepted,
        "all_accepted_s": round(all_accepted_s, 2),
        "per_second": round(got / all_accepted_s, 1),
        "delivery": percentiles(samples),
        "smtp": "one conversation per message: EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA",
    }


def _wait(done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return done()


def _print_figures(figures: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    for event, seen in figures["notifications_per_event"].items():
        cost = seen["firestore_per_notification"]
        rows.append(
            (
                event,
                f"{seen['notifications']:g}",
                f"{counted(cost['document_reads'], 'read')},"
                f" {counted(cost['document_writes'], 'write')}"
                if seen["notifications"]
                else "-",
            )
        )
    digest = figures["digest"]
    rows.append(
        (
            f"hourly digest run, {digest['items']} items of 1 agency",
            f"{digest['emails_sent']} e-mail",
            f"{counted(digest['document_reads'], 'read')},"
            f" {counted(digest['document_writes'], 'write')} in"
            f" {counted(digest['commits'], 'commit')}",
        )
    )
    emails = figures["emails"]
    rows.append(
        (
            f"{emails['emails']:,} e-mails over SMTP, {emails['workers']} workers",
            f"all accepted in {emails['all_accepted_s']:.1f} s ({emails['per_second']:g}/s)",
            f"one: p50 {ms(emails['delivery']['p50_ms'])}, p95 {ms(emails['delivery']['p95_ms'])}",
        )
    )
    print_table("notify", ("event", "notifications", "Firestore per notification"), rows)
