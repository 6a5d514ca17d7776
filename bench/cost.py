"""What Lapor costs a month on Google Cloud, from the operations ``make bench`` counted.

``python -m bench cost`` reads ``bench/results/{submit,route,agency,jobs,notify}.json`` (so it
needs no emulator and recomputes after any benchmark), prints the operations each unit
of work costs and the monthly bill at 2,000 and at 100,000 reports a day, and writes
both to ``bench/results/cost.json``. The prices, their sources and the day they were
read are :data:`PRICES`; what a report's life consists of is :data:`LIFE`. Change
either and run it again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from bench.common import RESULTS, write_results
from tools.stack import REPO_ROOT

DAYS = 30
VOLUMES = (2_000, 100_000)  # reports a day

# What one report's life consists of besides what the benchmarks measure per report
# (assumptions: change them and run `python -m bench cost` again).
LIFE = {
    "follow_ups": 1.0,  # through the agency API
    "resolutions": 1.0,
    "agency_inbox_pages": 2.0,  # pages of 25 an officer reads per report handled
    "agency_detail_views": 2.0,
    "reporter_confirms": 0.5,  # the other resolved reports close by silence (the job)
    "reporter_ratings": 0.3,
    # The rate-limit slot and the idempotency record of each submission carry a TTL
    # (infra/firestore_indexes.json): Firestore deletes both later, billed as deletes.
    "ttl_deletes_per_submission": 2.0,
}
TOPOLOGY = REPO_ROOT / "infra" / "topology.json"  # the schedules
FUNCTION_MEMORY_GIB = 0.5  # 512Mi, infra/main.tf default_sizing
FUNCTION_VCPU = 0.333  # what Cloud Run functions give 512 MiB (docs: configuring/memory)
BILLING_STEP_S = 0.1  # Cloud Run rounds billed time up to the next 100 ms
PUBSUB_MIN_BYTES = 1000  # per publish or push request, whatever the message's size
ESCALATION_COMMAND = "escalation run, per command (escalate, auto-close, archive)"
AGENCY_ACTION = "agency action (follow-up, resolve)"
NOTIFICATION = "notification to an agency or a reporter"
DAILY_NOTIFICATION = "daily figures to an agency (report.daily)"

READ_ON = "2026-11-30"  # when the prices below were read (stored copies, via search)
PRICES: dict[str, dict[str, Any]] = {
    "firestore": {
        "read_per_100k": 0.06,
        "write_per_100k": 0.18,
        "delete_per_100k": 0.02,
        "free_per_day": {"reads": 50_000, "writes": 20_000, "deletes": 20_000},
        "source": "https://cloud.google.com/firestore/pricing (and firebase.google.com/docs/"
        "firestore/pricing): the US multi-region (nam5) row. The Jakarta (asia-southeast2) "
        "row was not in the stored copy read; regional rows seen there are lower (Oregon "
        "0.03/0.09/0.01, Los Angeles 0.036/0.108/0.012), so this is a stand-in: put the "
        "Jakarta row here. TTL deletes get no free quota.",
    },
    "cloud_run": {
        "vcpu_second": 0.000024,
        "gib_second": 0.0000025,
        "request_per_million": 0.40,
        "free_per_month": {"vcpu_seconds": 180_000, "gib_seconds": 360_000, "requests": 2e6},
        "source": "https://cloud.google.com/run/pricing: Tier 1, CPU allocated only during "
        "requests (Cloud Run functions' billing); free tier per billing account. "
        "asia-southeast2 is a Tier 2 region (cloud.google.com/run/docs/locations), whose "
        "prices are higher and were not in the stored copy: these compute lines are a "
        "lower bound.",
    },
    "pubsub": {
        "per_tib": 40.0,
        "free_gib_per_month": 10,
        "source": "https://cloud.google.com/pubsub/pricing: throughput (publish and "
        "delivery) $40 per TiB, first 10 GiB a month free, at least 1,000 bytes per "
        "publish or push request; the same in every region.",
    },
    "scheduler": {
        "job_per_month": 0.10,
        "free_jobs": 3,
        "source": "https://cloud.google.com/scheduler/pricing: $0.10 per job per month, "
        "3 jobs free per billing account.",
    },
}


@dataclass
class Unit:
    """One unit of work: the operations it costs, averaged as measured."""

    name: str
    measured_by: str
    reads: float = 0.0
    writes: float = 0.0  # document writes, deletes not included
    deletes: float = 0.0
    requests: float = 0.0  # function invocations
    billed_seconds: float = 0.0  # instance time billed for those requests
    pubsub_bytes: float = 0.0  # billable Pub/Sub volume: publish plus push


def _load(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python -m bench {name}` first")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def billed(seconds: float) -> float:
    """One request's billed instance time: rounded up to the next 100 ms."""
    return math.ceil(seconds / BILLING_STEP_S - 1e-9) * BILLING_STEP_S


