"""Load benchmark: 20 concurrent citizens submitting for 60 s against the local stack,
while an agency acts and the daily jobs run; then every accepted report is checked in
Firestore.

The stack is the one ``make run`` starts (tools.stack.LocalStack: the real emulators,
every function under functions-framework, the webhook receiver, the mail and SMS
sinks), on free ports with a temporary data directory, stopped by PID at the end.
Everything is on 127.0.0.1 and bounded: ``CLIENTS`` threads for ``DURATION_S``, then
at most ``DRAIN_S`` for the pipeline to finish.

The rate limit is the stack's default (``LAPOR_RATE_LIMIT_SUBMITS`` per client per
``LAPOR_RATE_LIMIT_WINDOW_S``). The stack trusts one proxy hop here, as production
does behind Google's front end (``LAPOR_TRUSTED_PROXY_HOPS=1`` in infra/main.tf), so
each client's X-Forwarded-For is its address. Each client moves to a new address
after ``limit + OVERSTEP`` submits, so every address oversteps the limit by
``OVERSTEP``: a 429 counts as the rate limit's by design only when its address already
had ``limit`` reports accepted; any other answer but 201 is an error.

At the end, through Firestore: every 201's tracking code has a report, that report
was dispositioned (``dispositioned_at``), and both notifications it must cause were
delivered (the reporter's ``report.accepted`` and the agency's
``report.dispositioned``). A report short of any of these is lost.

The machine is shared (2 cores, other work running): the load average is written
beside the figures, before, during and after.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import LOGS, announce, ms, percentiles, print_table, write_results

CLIENTS = 20
DURATION_S = 60.0
DRAIN_S = 240.0
OVERSTEP = 2
JOBS = ("escalate", "report", "digest")
AGENCY_KEY = "dpupr_cianjur_admin"  # the Cianjur roads rule routes the example there
SUBMIT_PATH = "/api/v1/reports"
REQUEST_TIMEOUT_S = 30.0
ERRORS_KEPT = 20


@dataclass
class Outcome:
    """What one thread saw: every answer's status and latency."""

    latencies_ms: dict[int, list[float]] = field(default_factory=dict)
    # Tracking codes: a citizen's accepted reports, the reports the agency acted on.
    accepted: list[str] = field(default_factory=list)
    by_design_429: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, status: int, elapsed_ms: float) -> None:
        self.latencies_ms.setdefault(status, []).append(elapsed_ms)


