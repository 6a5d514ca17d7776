"""What every benchmark needs: emulators it owns, percentiles, and a results file."""

from __future__ import annotations

import json
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
    from shared.domain.report import Region, ReportDraft, ReportType

    return ReportDraft(
        ReportType.COMPLAINT,
        "Jalan berlubang di depan pasar",
        "Lubang besar di depan pasar membahayakan pengendara motor setiap malam.",
        "infrastruktur.jalan",
        Region("32", "32.03"),
        None,
        None,
        False,
        False,
    )


def write_results(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\n== {name} ==")
    print(json.dumps(figures, indent=2, sort_keys=True))
    print(f"written to {path.relative_to(REPO_ROOT)}")
    return path
