"""Faults on the way from a commit to the recipient, on the real emulators (issue 11, item 3).

The Pub/Sub emulator pushes to the route and notify functions, served over real HTTP
from threads of this process (tests.functional.support.served), so a test can hold
the clock and the publisher they use while Pub/Sub itself retries, redelivers and
dead-letters as it does in production (with backoffs of a second). Agencies are told
by a real webhook receiver that verifies every signature; reporters by e-mail through
the real SMTP sink (STARTTLS, AUTH).

- A publish that fails after the commit: the outbox keeps the message, the sweeper
  sends it again, and the report is routed and everyone told once.
- A function that dies after its commit, before Pub/Sub has its answer (and an
  escalation run that Cloud Scheduler runs again): the redelivery records no second
  disposition or escalation and sends no second notification.
- A receiver down for an hour of the system's clock (an hour passes in seconds: each
  refused attempt moves the clock on by the wait production's backoff puts before the
  next), the outbox sweeper running all along: the notification arrives once when it
  is back, before Pub/Sub gives up, and the sweeper sends no copy of its own.
What never recovers is dead-lettered and shown to admins: tests/functional/test_dead_lettering.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from google.cloud import firestore

from shared import topology, wiring
from shared.config import settings
from shared.domain.report import Action
from shared.ports import Delivery, DeliveryStatus, FixedClock, OutboxMessage, PublishFailed
from shared.usecases.submit import submit_report
from shared.usecases.sweep import sweep_outbox
from tests.builders import a_draft, an_identity
from tests.functional.support import WSGIApp, served, wait_for
from tests.functional.test_dead_lettering import fast_retries
from tools.mail_sink import MailSink
from tools.stack import Emulators, ensure_pubsub
from tools.webhook_receiver import Received, WebhookReceiver, firestore_secrets

AGENCY = "dpupr-cianjur"  # where a road complaint in Cianjur is routed
REPORTER_EMAIL = "siti@example.id"
OUTAGE = dt.timedelta(hours=1)
# Production's agency and reporter notification subscriptions (the same policy).
NOTIFY = next(s for s in topology.SUBSCRIPTIONS if s.name == "notify")


# --- the parts a fault is put into ------------------------------------------------------


class Bus:
    """The real publisher behind a switch: a topic switched off fails the way an
    unreachable Pub/Sub does (PublishFailed), after the caller's commit."""

    def __init__(self, real: Callable[[], Any]) -> None:
        self._real = real  # wiring's own: it makes the client again after a reset
        self.down: set[str] = set()
        self.down_once: set[str] = set()
        self.refused: list[str] = []

    def publish(self, message: OutboxMessage) -> None:
        if message.topic in self.down or message.topic in self.down_once:
            self.down_once.discard(message.topic)
            self.refused.append(message.id)
            raise PublishFailed("Pub/Sub unreachable (the test switched it off)")
        self._real().publish(message)