def _machine() -> dict[str, Any]:
    return {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _recording_crash(crashes: list[str], target: Callable[..., None], *args: Any) -> None:
    """Run a thread's ``target``; an exception that ends it early is an error too."""
    try:
        target(*args)
    except Exception as exc:
        crashes.append(f"{target.__name__} stopped: {type(exc).__name__}: {exc}")


def _citizen(
    index: int, submit_url: str, body: dict[str, Any], limit: int, until: float, out: Outcome
) -> None:
    """Submit as fast as the answers come until ``until``, moving to a new address
    after ``limit + OVERSTEP`` submits."""
    import httpx

    accepted_here: Counter[str] = Counter()
    n = 0
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        while time.monotonic() < until:
            household = n // (limit + OVERSTEP)
            address = f"10.{index}.{household // 256 % 256}.{household % 256}"
            n += 1
            headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Forwarded-For": address}
            started = time.perf_counter()
            try:
                response = client.post(submit_url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                out.errors.append(f"submit from {address}: {type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            out.add(response.status_code, elapsed)
            if response.status_code == 201:
                out.accepted.append(response.json()["tracking_code"])
                accepted_here[address] += 1
            elif response.status_code == 429 and accepted_here[address] >= limit:
                out.by_design_429 += 1
            else:
                out.errors.append(
                    f"submit from {address} answered {response.status_code} after "
                    f"{accepted_here[address]} accepted: {response.text[:300]}"
                )


def _agency(api: str, key: str, until: float, out: Outcome) -> None:
    """The agency's officer: take each new report from the inbox, follow it up and
    resolve it, until ``until``."""
    import httpx

    done: set[str] = set()
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(headers=auth, timeout=REQUEST_TIMEOUT_S) as client:

        def call(method: str, url: str, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                response = client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                out.errors.append(f"agency {method} {url}: {type(exc).__name__}: {exc}")
                return None
            out.add(response.status_code, (time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                out.errors.append(
                    f"agency {method} {url} answered {response.status_code}: {response.text[:300]}"
                )
                return None
            return response

        while time.monotonic() < until:
            inbox = call("GET", f"{api}/inbox", params={"status": "dispositioned", "limit": 20})
            items = [] if inbox is None else inbox.json()["items"]
            fresh = [item for item in items if item["id"] not in done]
            if not fresh:
                time.sleep(0.5)
                continue
            for item in fresh:
                if time.monotonic() >= until:
                    break
                done.add(item["id"])
                url = f"{api}/reports/{item['id']}"
                if call("POST", f"{url}/follow-up", json={"message": "Tim sudah meninjau lokasi."}):
                    out.accepted.append(item["tracking_code"])
                    call("POST", f"{url}/resolve", json={"message": "Lubang sudah ditambal."})


def _jobs(environ: dict[str, str], at: float, out: dict[str, Any]) -> None:
    """The daily jobs, once, at ``at`` (halfway through the load), as tools.run_job
    runs them."""
    from tools.run_job import run_job

    time.sleep(max(0.0, at - time.monotonic()))
    for name in JOBS:
        started = time.perf_counter()
        try:
            status, text = run_job(name, None, environ)
        except SystemExit as unreachable:  # how run_job says the function did not answer
            status, text = 0, str(unreachable)
        out[name] = {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}
        if status != 200:
            out[name]["body"] = text[:300]


def _check_in_firestore(
    client: Any, codes: set[str], deadline: float
) -> tuple[dict[str, list[str]], float, list[float]]:
    """Poll Firestore until every code's report is dispositioned and told of, or the
    deadline: what each unfinished code still lacks, the seconds waited, and each
    report's submit-to-disposition seconds."""
    started = time.monotonic()
    while True:
        reports = {
            doc.get("tracking_code"): (doc.id, doc.to_dict() or {})
            for doc in client.collection("reports").stream()
        }
        # A notification being sent is a claim alone (no status yet): not delivered.
        logged = (doc.to_dict() or {} for doc in client.collection_group("deliveries").stream())
        delivered = {
            (entry.get("report_id"), entry.get("kind"))
            for entry in logged
            if entry.get("status") == "delivered"
        }
        missing: dict[str, list[str]] = {}
        to_disposition: list[float] = []
        for code in codes:
            if code not in reports:
                missing[code] = ["report"]
                continue
            report_id, doc = reports[code]
            lacks = []
            if doc.get("dispositioned_at") is None:
                lacks.append("disposition")
            else:
                to_disposition.append(
                    (doc["dispositioned_at"] - doc["submitted_at"]).total_seconds()
                )
            for kind in ("report.accepted", "report.dispositioned"):
                if (report_id, kind) not in delivered:
                    lacks.append(kind)
            if lacks:
                missing[code] = lacks
        if not missing or time.monotonic() >= deadline:
            return missing, time.monotonic() - started, to_disposition
        time.sleep(3)


def run(clients: int = CLIENTS, duration_s: float = DURATION_S) -> dict[str, Any]:
    """The benchmark; fewer clients or seconds only to try it out (the results file
    says what ran)."""
    from shared.config import Settings
    from shared.web.openapi import report_example
    from tools.seed import emulator_client
    from tools.stack import LocalStack

    announce(
        "load",
        f"{clients} clients submitting for {duration_s:g} s against the local stack, "
        f"an agency acting and the jobs ({', '.join(JOBS)}) halfway",
    )
    body = report_example()
    machine = _machine()
    LOGS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lapor-load-") as tmp:
        stack = LocalStack(Path(tmp), extra_env={"LAPOR_TRUSTED_PROXY_HOPS": "1"})
        # The limit the functions run with (the default unless this shell sets one).
        limit = Settings.from_env(stack.env()).rate_limit_submits
        stack.start()
        try:
            keys = json.loads(stack.demo_keys_path.read_text(encoding="utf-8"))
            citizens = [Outcome() for _ in range(clients)]
            agency = Outcome()
            jobs: dict[str, Any] = {}
            load_during: list[float] = []
            crashes: list[str] = []
            begun = time.monotonic()
            until = begun + duration_s
            submit_url = stack.urls["submit"] + SUBMIT_PATH
            agency_api = stack.urls["agency"] + "/api/v1"
            threads = [
                threading.Thread(
                    target=_recording_crash,
                    args=(crashes, _citizen, i, submit_url, body, limit, until, out),
                )
                for i, out in enumerate(citizens)
            ]
            threads.append(
                threading.Thread(
                    target=_recording_crash,
                    args=(crashes, _agency, agency_api, keys[AGENCY_KEY]["key"], until, agency),
                )
            )
            threads.append(
                threading.Thread(
                    target=_recording_crash,
                    args=(
                        crashes,
                        _jobs,
                        {f"LAPOR_{n.upper()}_URL": stack.urls[n] for n in JOBS},
                        begun + duration_s / 2,
                        jobs,
                    ),
                )
            )
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                load_during.append(os.getloadavg()[0])
                time.sleep(2)
            for thread in threads:
                thread.join()
            load_elapsed = time.monotonic() - begun
            codes = {code for out in citizens for code in out.accepted}
            client = emulator_client(stack.emulators.firestore_host, stack.project)
            try:
                missing, drained_s, to_disposition = _check_in_firestore(
                    client, codes, time.monotonic() + DRAIN_S
                )
            finally:
                client.close()
        finally:
            stack.stop(export=False)
            # The stack's logs (every function's, the emulators') are kept for reading.
            for log in (Path(tmp) / "logs").glob("*.log"):
                (LOGS / f"load-{log.name}").write_bytes(log.read_bytes())

    submits: dict[int, list[float]] = {}
    for out in citizens:
        for status, samples in out.latencies_ms.items():
            submits.setdefault(status, []).extend(samples)
    errors = crashes + [e for out in citizens for e in out.errors] + agency.errors
    errors += [
        f"job {name} answered {jobs[name]['status']}: {jobs[name].get('body')}"
        if name in jobs
        else f"job {name} did not run"
        for name in JOBS
        if jobs.get(name, {}).get("status") != 200
    ]
    agency_ms = [s for samples in agency.latencies_ms.values() for s in samples]
    figures: dict[str, Any] = {
        "method": (
            f"{clients} threads (httpx, one connection each) POSTing {SUBMIT_PATH} as fast as "
            f"answered for {duration_s:g} s to the local stack (tools.stack.LocalStack: real "
            "Firestore and Pub/Sub emulators, fake-gcs-server, every function under "
            "functions-framework, webhook receiver, mail and SMS sinks; free ports, "
            "LAPOR_TRUSTED_PROXY_HOPS=1 as in production), each client a new "
            f"X-Forwarded-For address every rate limit + {OVERSTEP} submits; an agency "
            "(the DPUPR Cianjur admin's API key) following up and resolving from its inbox; "
            f"the jobs {', '.join(JOBS)} run halfway; then every accepted code "
            "checked in Firestore: report, dispositioned_at, delivered report.accepted and "
            "report.dispositioned"
        ),
        "machine": {
            **machine,
            "load_average_1m_during_max": round(max(load_during, default=0.0), 2),
            "load_average_1m_after": _machine()["load_average_1m"],
        },
        "clients": clients,
        "duration_s": round(load_elapsed, 1),
        "rate_limit_per_address": limit,
        "submits": {
            "requests": sum(len(s) for s in submits.values()),
            "accepted_201": len(codes),
            "rate_limited_429_by_design": sum(out.by_design_429 for out in citizens),
            "by_status": {str(status): len(s) for status, s in sorted(submits.items())},
            "accepted_per_s": round(len(codes) / load_elapsed, 1),
            "latency_201": percentiles(submits.get(201, [0.0, 0.0])),
        },
        "agency": {
            "requests": len(agency_ms),
            "reports_acted_on": len(agency.accepted),
            "latency": percentiles(agency_ms) if len(agency_ms) > 1 else None,
        },
        "jobs": jobs,
        "errors": len(errors),
        "errors_first": errors[:ERRORS_KEPT],
        "lost_reports": len(missing),
        "lost_first": dict(sorted(missing.items())[:ERRORS_KEPT]),
        "drain_s_after_load": round(drained_s, 1),
        "submit_to_disposition_s": (
            {
                "p50": round(statistics.median(to_disposition), 2),
                "p99": round(statistics.quantiles(to_disposition, n=100)[98], 2),
            }
            if len(to_disposition) > 1
            else None
        ),
    }
    write_results("load", figures)
    _print_figures(figures)
    return figures


def _print_figures(figures: dict[str, Any]) -> None:
    submits, latency = figures["submits"], figures["submits"]["latency_201"]
    machine = figures["machine"]
    agency = figures["agency"]
    rows = [
        (
            "submits accepted (201)",
            f"{submits['accepted_201']} ({submits['accepted_per_s']:g}/s)",
            f"p50 {ms(latency['p50_ms'])}, p99 {ms(latency['p99_ms'])}",
        ),
        ("rate limited (429, by design)", str(submits["rate_limited_429_by_design"]), ""),
        ("errors (anything else)", str(figures["errors"]), ""),
        (
            "lost reports (no report, disposition or notification)",
            str(figures["lost_reports"]),
            f"checked {figures['drain_s_after_load']:g} s after the load",
        ),
        (
            "agency calls (inbox, follow-up, resolve)",
            f"{agency['requests']} on {agency['reports_acted_on']} reports",
            (
                f"p50 {ms(agency['latency']['p50_ms'])}, p99 {ms(agency['latency']['p99_ms'])}"
                if agency["latency"]
                else ""
            ),
        ),
        (
            "jobs during the load",
            ", ".join(f"{n} {r['status']}" for n, r in figures["jobs"].items()),
            ", ".join(f"{n} {r['ms'] / 1000:.1f} s" for n, r in figures["jobs"].items()),
        ),
    ]
    if figures["submit_to_disposition_s"]:
        lag = figures["submit_to_disposition_s"]
        rows.append(("submit to disposition", "", f"p50 {lag['p50']:g} s, p99 {lag['p99']:g} s"))
    rows.append(
        (
            f"load average on {machine['cpus']} CPUs",
            f"before {machine['load_average_1m']:g}, "
            f"during max {machine['load_average_1m_during_max']:g}, "
            f"after {machine['load_average_1m_after']:g}",
            "",
        )
    )
    print_table("load", ("figure", "count", "time"), rows)
