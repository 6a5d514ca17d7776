"""Console benchmark: what signing in, an inbox page and a report page cost, beside the
agency API's inbox and report detail for the same agency admin over the same reports.

Reports are set up through the use cases (not timed); an agency admin (with a second
factor) signs in once through the pages; then the console and the agency function are
called through functions-framework's test clients, alternately, and every Firestore
operation each request sends is counted by the instance's store statistics (which the
staff store shares: a page's session check is in its figure).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from bench.agency import AGENCY, PAGE, REPORTS, _setup
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

CALLS = 60
PASSWORD = "bench: kopi tubruk di alun-alun"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

Call = Callable[[Any], Any]


def _measure(client: Any, stats: Any, call: Call) -> tuple[float, Any]:
    before = stats.snapshot()
    started = time.perf_counter()
    response = call(client)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code not in (200, 303):
        raise RuntimeError(f"answered {response.status_code}: {response.get_data()[:300]!r}")
    return elapsed, stats.since(before)


def _cost(costs: list[Any]) -> dict[str, float]:
    return {
        "document_reads": sum(c.reads for c in costs) / len(costs),
        "document_writes": sum(c.writes for c in costs) / len(costs),
        "commits": sum(c.commits for c in costs) / len(costs),
    }


def _figures(pairs: list[tuple[tuple[Any, Call], tuple[Any, Call]]], stats: Any) -> Any:
    """Each pair (console, API) measured alternately, so both see the same load."""
    console_ms, console_costs, api_ms, api_costs = [], [], [], []
    for (console, page), (api, call) in pairs:
        elapsed, cost = _measure(console, stats, page)
        console_ms.append(elapsed)
        console_costs.append(cost)
        elapsed, cost = _measure(api, stats, call)
        api_ms.append(elapsed)
        api_costs.append(cost)
    return (
        {**percentiles(console_ms), "firestore_per_view": _cost(console_costs)},
        {**percentiles(api_ms), "firestore_per_call": _cost(api_costs)},
    )


def _sign_in(client: Any, stats: Any, email: str, secret: str) -> dict[str, Any]:
    """The admin's sign-in, as a browser does it: the form, password, the code page, code."""
    import pyotp

    before = stats.snapshot()
    started = time.perf_counter()
    form = client.get("/masuk")
    answer = client.post(
        "/masuk",
        data={"email": email, "password": PASSWORD, "csrf": _CSRF.findall(form.text)[0]},
    )
    code_page = client.get(answer.headers["Location"])
    done = client.post(
        answer.headers["Location"],
        data={"code": pyotp.TOTP(secret).now(), "csrf": _CSRF.findall(code_page.text)[0]},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.status_code != 303 or "/masuk" in done.headers["Location"]:
        raise RuntimeError(f"sign-in failed: {done.status_code} {done.headers.get('Location')}")
    spent = stats.since(before)
    return {
        "requests": 4,
        "wall_ms": round(elapsed, 3),
        "firestore": {
            "document_reads": spent.reads,
            "document_writes": spent.writes,
            "commits": spent.commits,
        },
    }


def run() -> dict[str, Any]:
    import functions_framework
    import pyotp

    from shared import wiring
    from shared.domain.report import Role
    from shared.usecases import staff

    announce("console", f"an agency admin's pages over {REPORTS} reports, beside the API")
    insecure = {"LAPOR_CONSOLE_INSECURE_COOKIES": "true"}
    with logs_to_file("console"), emulated_environment(insecure):
        key, ids = _setup(REPORTS)
        secret = pyotp.random_base32()
        admin = staff.create_account(
            "admin@dpupr-cianjur.go.id",
            "Admin DPUPR",
            Role.AGENCY_ADMIN,
            AGENCY,
            PASSWORD,
            wiring.console_ports(),
            totp_secret=secret,
        )
        console = functions_framework.create_app(
            target="console", source="functions/console/main.py"
        ).test_client()
        api = functions_framework.create_app(
            target="agency", source="functions/agency/main.py"
        ).test_client()
        auth = {"Authorization": f"Bearer {key}"}
        stats = wiring.report_store().stats
        sign_in = _sign_in(console, stats, admin.email, secret)

        def inbox_page(c: Any) -> Any:
            return c.get("/kotak-masuk")

        def api_inbox(c: Any) -> Any:
            return c.get(f"/api/v1/inbox?limit={PAGE}", headers=auth)

        def report_page(report_id: str) -> Call:
            return lambda c: c.get(f"/laporan/{report_id}")

        def api_detail(report_id: str) -> Call:
            return lambda c: c.get(f"/api/v1/reports/{report_id}", headers=auth)

        inbox, api_inbox_figures = _figures(
            [((console, inbox_page), (api, api_inbox))] * CALLS, stats
        )
        report, api_report = _figures(
            [((console, report_page(i)), (api, api_detail(i))) for i in ids[:CALLS]], stats
        )
        figures = {
            "method": (
                f"{REPORTS} reports dispositioned to {AGENCY} through the use cases; an "
                "agency admin signed in once through /masuk and /masuk/kode; then each "
                "console page and the agency API's matching call (an agency-admin key of "
                "the same agency) alternately through functions-framework's test clients; "
                "Firestore operations counted by the instance's store statistics (the "
                "session check and the API-key lookup included)"
            ),
            "sign_in": sign_in,
            "inbox_page": inbox,
            "api_inbox": {"limit": PAGE, **api_inbox_figures},
            "report_page": report,
            "api_report_detail": api_report,
        }
    write_results("console", figures)
    _print_figures(figures)
    return figures


def _spent(cost: dict[str, float]) -> str:
    return ", ".join(
        counted(cost[name], noun)
        for name, noun in (
            ("document_reads", "read"),
            ("document_writes", "write"),
            ("commits", "commit"),
        )
        if cost[name]
    )


def _print_figures(figures: dict[str, Any]) -> None:
    rows = [
        (
            "sign-in (form, password, code page, code)",
            _spent(figures["sign_in"]["firestore"]),
            f"{ms(figures['sign_in']['wall_ms'])} (all 4)",
        )
    ]
    for label, key, cost in (
        ("inbox page (console)", "inbox_page", "firestore_per_view"),
        (f"inbox, {PAGE} (agency API)", "api_inbox", "firestore_per_call"),
        ("report page (console)", "report_page", "firestore_per_view"),
        ("report detail (agency API)", "api_report_detail", "firestore_per_call"),
    ):
        figure = figures[key]
        rows.append(
            (label, _spent(figure[cost]), f"{ms(figure['p50_ms'])} / {ms(figure['p95_ms'])}")
        )
    print_table("console", ("view", "Firestore per view", "p50 / p95"), rows)