class DiesAfterCommit:
    """A WSGI layer that lets the function run to its end (its commit, its sends), then
    answers 500 the first time it sees a Pub/Sub message, as if the instance died
    before acknowledging: Pub/Sub delivers that message again."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self.seen: Counter[str] = Counter()  # by the message's outbox id (ce-id)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        message = json.loads(body)["message"]
        key = message.get("attributes", {}).get("ce-id") or message["messageId"]
        with self._lock:
            self.seen[key] += 1
            first = self.seen[key] == 1
        if not first:
            return self._app(environ, start_response)
        answered = self._app(environ, lambda *args: lambda data: None)
        try:
            for _ in answered:
                pass
        finally:
            getattr(answered, "close", lambda: None)()
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
        return [b"died after its commit"]


@dataclass
class Outage:
    """A receiver down until ``back_at`` on ``clock``. Each attempt it refuses moves the
    clock on by the wait production's backoff puts before the next attempt, so the
    attempts span the outage on the system's clock in a few seconds of the test's."""

    clock: FixedClock
    back_at: dt.datetime
    delays_s: list[int] = field(default_factory=lambda: topology.retry_delays_s(NOTIFY))
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuses(self) -> bool:
        with self._lock:
            if self.clock.now() >= self.back_at:
                return False
            wait = self.delays_s[min(self.refused, len(self.delays_s) - 1)]
            self.clock.advance(dt.timedelta(seconds=wait))
            self.refused += 1
            return True


@dataclass
class Line:
    """The delivery line under test and what reached each recipient."""

    db: firestore.Client
    clock: FixedClock
    bus: Bus
    hooks: WebhookReceiver
    mail: MailSink
    emulators: Emulators
    accepted_hooks: list[Received] = field(default_factory=list)
    hooks_down: Callable[[], bool] = lambda: False
    relay_down: Callable[[str], bool] = lambda to: False

    def answer(self, received: Received) -> tuple[int, float]:
        if self.hooks_down():
            return 503, 0.0
        self.accepted_hooks.append(received)
        return 204, 0.0

    def refuse(self, to: str) -> str | None:
        return "421 4.3.2 relay down for maintenance" if self.relay_down(to) else None

    def push_to(self, route: str, notify: str, **retries: Any) -> None:
        """Pub/Sub pushes to these URLs, production's policy with one-second backoffs."""
        policy = fast_retries(min_backoff_s=1, max_backoff_s=1, **retries)
        endpoints = {"route": route, "notify": notify}
        ensure_pubsub(self.emulators.pubsub_host, self.emulators.project, policy, endpoints)

    def submit(self) -> str:
        """A road complaint in Cianjur from a reporter who left an e-mail address."""
        accepted = submit_report(
            a_draft(),
            an_identity(phone=None),
            client_id="faults-test",
            idempotency_key=None,
            store=wiring.report_store(),
            publisher=wiring.publisher(),
            clock=wiring.clock(),
            settings=settings(),
        )
        return accepted.report_id

    def deliveries(self, report_id: str) -> dict[str, Delivery]:
        found = wiring.notification_store().deliveries(report_id)
        return {d.recipient or "": d for d in found}

    def settled(self, report_id: str) -> dict[str, Delivery]:
        """The report's deliveries once both the agency and the reporter are told."""

        def done(found: dict[str, Delivery]) -> bool:
            return all(
                found.get(who) is not None and found[who].status is DeliveryStatus.DELIVERED
                for who in ("agency", "reporter")
            )

        return wait_for(lambda: self.deliveries(report_id), done, timeout_s=90)

    def to_reporter(self) -> list[Any]:
        return [m for m in self.mail.messages() if m.to == REPORTER_EMAIL]

    def dispositions(self, report_id: str) -> int:
        timeline = wiring.report_store().timeline(report_id)
        return sum(1 for event in timeline if event.action is Action.DISPOSITION)

    def outbox(self) -> list[str]:
        return [doc.id for doc in self.db.collection("outbox").stream()]

    @contextmanager
    def sweeping(self) -> Iterator[list[int]]:
        """The outbox sweeper running all along (every 0.2 s here, on the test's clock:
        five minutes in production); yields what each run republished."""
        republished: list[int] = []
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(0.2):
                republished.append(sweep_outbox(wiring.sweep_ports()).republished)

        sweeper = threading.Thread(target=run, name="sweeper", daemon=True)
        sweeper.start()
        try:
            yield republished
        finally:
            stop.set()
            sweeper.join(timeout=10)


@pytest.fixture
def line(
    seeded_emulators: Emulators,
    db: firestore.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Line]:
    secret = str(firestore_secrets(db.project)(AGENCY))
    clock = FixedClock(dt.datetime.now(dt.UTC))
    bus = Bus(wiring.publisher)
    with MailSink(tmp_path / "mail") as mail, WebhookReceiver({AGENCY: secret}) as hooks:
        made = Line(db, clock, bus, hooks, mail, seeded_emulators)
        hooks.respond = made.answer
        mail.refuse = made.refuse
        db.collection("agencies").document(AGENCY).set(
            {"notification": {"webhook_url": hooks.hook_url(AGENCY)}}, merge=True
        )
        for name, value in {
            "LAPOR_SMTP_HOST": "127.0.0.1",
            "LAPOR_SMTP_PORT": str(mail.smtp_port),
            "LAPOR_SMTP_USERNAME": mail.username,
            "LAPOR_SMTP_PASSWORD": mail.password,
            "LAPOR_SMTP_STARTTLS": "true",
            "LAPOR_SMTP_CA_FILE": str(mail.ca_file),
            "LAPOR_MAIL_FROM": "Lapor <noreply@lapor.test>",
            "LAPOR_PUBLIC_BASE_URL": "https://lapor.test",
            "LAPOR_AGENCY_URL": "https://agency.lapor.test",
        }.items():
            monkeypatch.setenv(name, value)
        # Every function served here reads this clock and publishes through this bus.
        monkeypatch.setattr(wiring, "clock", lambda: clock)
        monkeypatch.setattr(wiring, "publisher", lambda: bus)
        wiring.reset()
        yield made
    wiring.reset()


