"""Which schedules the local stand-in for Cloud Scheduler runs, and how often.

That it calls them at their interval is tested in tests/integration/test_local_scheduler.py.
"""

from __future__ import annotations

from shared.topology import SCHEDULES, Schedule
from tools.stack import Scheduler


def test_the_sweep_runs_every_five_minutes_in_production_and_locally() -> None:
    (sweep,) = [s for s in SCHEDULES if s.function == "sweep"]
    assert (sweep.method, sweep.interval_s, sweep.cron) == ("POST", 300, "*/5 * * * *")


def test_a_schedule_whose_function_does_not_run_is_skipped() -> None:
    scheduler = Scheduler.for_stack({"submit": "http://127.0.0.1:1"}, {})
    assert scheduler.jobs == []


def test_an_interval_set_in_the_environment_overrides_the_schedule() -> None:
    schedules = [Schedule("sweep", "/run", "POST", 300, "*/5 * * * *")]
    scheduler = Scheduler.for_stack(
        {"sweep": "http://127.0.0.1:1/"}, {"LAPOR_SWEEP_INTERVAL_S": "10"}, schedules=schedules
    )
    assert scheduler.jobs == [("POST", "http://127.0.0.1:1/run", 10.0)]
