"""Attachments benchmark: a report with two 3 MB phone photos against one without.

Both go through the submit function's hosted form (multipart, as a phone without
JavaScript sends it) over functions-framework's test client, interleaved so the
machine's load weighs on both, against the real emulators (Firestore, Pub/Sub and
fake-gcs-server for the bucket). Per report: latency, Firestore reads, writes and
commits (the instance's store statistics), and the storage operations the instance's
blob store sent (puts, copies, lookups, signs). Apart from the requests, the time one
photo takes to be checked and drawn again (shared.usecases.attachments.check_uploads)
is measured on the same photos.

The photos are made here (tests.functional.evidence_support.phone_photo): 4000 x 3000
(a 12 MP phone camera), a colour gradient under Gaussian grain (what makes a real
photo's JPEG large), JPEG quality 85, about 3 MB each, with the EXIF a phone writes
(make, model, software, time, GPS).
"""

from __future__ import annotations

import io
import secrets
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
    write_results,
)

REPORTS = 40
WARMUP = 3
PHOTOS_PER_REPORT = 2
# Distinct photos made once and reused: a fresh nonce makes every report new, and
# making a 12 MP photo costs a second.
PHOTO_POOL = 4
PHOTO_SIZE = (4000, 3000)


def _form_fields() -> dict[str, str]:
    from shared.web.openapi import form_example

    fields = form_example()
    # Each report its own visit of the form: a fresh nonce is a new submission.
    fields["nonce"] = secrets.token_urlsafe(18)
    return fields


def _submit(client: Any, i: int, photos: list[bytes]) -> tuple[float, float]:
    """One form submission: wall milliseconds, and the CPU milliseconds of the thread
    the function ran in (the test client runs it in this one), which the machine's
    load barely changes."""
    data: dict[str, Any] = _form_fields()
    if photos:
        data["berkas"] = [
            (io.BytesIO(photo), f"IMG_20261130_08{n:02d}.jpg", "image/jpeg")
            for n, photo in enumerate(photos)
        ]
    # Each from its own address, as citizens are; the rate limit stays at its default.
    headers = {"X-Forwarded-For": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}
    started, cpu = time.perf_counter(), time.thread_time()
    response = client.post("/", data=data, headers=headers, content_type="multipart/form-data")
    elapsed, cpu_ms = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
    if response.status_code != 303:
        raise RuntimeError(f"the form answered {response.status_code}: {response.text[:500]}")
    return elapsed, cpu_ms


def _per_report(costs: list[Any], names: tuple[str, ...]) -> dict[str, float]:
    return {name: sum(getattr(c, name) for c in costs) / len(costs) for name in names}


def _checker() -> Any:
    """One photo through check_uploads (type, limits, scan, redraw, thumbnail): the
    wall and CPU milliseconds, and the bytes it would store."""
    from shared import wiring
    from shared.config import settings
    from shared.usecases.attachments import Upload, check_uploads, limits_from

    limits, scanner = limits_from(settings()), wiring.malware_scanner()

    def check(photo: bytes) -> tuple[float, float, int]:
        started, cpu = time.perf_counter(), time.thread_time()
        checked = check_uploads([Upload("IMG_20261130_0800.jpg", photo)], limits, scanner)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_ms = (time.thread_time() - cpu) * 1000
        if not checked.all_accepted:
            raise RuntimeError(f"the bench's photo was refused: {checked.refused}")
        return elapsed, cpu_ms, len(checked.accepted[0].data)

    return check