def ids(received: Iterable[Received]) -> Counter[str | None]:
    return Counter(hook.webhook_id for hook in received)


# --- the faults -------------------------------------------------------------------------


def test_publishes_lost_after_their_commits_are_swept_and_the_report_routed_and_told_once(
    line: Line,
) -> None:
    sweep = functions_framework.create_app(target="sweep", source="functions/sweep/main.py")
    with served("route") as route, served("notify") as notify:
        line.push_to(route, notify)
        line.bus.down = {topology.REPORT_SUBMITTED, topology.REPORTER_NOTIFICATIONS}
        report_id = line.submit()  # committed; both its publishes fail
        assert line.bus.refused == [f"{report_id}.1"]  # the rest is not even tried
        assert sorted(line.outbox()) == [f"{report_id}.1", f"{report_id}.1.reporter"]
        line.bus.down = set()
        # And route's own publish, after it commits the disposition, fails once.
        line.bus.down_once = {topology.AGENCY_NOTIFICATIONS}

        line.clock.advance(dt.timedelta(seconds=settings().outbox_sweep_age_s + 1))
        swept = sweep.test_client().post("/")
        assert swept.get_json() == {"republished": 2, "failed": 0, "settled": 0}
        told = line.settled(report_id)

    assert f"{report_id}.2.{AGENCY}" in line.bus.refused  # the second fault did happen
    assert line.dispositions(report_id) == 1
    assert told["agency"].notification_id == f"{report_id}.2.{AGENCY}"
    assert ids(line.accepted_hooks) == {f"{report_id}.2.{AGENCY}": 1}
    assert len(line.to_reporter()) == 1
    assert line.outbox() == []  # every message settled by its consumer


def test_a_function_that_dies_after_its_commit_sends_nothing_twice_when_redelivered(
    line: Line,
) -> None:
    layers: dict[str, DiesAfterCommit] = {}

    def dying(name: str) -> Callable[[WSGIApp], WSGIApp]:
        def wrap(app: WSGIApp) -> WSGIApp:
            layers[name] = DiesAfterCommit(app)
            return layers[name]

        return wrap

    with served("route", dying("route")) as route, served("notify", dying("notify")) as notify:
        line.push_to(route, notify)
        report_id = line.submit()
        told = line.settled(report_id)
        agency_id, reporter_id = told["agency"].notification_id, told["reporter"].notification_id
        # Each message came back after the 500 and was answered again (acknowledged).
        wait_for(
            lambda: dict(layers["notify"].seen),
            lambda seen: seen.get(agency_id, 0) >= 2 and seen.get(reporter_id, 0) >= 2,
            timeout_s=30,
        )

    assert layers["route"].seen[f"{report_id}.1"] >= 2
    assert line.dispositions(report_id) == 1
    assert ids(line.hooks.snapshot()) == {agency_id: 1}  # one POST, not one per delivery
    assert len(line.to_reporter()) == 1
    assert [c.attempts for c in told["agency"].channels] == [1]  # the webhook, once
    assert [c.attempts for c in told["reporter"].channels] == [1]  # the e-mail, once
    assert line.outbox() == []


