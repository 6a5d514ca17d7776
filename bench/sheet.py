"""The figure sheet: every benchmark's headline figures in one table, read from
``bench/results/*.json`` (so it can be printed again without running anything).

    python -m bench sheet              # the table, for the terminal
    python -m bench sheet --markdown   # the same as the README carries it

Each row says where its figure is in the results file; a benchmark not run yet shows
as such. The date is the one the benchmark wrote, else the results file's last commit.
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, RESULTS

Figures = dict[str, Any]
Row = tuple[str, str, str]


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _submit(f: Figures) -> list[Row]:
    per = f["firestore_per_submit"]
    return [
        ("submit, one report (API)", _ms(f["through_function"]["p50_ms"]), "p50, in-process"),
        (
            "submit, Firestore per report",
            f"{per['document_writes']:g} writes, {per['commits']:g} commit",
            f"{per['document_reads']:g} reads",
        ),
    ]


def _route(f: Figures) -> list[Row]:
    return [
        ("routing throughput", f"{f['reports_per_s']:g} reports/s", f"{f['reports']} reports"),
        (
            "routing, all webhooks delivered",
            f"{f['all_webhooks_delivered_s']:g} s",
            f"{f['webhooks_expected']} webhooks",
        ),
    ]


def _agency(f: Figures) -> list[Row]:
    return [
        ("agency API inbox page", _ms(f["inbox_first_page"]["p50_ms"]), "p50"),
        ("agency API follow-up", _ms(f["follow_up"]["p50_ms"]), "p50"),
    ]


def _console(f: Figures) -> list[Row]:
    return [
        ("console inbox page", _ms(f["inbox_page"]["p50_ms"]), "p50"),
        ("console report page", _ms(f["report_page"]["p50_ms"]), "p50"),
    ]


def _jobs(f: Figures) -> list[Row]:
    escalation = f["scale"]["escalation_run"]
    runs = f["scale"]["report_runs"]
    largest = max(runs, key=int)
    return [
        (
            "escalation run",
            f"{escalation['ms_per_due_report']:g} ms per due report",
            f"{escalation['due']} due of {escalation['reports']}",
        ),
        ("daily report run", f"{runs[largest]['seconds']:g} s", f"{int(largest)} reports"),
    ]


def _notify(f: Figures) -> list[Row]:
    emails = f["emails"]
    return [
        (
            "e-mail through the relay",
            f"{emails['per_second']:g}/s",
            f"p50 {_ms(emails['delivery']['p50_ms'])}, {emails['workers']} workers",
        ),
    ]


def _attachments(f: Figures) -> list[Row]:
    with_, without = f["with_photos"], f["without_photos"]
    return [
        (
            "form with two ~3 MB photos",
            _ms(with_["p50_ms"]),
            f"p50; CPU {_ms(with_['cpu']['p50_ms'])} (without: {_ms(without['p50_ms'])})",
        ),
    ]


def _cost(f: Figures) -> list[Row]:
    return [
        (
            f"monthly bill at {bill['reports_per_day']:,} reports/day",
            f"US${bill['total_after_free']:,.2f}",
            f"after free tiers (list US${bill['total_list']:,.2f})",
        )
        for bill in f["bills"]
    ]


def _load(f: Figures) -> list[Row]:
    submits, latency = f["submits"], f["submits"]["latency_201"]
    return [
        (
            f"load: {f['clients']} clients, {f['duration_s']:g} s",
            f"{submits['accepted_per_s']:g} reports/s",
            f"p50 {_ms(latency['p50_ms'])}, p99 {_ms(latency['p99_ms'])}",
        ),
        (
            "load: errors, lost reports",
            f"{f['errors']}, {f['lost_reports']}",
            f"{submits['rate_limited_429_by_design']} 429s by design; "
            f"load avg up to {f['machine']['load_average_1m_during_max']:g}",
        ),
    ]


HEADLINES: dict[str, Callable[[Figures], list[Row]]] = {
    "submit": _submit,
    "route": _route,
    "agency": _agency,
    "console": _console,
    "jobs": _jobs,
    "notify": _notify,
    "attachments": _attachments,
    "load": _load,
    "cost": _cost,
}
HEADER = ("benchmark", "figure", "value", "note", "measured")


def _measured(path: Path, figures: Figures) -> str:
    machine = figures.get("machine")
    if isinstance(machine, dict) and machine.get("date"):
        return str(machine["date"])
    done = subprocess.run(
        ["git", "log", "-1", "--format=%cs", "--", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "not committed"


def stored_results() -> dict[str, tuple[Figures, str]]:
    """Each benchmark's figures from ``bench/results/`` and the date they were measured."""
    found: dict[str, tuple[Figures, str]] = {}
    for name in HEADLINES:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            figures = json.loads(path.read_text(encoding="utf-8"))
            found[name] = (figures, _measured(path, figures))
    return found


def rows(found: Mapping[str, tuple[Figures, str]]) -> list[tuple[str, ...]]:
    """One row per headline figure, in the order ``make bench`` runs them."""
    table: list[tuple[str, ...]] = []
    for name, headline in HEADLINES.items():
        if name not in found:
            table.append((name, "(not run yet)", "", "", ""))
            continue
        figures, when = found[name]
        table.extend((name, *row, when) for row in headline(figures))
    return table


def machine() -> str:
    """The machine this sheet's figures come from, as the README names it."""
    import os

    return f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"


def markdown(table: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    return "\n".join(lines)


def print_sheet(as_markdown: bool = False) -> None:
    table = rows(stored_results())
    if as_markdown:
        print(markdown(table))
        return
    from bench.common import print_table

    print(f"\n== figure sheet ({machine()}) ==")
    print_table("<benchmark>", HEADER, table)