def _machine() -> dict[str, Any]:
    """Where and when: the figures mean little without the load they ran under."""
    import datetime as dt
    import os
    import platform

    return {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def run() -> dict[str, Any]:
    import functions_framework

    from shared import wiring
    from tests.functional.evidence_support import phone_photo

    announce(
        "attachments",
        f"{REPORTS} form submissions with {PHOTOS_PER_REPORT} photos of ~3 MB and "
        f"{REPORTS} without, interleaved",
    )
    photos = [phone_photo(PHOTO_SIZE, index=n) for n in range(PHOTO_POOL)]
    load_before = _machine()
    with logs_to_file("attachments"), emulated_environment({"LAPOR_TRUSTED_PROXY_HOPS": "1"}):
        app = functions_framework.create_app(target="submit", source="functions/submit/main.py")
        client = app.test_client()
        store, blobs = wiring.report_store().stats, wiring.blob_store().stats
        check = _checker()
        runs: dict[str, dict[str, list[Any]]] = {
            kind: {"ms": [], "cpu_ms": [], "firestore": [], "storage": []}
            for kind in ("with", "without")
        }
        check_ms: list[float] = []
        check_cpu_ms: list[float] = []
        stored_bytes: list[int] = []
        # Interleaved, so the machine's load weighs on all three alike.
        for i in range(WARMUP + REPORTS):
            for kind in ("with", "without"):
                attached = (
                    [
                        photos[(i * PHOTOS_PER_REPORT + n) % PHOTO_POOL]
                        for n in range(PHOTOS_PER_REPORT)
                    ]
                    if kind == "with"
                    else []
                )
                store_before, blobs_before = store.snapshot(), blobs.snapshot()
                elapsed, cpu_ms = _submit(client, 2 * i + (kind == "with"), attached)
                if i >= WARMUP:
                    runs[kind]["ms"].append(elapsed)
                    runs[kind]["cpu_ms"].append(cpu_ms)
                    runs[kind]["firestore"].append(store.since(store_before))
                    runs[kind]["storage"].append(blobs.since(blobs_before))
            checked_ms, checked_cpu_ms, size = check(photos[i % PHOTO_POOL])
            if i >= WARMUP:
                check_ms.append(checked_ms)
                check_cpu_ms.append(checked_cpu_ms)
                stored_bytes.append(size)

    storage_names = ("puts", "copies", "lookups", "gets", "deletes", "signs")
    figures: dict[str, Any] = {
        "reports_each": REPORTS,
        "method": (
            "sequential POST / (the hosted form, multipart/form-data) through "
            "functions-framework's test client (in-process, no socket) against the "
            "Firestore, Pub/Sub and fake-gcs-server emulators; a report with "
            f"{PHOTOS_PER_REPORT} photos interleaved with one without and with one photo "
            "through check_uploads alone, each report from its own client address; counts "
            "from the instance's store and blob store statistics"
        ),
        "machine": {**load_before, "load_average_1m_after": _machine()["load_average_1m"]},
        "photo": {
            "pixels": f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}",
            "mean_bytes_sent": round(sum(map(len, photos)) / len(photos)),
            "mean_bytes_stored": round(sum(stored_bytes) / len(stored_bytes)),
            "exif": "Make, Model, DateTime, Software, GPSInfo",
        },
        "check_and_redraw_per_photo": {
            **percentiles(check_ms),
            "cpu": percentiles(check_cpu_ms),
        },
    }
    for kind, measured in runs.items():
        figures[f"{kind}_photos"] = {
            **percentiles(measured["ms"]),
            "cpu": percentiles(measured["cpu_ms"]),
            "firestore_per_report": _per_report(
                measured["firestore"], ("reads", "writes", "commits")
            ),
            "storage_per_report": _per_report(measured["storage"], storage_names),
        }
    write_results("attachments", figures)
    _print_figures(figures)
    return figures


def _print_figures(figures: dict[str, Any]) -> None:
    rows = []
    for kind in ("without", "with"):
        measured = figures[f"{kind}_photos"]
        firestore, storage = measured["firestore_per_report"], measured["storage_per_report"]
        rows.append(
            (
                f"submit {kind} {PHOTOS_PER_REPORT} photos",
                f"{ms(measured['p50_ms'])} / {ms(measured['p95_ms'])}",
                ms(measured["cpu"]["p50_ms"]),
                f"{counted(firestore['reads'], 'read')}, {counted(firestore['writes'], 'write')},"
                f" {counted(firestore['commits'], 'commit')}",
                f"{storage['puts']:g} puts, {storage['copies']:g} copies,"
                f" {storage['lookups']:g} lookups, {storage['signs']:g} signs",
            )
        )
    check = figures["check_and_redraw_per_photo"]
    rows.append(
        (
            "check + redraw one ~3 MB photo",
            f"{ms(check['p50_ms'])} / {ms(check['p95_ms'])}",
            ms(check["cpu"]["p50_ms"]),
            "",
            "",
        )
    )
    machine = figures["machine"]
    rows.append(
        (
            f"load average on {machine['cpus']} CPUs, before / after",
            f"{machine['load_average_1m']:g} / {machine['load_average_1m_after']:g}",
            "",
            "",
            "",
        )
    )
    header = ("figure", "p50 / p95", "CPU p50", "Firestore per report", "storage per report")
    print_table("attachments", header, rows)