@pytest.mark.parametrize("down", ["webhook", "relay"])
def test_a_receiver_down_for_an_hour_gets_the_notification_once_when_it_is_back(
    line: Line, down: str
) -> None:
    # The report was made an hour ago; the clock reaches now as the outage ends, so the
    # webhook that finally goes through is signed with a time its verifier accepts.
    start = dt.datetime.now(dt.UTC) - OUTAGE - dt.timedelta(minutes=1)
    line.clock.current = start
    outage = Outage(line.clock, back_at=start + OUTAGE)
    if down == "webhook":
        line.hooks_down = outage.refuses
    else:
        line.relay_down = lambda to: to == REPORTER_EMAIL and outage.refuses()

    with served("route") as route, served("notify") as notify, line.sweeping() as swept:
        line.push_to(route, notify)  # production's 25 attempts, a second apart
        report_id = line.submit()
        told = line.settled(report_id)

    who, channel = ("agency", "webhook") if down == "webhook" else ("reporter", "email")
    tried = told[who].channel(channel)
    assert tried is not None and tried.first_attempt_at and tried.last_attempt_at
    assert outage.refused >= 10  # down through production's doubling waits and beyond
    assert tried.attempts == outage.refused + 1 <= NOTIFY.max_delivery_attempts
    assert tried.last_attempt_at - tried.first_attempt_at >= OUTAGE
    assert tried.delivered_at == tried.last_attempt_at
    agency_id = told["agency"].notification_id
    assert ids(line.accepted_hooks) == {agency_id: 1}
    if down == "webhook":  # (the relay's case signs its webhook an hour ago: too old)
        assert all(hook.verified for hook in line.accepted_hooks)
    assert set(ids(line.hooks.snapshot())) == {agency_id}  # every attempt the same id
    assert len(line.to_reporter()) == 1
    assert line.outbox() == []
    # Pub/Sub had it from the first attempt: the sweeper sent no copy of its own.
    assert len(swept) > 5 and sum(swept) == 0


def test_an_escalation_run_retried_after_its_commit_tells_each_agency_once(line: Line) -> None:
    # Cloud Scheduler runs the job again when the first run's answer is lost (the
    # instance died after its commits); notify dies after each first delivery too.
    layers: dict[str, DiesAfterCommit] = {}

    def dying(app: WSGIApp) -> WSGIApp:
        layers["notify"] = DiesAfterCommit(app)
        return layers["notify"]

    escalate = functions_framework.create_app(
        target="escalate", source="functions/escalate/main.py"
    ).test_client()
    long_overdue = (line.clock.now() + dt.timedelta(days=90)).date().isoformat()
    with served("route") as route, served("notify", dying) as notify:
        line.push_to(route, notify)
        report_id = line.submit()
        line.settled(report_id)
        first = escalate.post(f"/?date={long_overdue}").get_json()
        again = escalate.post(f"/?date={long_overdue}").get_json()

        def escalations() -> list[Delivery]:
            found = wiring.notification_store().deliveries(report_id)
            return [d for d in found if d.kind == "report.escalated"]

        told = wait_for(
            escalations,
            lambda found: (
                len(found) == first["notifications"]
                and all(d.status is not DeliveryStatus.RETRYING for d in found)
                and all(layers["notify"].seen[d.notification_id] >= 2 for d in found)
            ),
            timeout_s=60,
        )

    assert set(first["escalated"]) == {"reminder", "overdue", "national", "ombudsman"}
    assert again["escalated"] == {} and again["notifications"] == 0
    timeline = wiring.report_store().timeline(report_id)
    fired = [e.data["tier"] for e in timeline if e.action is Action.ESCALATE]
    assert sorted(fired) == sorted(first["escalated"])  # each tier once
    assert len(told) == first["notifications"]
    assert all(layers["notify"].seen[d.notification_id] >= 2 for d in told)  # redelivered
    to_agency = {d.notification_id for d in told if d.agency_id == AGENCY}
    assert to_agency  # the handling agency is told by its webhook
    hooks = ids(line.hooks.snapshot())
    assert all(hooks[notification] == 1 for notification in to_agency)
    assert set(hooks.values()) == {1}  # no webhook twice, whatever was redelivered
    # The rest by e-mail, or noted as having no channel: nothing failed on the way.
    assert {d.status for d in told} <= {DeliveryStatus.DELIVERED, DeliveryStatus.NO_CHANNEL}