def _message(sizes: dict[str, Any], kind: str) -> float:
    """Billable bytes of one message of ``kind``: published once, pushed once."""
    return 2 * max(float(sizes[kind]["mean"]), PUBSUB_MIN_BYTES)


def _weighted(rows: Iterable[tuple[float, float]]) -> float:
    """The mean of (value, weight) pairs."""
    pairs = list(rows)
    return sum(v * w for v, w in pairs) / sum(w for _, w in pairs)


def _schedules() -> list[dict[str, Any]]:
    schedules: list[dict[str, Any]] = json.loads(TOPOLOGY.read_text())["schedules"]
    return schedules


def _scheduled_runs_per_day() -> dict[str, int]:
    """How often each schedule of infra/topology.json runs in a day."""
    from cronsim import CronSim

    start = dt.datetime(2026, 1, 1)
    runs = {}
    for schedule in _schedules():
        moments = CronSim(schedule["cron"], start - dt.timedelta(microseconds=1))
        runs[schedule["name"]] = sum(
            1
            for _ in itertools.takewhile(
                lambda moment: moment < start + dt.timedelta(days=1), moments
            )
        )
    return runs


def units() -> list[Unit]:
    submit, route, agency, jobs, notify = (
        _load(n) for n in ("submit", "route", "agency", "jobs", "notify")
    )
    sizes = jobs["lifecycle"]["message_bytes"]
    run = jobs["scale"]["escalation_run"]
    report_run = list(jobs["scale"]["report_runs"].values())[-1]
    by_channel = notify["firestore_per_notification_by_kind_and_channel"]
    notify_s = billed(notify["emails"]["delivery"]["p50_ms"] / 1000)

    def http(call: dict[str, Any]) -> float:
        return billed(call["p50_ms"] / 1000)

    def notification(name: str, kinds: Callable[[str], bool]) -> Unit:
        # A kind notify.json did not deliver costs what its others cost on average.
        rows = [(cost, cost["notifications"]) for k, cost in by_channel.items() if kinds(k)] or [
            (cost, cost["notifications"]) for cost in by_channel.values()
        ]
        size = _weighted((one["mean"], one["n"]) for kind, one in sizes.items() if kinds(kind))
        return Unit(
            name,
            "notify.json: Firestore per notification (weighted over its kinds and channels); "
            "jobs.json: message sizes; the request timed as notify.json's e-mail delivery",
            reads=_weighted((c["document_reads"], w) for c, w in rows),
            writes=_weighted((c["document_writes"], w) for c, w in rows),
            requests=1,
            billed_seconds=notify_s,
            pubsub_bytes=2 * max(size, PUBSUB_MIN_BYTES),
        )

    per_submit = submit["firestore_per_submit"]
    made = [
        Unit(
            "submission",
            "submit.json through the function; the TTL deletes of its rate slot and key",
            reads=per_submit["document_reads"],
            writes=per_submit["document_writes"],
            deletes=LIFE["ttl_deletes_per_submission"],
            requests=1,
            billed_seconds=http(submit["through_function"]),
            pubsub_bytes=_message(sizes, "report.submitted"),
        )
    ]
    routed = route["firestore_per_routed_report"]
    made.append(
        Unit(
            "routing",
            "route.json, route_report in-process",
            reads=routed["document_reads"],
            writes=routed["document_writes"] - routed["document_deletes"],
            deletes=routed["document_deletes"],
            requests=1,
            billed_seconds=billed(route["in_process_route_one_at_a_time"]["p50_ms"] / 1000),
        )
    )
    for key, name in (
        ("follow_up", AGENCY_ACTION),
        ("inbox_first_page", "agency inbox page of 25"),
        ("report_detail", "agency report detail"),
    ):
        call = agency[key]
        cost = call["firestore_per_call"]
        made.append(
            Unit(
                name,
                "agency.json through the function (the API key lookup included)",
                reads=cost["document_reads"],
                writes=cost["document_writes"] - cost["document_deletes"],
                deletes=cost["document_deletes"],
                requests=1,
                billed_seconds=http(call),
            )
        )
    kinds = jobs["lifecycle"]["per_kind"]
    for kind in ("confirm", "rate"):
        cost = kinds[kind]
        made.append(
            Unit(
                f"reporter {kind}",
                "jobs.json lifecycle transition; the request timed as an agency action",
                reads=cost["reads"],
                writes=cost["writes"] - cost["deletes"],
                deletes=cost["deletes"],
                requests=1,
                billed_seconds=http(agency["follow_up"]),
            )
        )
    commands = run["commands"]
    made.append(
        Unit(
            ESCALATION_COMMAND,
            f"jobs.json: the run over {run['reports']:,} reports, {run['due']:,} due",
            reads=run["reads"] / commands,
            writes=(run["writes"] - run["deletes"]) / commands,
            deletes=run["deletes"] / commands,
            billed_seconds=run["seconds"] / commands,
        )
    )
    made.append(
        Unit(
            "report run (daily)",
            f"jobs.json: the run at {report_run['reports']:,} reports, less the emulator's"
            " counting time",
            reads=report_run["reads"],
            writes=report_run["writes"] - report_run["deletes"],
            deletes=report_run["deletes"],
            requests=1,
            billed_seconds=billed(report_run["seconds"] - report_run["overdue_count_seconds"]),
        )
    )
    made.append(
        Unit(
            "scheduled run with nothing to do (sweep, digest)",
            "one query that finds nothing; the request billed its minimum",
            reads=1,
            requests=1,
            billed_seconds=BILLING_STEP_S,
        )
    )
    made.append(
        notification(
            NOTIFICATION,
            lambda kind: not kind.startswith(("report.submitted", "report.daily")),
        )
    )
    made.append(notification(DAILY_NOTIFICATION, lambda kind: kind.startswith("report.daily")))
    return made


