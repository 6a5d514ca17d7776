"""Route benchmark: 1,000 ``report.submitted`` messages through the real push path.

On fresh emulators: 1,000 reports are accepted through the submit use case (their
``report.submitted`` outbox messages held back), then published together with the
real PubSubPublisher to ``report-submitted``, whose ``route`` subscription pushes to
the route function running as a functions-framework server (a subprocess on
127.0.0.1). Measured from the first publish: until all 1,000 reports are
dispositioned (polled with a count aggregation), until 1,000 distinct notifications
are on ``agency-notifications`` (a pull subscription of the benchmark's own), and,
when the notify function exists with its subscription in the topology, until a local
webhook receiver has 1,000 distinct ``webhook-id``s.

Firestore cost per routed report is measured in-process afterwards: 200 more reports
routed by calling the same use case (``route_report``) with the same store and
publisher the function uses, counting the store's StoreStats. The function's
server adds only the HTTP and CloudEvent decoding, which touches no Firestore.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import (
    LOGS,
    announce,
    counted,
    emulated_environment,
    logs_to_file,
    ms,
    percentiles,
    print_table,
    write_results,
)
from tools.stack import LOCALHOST, REPO_ROOT, ManagedProcess, ensure_pubsub, free_port

REPORTS = 1000
COST_REPORTS = 200
TIMEOUT_S = 900
# Once every notification is on the topic, how long the webhooks may stall (no new
# delivery) before the wait ends: a notify that fails every message is reported, not
# waited on for the whole timeout.
WEBHOOK_STALL_S = 15
BENCH_SUB = "bench-agency-notifications"


class HoldingPublisher:
    """Keeps what submit would publish, to publish it all at once later."""

    def __init__(self) -> None:
        self.held: list[Any] = []

    def publish(self, message: Any) -> None:
        self.held.append(message)


class WebhookReceiver:
    """A local agency endpoint: answers 200 and remembers each distinct webhook-id."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.posts = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with lock:
                    outer.posts += 1
                    outer.ids.add(self.headers.get("webhook-id") or "")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self.url = f"http://{LOCALHOST}:{self.server.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _draft(i: int) -> Any:
    from shared.domain.report import Region, ReportType
    from tests.builders import a_draft

    # A realistic mix: mostly rules, some named agencies, some left to the classifier.
    if i % 10 < 7:
        return a_draft(category="infrastruktur.jalan", region=Region("32", "32.03"))
    if i % 10 < 9:
        return a_draft(
            type=ReportType.ASPIRATION,
            title="Usul",
            description="Mohon jadwal imunisasi diumumkan.",
            category="kesehatan",
            region=Region("32", "32.03"),
            target_agency_id="dinkes-cianjur",
            confidential=True,
        )
    return a_draft(
        title="Puskesmas tanpa dokter",
        description="Di puskesmas tidak ada dokter, obat habis, bidan juga tidak ada.",
        category="kesehatan",
        region=Region("32", "32.04"),
        anonymous=True,
    )


def _submit_held(count: int, offset: int) -> list[Any]:
    """``count`` reports accepted, and their ``report.submitted`` messages held back (what
    a submission tells the reporter is not routing's: left out)."""
    from shared import wiring
    from shared.config import settings
    from shared.domain.privacy import ReporterIdentity
    from shared.usecases.submit import submit_report

    held = HoldingPublisher()
    for i in range(offset, offset + count):
        submit_report(
            _draft(i),
            ReporterIdentity("Siti", None, "0812"),
            client_id=f"bench-{i}",
            idempotency_key=None,
            store=wiring.report_store(),
            publisher=held,
            clock=wiring.clock(),
            settings=settings(),
        )
    return [m for m in held.held if m.topic == settings().topic_report_submitted]


def _dispositioned(db: Any) -> int:
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = db.collection("reports").where(filter=FieldFilter("state", "==", "dispositioned"))
    return int(query.count().get()[0][0].value)


def _pull_ids(subscriber: Any, path: str, seen: dict[str, str]) -> None:
    """Acknowledge what the subscription holds; note each notification's agency by id."""
    from google.api_core import exceptions

    try:
        response = subscriber.pull(request={"subscription": path, "max_messages": 500}, timeout=2)
    except exceptions.DeadlineExceeded:
        return
    if response.received_messages:
        subscriber.acknowledge(
            request={
                "subscription": path,
                "ack_ids": [m.ack_id for m in response.received_messages],
            }
        )
        seen.update(
            (m.message.attributes.get("ce-id", ""), json.loads(m.message.data)["agency_id"])
            for m in response.received_messages
        )


