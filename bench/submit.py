"""Submit benchmark: Firestore cost per report, latency against the raw minimum, import time.

The raw minimum is what no implementation can beat on the same emulators: one commit
of the same documents (the report, its event, the identity, the claims, the outbox
entries, the received counter) plus the same publishes (``report.submitted`` and the
reporter's notification), through the same adapters, in the same run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import (
    announce,
    emulated_environment,
    import_time_ms,
    logs_to_file,
    ms,
    percentiles,
    print_table,
    sample_draft,
    write_results,
)

SUBMITS = 500
WARMUP = 20
SUBMIT_PATH = "/api/v1/reports"


def _example_body(client: Any) -> dict[str, Any]:
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"][SUBMIT_PATH]["post"]
    body: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["example"]
    return body


def _submit_through_the_function(client: Any, body: dict[str, Any], i: int) -> float:
    # Each from its own address, as citizens are; the rate limit stays at its default.
    client_address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Forwarded-For": client_address}
    started = time.perf_counter()
    response = client.post(SUBMIT_PATH, json=body, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 201:
        raise RuntimeError(f"submit answered {response.status_code}: {response.get_data()!r}")
    return elapsed


def _raw_minimum() -> Callable[[], float]:
    """One commit of the same documents plus the same publishes; only those are timed."""
    from shared import wiring
    from shared.config import settings
    from shared.domain import report as lifecycle
    from shared.domain.privacy import ReporterIdentity
    from shared.domain.tracking import new_tracking_code
    from shared.ports import IdempotencyRecord, NewSubmission, RateSlot
    from shared.usecases.counters import event_tallies
    from shared.usecases.notices import notices_for
    from shared.usecases.submit import submitted_event

    store, publisher, config = wiring.report_store(), wiring.publisher(), settings()
    draft = sample_draft()
    identity = ReporterIdentity("Siti Aminah", "siti@example.id", "+6281234567890")

    def once() -> float:
        now = wiring.clock().now()
        report, event = lifecycle.submit(
            draft,
            store.new_report_id(),
            new_tracking_code(),
            now,
            config.calendar(),
            config.deadline_policy(),
        )
        outbox = submitted_event(report, f"{report.id}.1", now, config.topic_report_submitted)
        calendar, policy = config.calendar(), config.deadline_policy()
        submission = NewSubmission(
            report,
            event,
            identity,
            outbox,
            RateSlot(uuid.uuid4().hex, 0, now),
            IdempotencyRecord(uuid.uuid4().hex, "f", report.id, report.tracking_code, now),
            tallies=event_tallies(
                None, report, event, calendar, policy, figure_shards=config.figure_shards
            ),
            notifications=notices_for(None, report, event, settings=config),
        )
        started = time.perf_counter()
        store.create_submission(submission)
        for message in (outbox, *submission.notifications):
            publisher.publish(message)
        return (time.perf_counter() - started) * 1000

    return once


def run() -> dict[str, Any]:
    import functions_framework

    from shared import wiring

    announce("submit", f"{SUBMITS} submissions through the function and the raw minimum")
    with logs_to_file("submit"), emulated_environment({"LAPOR_TRUSTED_PROXY_HOPS": "1"}):
        app = functions_framework.create_app(target="submit", source="functions/submit/main.py")
        client = app.test_client()
        body = _example_body(client)
        raw_once = _raw_minimum()
        stats = wiring.report_store().stats
        function_ms: list[float] = []
        raw_ms: list[float] = []
        commits = writes = reads = 0
        # Interleaved, so the database's growth and the machine's load weigh on both.
        for i in range(WARMUP + SUBMITS):
            before = stats.snapshot()
            through = _submit_through_the_function(client, body, i)
            cost = stats.since(before)
            minimum = raw_once()
            if i >= WARMUP:
                function_ms.append(through)
                raw_ms.append(minimum)
                commits, writes, reads = (
                    commits + cost.commits,
                    writes + cost.writes,
                    reads + cost.reads,
                )

    function, raw = percentiles(function_ms), percentiles(raw_ms)
    libraries = import_time_ms("import functions_framework, google.cloud.firestore")
    submit_main = import_time_ms(
        "import importlib.util as u; s = u.spec_from_file_location('main', "
        "'functions/submit/main.py'); m = u.module_from_spec(s); s.loader.exec_module(m)"
    )
    figures = {
        "submits": SUBMITS,
        "method": (
            "sequential POST /api/v1/reports through functions-framework's test client "
            "(in-process, no socket), each from its own client address, interleaved with "
            "the raw minimum: the same documents in one commit plus the same publishes "
            "(report.submitted, the reporter's notification) via the same adapters"
        ),
        "firestore_per_submit": {
            "commits": commits / SUBMITS,
            "document_writes": writes / SUBMITS,
            "document_reads": reads / SUBMITS,
        },
        "through_function": function,
        "raw_minimum_commit_plus_publish": raw,
        "p50_ratio_function_over_raw": round(function["p50_ms"] / raw["p50_ms"], 3),
        "import_ms": {
            "functions_framework_plus_firestore": libraries,
            "functions_submit_main": submit_main,
            "difference": round(submit_main - libraries, 1),
        },
        "targets": {
            "commits_per_submit": 1,
            "p50_ratio_at_most": 1.5,
            "import_difference_at_most_ms": 150,
        },
    }
    write_results("submit", figures)
    _print_figures(figures)
    return figures


def _print_figures(figures: dict[str, Any]) -> None:
    per_submit, targets = figures["firestore_per_submit"], figures["targets"]
    function, raw = figures["through_function"], figures["raw_minimum_commit_plus_publish"]
    imports = figures["import_ms"]
    rows = [
        (
            "Firestore commits per submission",
            f"{per_submit['commits']:g}",
            f"{targets['commits_per_submit']}",
        ),
        (
            "document writes / reads per submission",
            f"{per_submit['document_writes']:g} / {per_submit['document_reads']:g}",
            "",
        ),
        (
            "p50 through the function / raw minimum",
            f"{ms(function['p50_ms'])} / {ms(raw['p50_ms'])}"
            f" = {figures['p50_ratio_function_over_raw']:.2f}x",
            f"<= {targets['p50_ratio_at_most']}x",
        ),
        (
            "p95 through the function / raw minimum",
            f"{ms(function['p95_ms'])} / {ms(raw['p95_ms'])}",
            "",
        ),
        (
            "import of functions/submit/main.py minus the libraries",
            f"{imports['difference']:+.0f} ms ({imports['functions_submit_main']:.0f}"
            f" vs {imports['functions_framework_plus_firestore']:.0f} ms)",
            f"<= +{targets['import_difference_at_most_ms']} ms",
        ),
    ]
    print_table("submit", ("figure", "measured", "target"), rows)