def per_month(made: list[Unit], reports_per_day: int) -> dict[str, float]:
    """How many of each unit a month brings at ``reports_per_day``."""
    jobs = _load("jobs")
    kinds = jobs["lifecycle"]["per_kind"]
    scale = jobs["scale"]
    run = scale["escalation_run"]
    commands_per_report = float(scale["job_commands_per_report"])
    reports = reports_per_day * DAYS
    commands = commands_per_report * reports
    # What each event tells (jobs.json: the notifications each committed), per report.
    events = {
        "submit": 1.0,
        "disposition (rule)": 1.0,
        "follow_up": LIFE["follow_ups"],
        "resolve": LIFE["resolutions"],
        "confirm": LIFE["reporter_confirms"],
        "rate": LIFE["reporter_ratings"],
    }
    told = sum(kinds[kind]["notifications"] * n for kind, n in events.items()) * reports
    told += commands * _weighted(
        (one["notifications"], one["calls"]) for one in run["per_command"].values()
    )
    runs = _scheduled_runs_per_day()
    idle_runs = sum(n for name, n in runs.items() if name not in ("escalate", "report"))
    report_run = list(scale["report_runs"].values())[-1]
    counts = {
        "submission": reports,
        "routing": reports,
        AGENCY_ACTION: (LIFE["follow_ups"] + LIFE["resolutions"]) * reports,
        "agency inbox page of 25": LIFE["agency_inbox_pages"] * reports,
        "agency report detail": LIFE["agency_detail_views"] * reports,
        "reporter confirm": LIFE["reporter_confirms"] * reports,
        "reporter rate": LIFE["reporter_ratings"] * reports,
        ESCALATION_COMMAND: commands,
        "report run (daily)": runs["report"] * DAYS,
        "scheduled run with nothing to do (sweep, digest)": idle_runs * DAYS,
        NOTIFICATION: told,
        DAILY_NOTIFICATION: report_run["result"]["notifications"] * DAYS,
    }
    assert set(counts) == {u.name for u in made}, set(counts) ^ {u.name for u in made}
    return counts


def _line(usage: float, price: float, free: float) -> dict[str, float]:
    """One line of the bill: the usage, its list price, and what is left to pay after
    ``free`` of it."""
    return {"usage": usage, "list": usage * price, "after_free": max(0.0, usage - free) * price}


