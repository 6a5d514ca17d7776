"""What every benchmark needs: emulators it owns, percentiles, a results file, and a
short table for the terminal.

The figures go to ``bench/results/<name>.json`` (committed, each says how it measured);
the terminal gets one table per benchmark. Every log line the benchmark causes, from
the functions it runs in-process or as servers, goes to ``bench/results/logs/`` (not
committed), where it can be read when a figure looks wrong.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.stack import REPO_ROOT, Emulators, ensure_pubsub

RESULTS = REPO_ROOT / "bench" / "results"
LOGS = RESULTS / "logs"
BENCH_SECRET = "bench-secret-not-for-production"


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 3),
        "p95_ms": round(cuts[94], 3),
        "p99_ms": round(cuts[98], 3),
        "mean_ms": round(statistics.fmean(samples_ms), 3),
        "n": len(samples_ms),
    }


@contextmanager
def emulated_environment(extra_env: dict[str, str] | None = None) -> Iterator[Emulators]:
    """Fresh emulators on free ports, the process environment pointing at them."""
    from shared import wiring
    from shared.config import settings

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as tmp, Emulators(Path(tmp)) as emu:
        os.environ.update(emu.env())
        os.environ["LAPOR_TOKEN_SECRET"] = BENCH_SECRET
        os.environ.update(extra_env or {})
        ensure_pubsub(emu.pubsub_host, emu.project)
        settings.cache_clear()
        wiring.reset()
        try:
            yield emu
        finally:
            wiring.reset()
            settings.cache_clear()
            os.environ.clear()
            os.environ.update(saved)


def import_time_ms(statement: str, runs: int = 7) -> float:
    """Median wall time of ``statement`` in a fresh interpreter (cold imports, warm disk)."""
    probe = (
        "import time; t = time.perf_counter(); "
        f"{statement}; print((time.perf_counter() - t) * 1000)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", probe],
                cwd=REPO_ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(runs)
    ]
    return round(statistics.median(samples), 1)


def sample_draft() -> Any:
    """A Cianjur road complaint, the report every benchmark files."""
    from tests.builders import a_draft

    return a_draft()


def write_results(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path


@contextmanager
def logs_to_file(name: str) -> Iterator[Path]:
    """Send this process's log lines (JSON, as the functions write them) and Python
    warnings to ``bench/results/logs/<name>.log`` for the block, not to the terminal."""
    from shared.logging import setup_logging

    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"{name}.log"
    with path.open("w", encoding="utf-8") as log:
        setup_logging(stream=log)
        logging.captureWarnings(True)
        try:
            yield path
        finally:
            logging.captureWarnings(False)
            setup_logging(stream=sys.stdout)


def announce(name: str, what: str) -> None:
    """The line that says what is running, before a benchmark's silent minutes."""
    print(f"\n== {name}: {what} ==", flush=True)


def print_table(name: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """One aligned table, then where the full figures and the logs are."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))

    print(line(header).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row).rstrip())
    results, logs = RESULTS.relative_to(REPO_ROOT), LOGS.relative_to(REPO_ROOT)
    print(f"figures: {results}/{name}.json   logs: {logs}/{name}*.log", flush=True)


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def counted(value: float, noun: str) -> str:
    """``1 read``, ``5.7 writes``: a Firestore figure as the table reads it."""
    return f"{value:g} {noun}" if value == 1 else f"{value:g} {noun}s"