def _server(name: str, port: int, log: Path) -> ManagedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    return ManagedProcess(
        name,
        [
            sys.executable,
            "-m",
            "functions_framework",
            f"--target={name}",
            f"--source={REPO_ROOT / 'functions' / name / 'main.py'}",
            f"--host={LOCALHOST}",
            f"--port={port}",
        ],
        log,
        env=env,
        cwd=REPO_ROOT,
    )


def run() -> dict[str, Any]:
    from google.cloud import firestore
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

    from shared import topology, wiring
    from shared.usecases.route import SubmittedMessage, route_report
    from tools.stack import wait_until_answering

    notify_available = (REPO_ROOT / "functions" / "notify" / "main.py").is_file() and any(
        s.push_function == "notify" for s in topology.SUBSCRIPTIONS
    )
    figures: dict[str, Any] = {"reports": REPORTS}
    announce("route", f"{REPORTS:,} report.submitted messages pushed to the route function")
    server_logs = {name: LOGS / f"route.{name}-server.log" for name in ("route", "notify")}
    for stale in server_logs.values():
        stale.unlink(missing_ok=True)  # the servers append: keep this run's lines only
    with (
        logs_to_file("route"),
        emulated_environment({"LAPOR_RATE_LIMIT_SUBMITS": "1000000"}) as emu,
        WebhookReceiver() as receiver,
    ):
        if notify_available:
            from tools.seed import seed_emulator

            seed_emulator(emu.firestore_host, emu.project, demo_webhook_url=receiver.url)
        db = firestore.Client(project=emu.project)
        # Agencies with an e-mail address are told by e-mail: only the others by webhook.
        by_webhook = {
            doc.id
            for doc in db.collection("agencies").stream()
            if ((doc.to_dict() or {}).get("notification") or {}).get("webhook_url")
        }
        publisher_client, subscriber = PublisherClient(), SubscriberClient()
        bench_sub = subscriber.subscription_path(emu.project, BENCH_SUB)
        subscriber.create_subscription(
            name=bench_sub,
            topic=publisher_client.topic_path(emu.project, topology.AGENCY_NOTIFICATIONS),
            ack_deadline_seconds=60,
        )
        servers: dict[str, ManagedProcess] = {}
        urls: dict[str, str] = {}
        try:
            for name in ("route", "notify") if notify_available else ("route",):
                port = free_port()
                servers[name] = _server(name, port, server_logs[name])
                urls[name] = f"http://{LOCALHOST}:{port}"
            for name, process in servers.items():
                wait_until_answering(urls[name] + "/", process, any_status=True)
            ensure_pubsub(emu.pubsub_host, emu.project, endpoints=urls)

            started = time.perf_counter()
            messages = _submit_held(REPORTS, 0)
            figures["submit_s"] = round(time.perf_counter() - started, 2)

            bus = wiring.publisher()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=32) as pool:
                list(pool.map(bus.publish, messages))
            figures["publish_burst_s"] = round(time.perf_counter() - t0, 3)

            notified: dict[str, str] = {}  # notification id -> agency
            done_at: dict[str, float] = {}
            progress = (0, time.perf_counter())  # webhooks delivered, and since when
            while time.perf_counter() - t0 < TIMEOUT_S:
                if "dispositioned" not in done_at and _dispositioned(db) >= REPORTS:
                    done_at["dispositioned"] = time.perf_counter() - t0
                if "notified" not in done_at:
                    _pull_ids(subscriber, bench_sub, notified)
                    if len(notified) >= REPORTS:
                        done_at["notified"] = time.perf_counter() - t0
                delivered = len(receiver.ids - {""})
                expected = sum(agency in by_webhook for agency in notified.values())
                if (
                    notify_available
                    and "notified" in done_at
                    and "webhooks" not in done_at
                    and delivered >= expected
                ):
                    done_at["webhooks"] = time.perf_counter() - t0
                if delivered != progress[0]:
                    progress = (delivered, time.perf_counter())
                elif "notified" in done_at and time.perf_counter() - progress[1] > WEBHOOK_STALL_S:
                    figures["webhooks_stalled"] = f"no delivery for {WEBHOOK_STALL_S} s"
                    break
                wanted = {"dispositioned", "notified"} | (
                    {"webhooks"} if notify_available else set()
                )
                if wanted <= set(done_at):
                    break
                time.sleep(0.2)
            figures["all_dispositioned_s"] = round(done_at.get("dispositioned", -1), 2)
            figures["all_notifications_published_s"] = round(done_at.get("notified", -1), 2)
            figures["dispositioned"] = _dispositioned(db)
            figures["distinct_notifications_on_topic"] = len(notified)
            if done_at.get("dispositioned"):
                figures["reports_per_s"] = round(REPORTS / done_at["dispositioned"], 1)
            if notify_available:
                figures["all_webhooks_delivered_s"] = round(done_at.get("webhooks", -1), 2)
                figures["webhooks_distinct_delivered"] = len(receiver.ids - {""})
                figures["webhooks_expected"] = expected
                figures["webhook_posts"] = receiver.posts
                figures["notification_side"] = (
                    "functions/notify ran as a server, pushed by its topology subscription; "
                    "a local HTTP receiver counted distinct webhook-id headers"
                )
            else:
                figures["notification_side"] = (
                    "functions/notify or its subscription was not there: notifications "
                    "counted as distinct ce-id on a pull subscription of agency-notifications"
                )
        finally:
            for process in servers.values():
                process.stop()
            subscriber.close()
            publisher_client.stop()

        # Firestore cost per routed report, in-process through the same use case.
        cost_messages = _submit_held(COST_REPORTS, REPORTS)
        store = wiring.report_store()
        before = store.stats.snapshot()
        samples_ms: list[float] = []
        for message in cost_messages:
            report_id = str(message.data["report_id"])
            one = time.perf_counter()
            route_report(SubmittedMessage(report_id, message.id, 1), wiring.route_ports())
            samples_ms.append((time.perf_counter() - one) * 1000)
        cost = store.stats.since(before)
        db.close()
    figures["firestore_per_routed_report"] = {
        "document_reads": cost.reads / COST_REPORTS,
        "document_writes": cost.writes / COST_REPORTS,
        "document_deletes": cost.deletes / COST_REPORTS,
        "commits": cost.commits / COST_REPORTS,
        "reports": COST_REPORTS,
        "method": (
            "in-process: route_report() with the function's own store and publisher "
            "(shared.wiring), StoreStats counted as Firestore bills them; reads: the "
            "report in the transaction, where routing decides; writes: report, event, the "
            "agency's notification outbox entry (notify settles it), the settled submit "
            "entry (a delete), the rule's running total (rule dispositions), the figures' "
            "counter document; document_deletes counts the deletes among the writes"
        ),
    }
    # One at a time, no HTTP: what a single route call costs on these emulators.
    figures["in_process_route_one_at_a_time"] = percentiles(samples_ms)
    figures["mix"] = "70% rule (Cianjur roads), 20% named agency, 10% keyword classifier"
    figures["method"] = (
        "reports accepted through submit_report with the publish held back, then all "
        "1,000 report.submitted messages published at once (32 threads) with the real "
        "PubSubPublisher; times from the first publish; route ran as one "
        "functions-framework server pushed by the emulator's push subscription"
    )
    write_results("route", figures)
    _print_figures(figures)
    return figures


