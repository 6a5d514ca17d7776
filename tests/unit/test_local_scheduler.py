"""Which schedules the local stand-in for Cloud Scheduler runs, and when.

That it calls them at their time is tested in tests/integration/test_local_scheduler.py.
"""

from __future__ import annotations

import datetime as dt

from shared.topology import SCHEDULES, Schedule
from tools.stack import LocalJob, Scheduler, schedule_time

JAKARTA = dt.timezone(dt.timedelta(hours=7))


def test_the_sweep_runs_every_five_minutes_in_production_and_locally() -> None:
    (sweep,) = [s for s in SCHEDULES if s.function == "sweep"]
    assert (sweep.method, sweep.interval_s, sweep.cron) == ("POST", 300, "*/5 * * * *")


def test_the_escalation_run_is_daily_at_seven_in_jakarta_by_cron_locally_too() -> None:
    (run,) = [s for s in SCHEDULES if s.function == "escalate"]
    assert (run.method, run.path, run.cron, run.time_zone) == (
        "POST", "/", "0 7 * * *", "Asia/Jakarta",
    )  # fmt: skip
    assert run.interval_s is None
    (job,) = Scheduler.for_stack({"escalate": "http://127.0.0.1:1"}, {}).jobs
    assert job == LocalJob("POST", "http://127.0.0.1:1/", "0 7 * * *", "Asia/Jakarta", None)


def test_the_figures_of_the_day_before_are_made_daily_at_one_in_jakarta() -> None:
    (run,) = [s for s in SCHEDULES if s.function == "report"]
    assert (run.method, run.path, run.cron, run.time_zone, run.interval_s) == (
        "POST", "/", "0 1 * * *", "Asia/Jakarta", None,
    )  # fmt: skip


def test_a_cron_job_runs_next_at_its_time_in_its_zone() -> None:
    job = LocalJob("POST", "http://127.0.0.1:1/", "0 7 * * *", "Asia/Jakarta")
    # 06:59 in Jakarta is 23:59 UTC the day before.
    before = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC)
    at_seven = job.next_run(before)
    assert at_seven == dt.datetime(2026, 3, 2, 7, 0, tzinfo=JAKARTA)
    assert job.next_run(at_seven) == dt.datetime(2026, 3, 3, 7, 0, tzinfo=JAKARTA)
    # What the function reads: the scheduled time in UTC, as Cloud Scheduler sends it.
    assert schedule_time(at_seven) == "2026-03-02T00:00:00Z"


def test_a_schedule_whose_function_does_not_run_is_skipped() -> None:
    scheduler = Scheduler.for_stack({"submit": "http://127.0.0.1:1"}, {})
    assert scheduler.jobs == []


def test_an_interval_set_in_the_environment_overrides_the_schedule() -> None:
    schedules = [
        Schedule("sweep", "/run", "POST", "*/5 * * * *", interval_s=300),
        Schedule("escalate", "/", "POST", "0 7 * * *"),
    ]
    scheduler = Scheduler.for_stack(
        {"sweep": "http://127.0.0.1:1/", "escalate": "http://127.0.0.1:2"},
        {"LAPOR_SWEEP_INTERVAL_S": "10", "LAPOR_ESCALATE_INTERVAL_S": "60"},
        schedules=schedules,
    )
    assert [(job.url, job.interval_s) for job in scheduler.jobs] == [
        ("http://127.0.0.1:1/run", 10.0),
        ("http://127.0.0.1:2/", 60.0),
    ]