def bill(made: list[Unit], reports_per_day: int) -> dict[str, Any]:
    """The monthly bill at ``reports_per_day``, line by line, list and after free tiers."""
    counts = per_month(made, reports_per_day)

    def total(key: str) -> float:
        return sum(float(getattr(unit, key)) * counts[unit.name] for unit in made)

    firestore, run, pubsub, scheduler = (
        PRICES[k] for k in ("firestore", "cloud_run", "pubsub", "scheduler")
    )
    free, run_free = firestore["free_per_day"], run["free_per_month"]
    # The escalation run is one request a day, billed for the time of all its commands.
    requests = total("requests") + _scheduled_runs_per_day()["escalate"] * DAYS
    jobs = len(_schedules())
    billed_seconds = total("billed_seconds")
    ttl_deletes = LIFE["ttl_deletes_per_submission"] * counts["submission"]
    per_read, per_write, per_delete = (
        firestore[f"{kind}_per_100k"] / 1e5 for kind in ("read", "write", "delete")
    )
    lines = {
        # Firestore's free quota is daily: a month's usage, evenly spread, less 30 days'.
        "Firestore document reads": _line(total("reads"), per_read, free["reads"] * DAYS),
        "Firestore document writes": _line(total("writes"), per_write, free["writes"] * DAYS),
        # TTL deletes get no free quota: only the other deletes are set against it.
        "Firestore document deletes (TTL included)": _line(
            total("deletes"),
            per_delete,
            min(total("deletes") - ttl_deletes, free["deletes"] * DAYS),
        ),
        "Cloud Run functions requests": _line(
            requests, run["request_per_million"] / 1e6, run_free["requests"]
        ),
        "Cloud Run functions vCPU-seconds": _line(
            billed_seconds * FUNCTION_VCPU, run["vcpu_second"], run_free["vcpu_seconds"]
        ),
        "Cloud Run functions GiB-seconds": _line(
            billed_seconds * FUNCTION_MEMORY_GIB, run["gib_second"], run_free["gib_seconds"]
        ),
        "Pub/Sub throughput (GiB)": _line(
            total("pubsub_bytes") / 2**30, pubsub["per_tib"] / 1024, pubsub["free_gib_per_month"]
        ),
        "Cloud Scheduler jobs": _line(jobs, scheduler["job_per_month"], scheduler["free_jobs"]),
    }
    return {
        "reports_per_day": reports_per_day,
        "units_per_month": counts,
        "lines": lines,
        "total_list": sum(line["list"] for line in lines.values()),
        "total_after_free": sum(line["after_free"] for line in lines.values()),
    }


# --- printing ------------------------------------------------------------------------------


def _amount(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:,.1f} M"
    if value >= 1e4:
        return f"{value / 1e3:,.0f} k"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


def markdown(made: list[Unit], bills: list[dict[str, Any]]) -> str:
    """Both tables as the README shows them."""
    out = [
        "| unit of work | Firestore reads / writes / deletes | function requests, billed s"
        " | Pub/Sub bytes |",
        "|---|---|---|---|",
    ]
    for unit in made:
        out.append(
            f"| {unit.name} | {unit.reads:.3g} / {unit.writes:.3g} / {unit.deletes:.3g}"
            f" | {unit.requests:g}, {unit.billed_seconds:.3g} s | {unit.pubsub_bytes:,.0f} |"
        )
    head = " | ".join(
        f"{b['reports_per_day']:,}/day: usage | list | after free tiers" for b in bills
    )
    out += ["", f"| a month of 30 days | {head} |", "|---" * (1 + 3 * len(bills)) + "|"]
    for name in bills[0]["lines"]:
        cells = " | ".join(
            f"{_amount(b['lines'][name]['usage'])} | {_dollars(b['lines'][name]['list'])}"
            f" | {_dollars(b['lines'][name]['after_free'])}"
            for b in bills
        )
        out.append(f"| {name} | {cells} |")
    totals = " | ".join(
        f" | **{_dollars(b['total_list'])}** | **{_dollars(b['total_after_free'])}**" for b in bills
    )
    out.append(f"| **total** | {totals} |")
    return "\n".join(out) + "\n"


def run() -> dict[str, Any]:
    print("\n== cost: a month at 2,000 and 100,000 reports a day, from bench/results ==")
    made = units()
    bills = [bill(made, volume) for volume in VOLUMES]
    figures = {
        "units": [asdict(unit) for unit in made],
        "bills": bills,
        "life": LIFE,
        "prices": PRICES,
        "prices_read_on": READ_ON,
        "assumptions": {
            "days_per_month": DAYS,
            "function_memory_gib": FUNCTION_MEMORY_GIB,
            "function_vcpu": FUNCTION_VCPU,
            "billing_step_s": BILLING_STEP_S,
            "request_time": "each request billed its in-process p50 on this machine against "
            "the emulators, rounded up to 100 ms; cold starts, logging, egress, Firestore "
            "storage and the build/registry are not counted",
        },
    }
    write_results("cost", figures)
    table = markdown(made, bills)
    (RESULTS / "cost.md").write_text(table)
    print(table, end="")
    print("figures: bench/results/cost.json   table: bench/results/cost.md", flush=True)
    return figures