def _print_figures(figures: dict[str, Any]) -> None:
    cost, one = figures["firestore_per_routed_report"], figures["in_process_route_one_at_a_time"]
    rows = [
        (
            f"{REPORTS:,} reports accepted, publish held / then published",
            f"{figures['submit_s']:.1f} s / {figures['publish_burst_s']:.2f} s",
        ),
        (
            f"all {REPORTS:,} dispositioned, after the first publish",
            f"{figures['all_dispositioned_s']:.1f} s ({figures.get('reports_per_s', 0):g}/s)",
        ),
        (
            "all notifications on agency-notifications",
            f"{figures['all_notifications_published_s']:.1f} s"
            f" ({figures['distinct_notifications_on_topic']:,} distinct)",
        ),
    ]
    if "all_webhooks_delivered_s" in figures:
        rows.append(
            (
                "all webhooks delivered (the rest are told by e-mail)",
                f"{figures['all_webhooks_delivered_s']:.1f} s"
                f" ({figures['webhooks_distinct_delivered']:,} distinct of"
                f" {figures['webhooks_expected']:,}, {figures['webhook_posts']:,} posts)"
                + (
                    f"; stopped: {figures['webhooks_stalled']}"
                    if "webhooks_stalled" in figures
                    else ""
                ),
            )
        )
    rows += [
        (
            "Firestore per routed report",
            f"{counted(cost['document_reads'], 'read')},"
            f" {counted(cost['document_writes'], 'write')},"
            f" {counted(cost['commits'], 'commit')}",
        ),
        ("one route call in-process, p50 / p95", f"{ms(one['p50_ms'])} / {ms(one['p95_ms'])}"),
    ]
    print_table("route", ("figure", "measured"), rows)
