"""Agency API benchmark: what an inbox page, a report and an action cost.

Reports are set up through the use cases (not timed); the agency function is then
called through functions-framework's test client, and every Firestore operation it
sends is counted by the instance's store statistics.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    announce,
    counted,
    emulated_environment,
    logs_to_file,
    ms,
    percentiles,
    print_table,
    sample_draft,
    write_results,
)

REPORTS = 120
PAGE = 25
CALLS = 60
AGENCY = "dpupr-cianjur"


def _setup(count: int) -> tuple[str, list[str]]:
    """An agency admin key and ``count`` reports dispositioned to AGENCY."""
    from shared import wiring
    from shared.config import settings
    from shared.domain.privacy import ReporterIdentity
    from shared.domain.report import Action, Actor, Command, Role
    from shared.usecases.act import act
    from shared.usecases.submit import submit_report
    from tools.api_keys import issue_key
    from tools.seed import seed_reference

    client = wiring.firestore_client()
    seed_reference(client)
    key = issue_key(client, AGENCY, Role.AGENCY_ADMIN, "bench")
    store, config = wiring.report_store(), settings()
    draft = sample_draft()
    ids = []
    for i in range(count):
        accepted = submit_report(
            draft,
            ReporterIdentity("Siti Aminah", None, "081234567890"),
            client_id=f"bench-{i}",
            idempotency_key=None,
            store=store,
            publisher=wiring.publisher(),
            clock=wiring.clock(),
            settings=config,
        )
        routed = Command(
            Action.DISPOSITION,
            Actor(Role.SYSTEM, "system:route"),
            agency_id=AGENCY,
            data={"method": "rule", "rule_id": "cianjur-jalan"},
        )
        act(accepted.report_id, routed, store=store, clock=wiring.clock(), settings=config)
        ids.append(accepted.report_id)
    return key, ids


def _measure(client: Any, stats: Any, call: Any) -> tuple[float, Any]:
    before = stats.snapshot()
    started = time.perf_counter()
    response = call(client)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"agency answered {response.status_code}: {response.get_data()!r}")
    return elapsed, stats.since(before)


def _figure(client: Any, stats: Any, calls: list[Any]) -> dict[str, Any]:
    samples, costs = [], []
    for call in calls:
        elapsed, cost = _measure(client, stats, call)
        samples.append(elapsed)
        costs.append(cost)
    return {
        **percentiles(samples),
        "firestore_per_call": {
            "document_reads": sum(c.reads for c in costs) / len(costs),
            "document_writes": sum(c.writes for c in costs) / len(costs),
            "document_deletes": sum(c.deletes for c in costs) / len(costs),
            "commits": sum(c.commits for c in costs) / len(costs),
        },
    }


def run() -> dict[str, Any]:
    import functions_framework

    from shared import wiring

    announce("agency", f"an agency admin's calls over {REPORTS} dispositioned reports")
    with logs_to_file("agency"), emulated_environment():
        key, ids = _setup(REPORTS)
        app = functions_framework.create_app(target="agency", source="functions/agency/main.py")
        client = app.test_client()
        auth = {"Authorization": f"Bearer {key}"}
        stats = wiring.report_store().stats
        first_page = client.get(f"/api/v1/inbox?limit={PAGE}", headers=auth).get_json()
        cursor = first_page["next_cursor"]

        def inbox(c: Any) -> Any:
            return c.get(f"/api/v1/inbox?limit={PAGE}", headers=auth)

        def next_page(c: Any) -> Any:
            return c.get(f"/api/v1/inbox?limit={PAGE}&cursor={cursor}", headers=auth)

        def detail(report_id: str) -> Any:
            return lambda c: c.get(f"/api/v1/reports/{report_id}", headers=auth)

        def follow_up(report_id: str) -> Any:
            body = {"message": "Tim sudah meninjau lokasi; penambalan dijadwalkan Kamis."}
            return lambda c: c.post(
                f"/api/v1/reports/{report_id}/follow-up", json=body, headers=auth
            )

        figures = {
            "method": (
                f"{REPORTS} reports dispositioned to {AGENCY} through the use cases, then "
                "the agency function through functions-framework's test client with an "
                "agency-admin key; Firestore operations counted by the instance's store "
                "statistics (the API-key lookup included)"
            ),
            "inbox_first_page": {"limit": PAGE, **_figure(client, stats, [inbox] * CALLS)},
            "inbox_next_page": {"limit": PAGE, **_figure(client, stats, [next_page] * CALLS)},
            "report_detail": _figure(client, stats, [detail(i) for i in ids[:CALLS]]),
            "follow_up": _figure(client, stats, [follow_up(i) for i in ids[:CALLS]]),
        }
    write_results("agency", figures)
    _print_figures(figures)
    return figures


def _print_figures(figures: dict[str, Any]) -> None:
    calls = [
        (f"inbox page of {PAGE}, first", "inbox_first_page"),
        (f"inbox page of {PAGE}, by cursor", "inbox_next_page"),
        ("report detail", "report_detail"),
        ("follow-up", "follow_up"),
    ]
    rows = []
    for label, key in calls:
        call = figures[key]
        cost = call["firestore_per_call"]
        spent = [
            counted(cost[name], noun)
            for name, noun in (
                ("document_reads", "read"),
                ("document_writes", "write"),
                ("commits", "commit"),
            )
            if cost[name]
        ]
        rows.append((label, ", ".join(spent), f"{ms(call['p50_ms'])} / {ms(call['p95_ms'])}"))
    print_table("agency", ("call", "Firestore per call", "p50 / p95"), rows)
