"""The daily escalation run on the stack as ``make run`` starts it, triggered with the
README's command: the demo agencies' receiver gets the signed escalations.

An aspiration (5 working days) is submitted through the citizen API and routed by the
stack; ``python -m tools.run_job escalate --date D`` then runs the day six working
days after its disposition, as the run of that day: the reminder (one working day
before the deadline) and the overdue tier (the day after it) fire in one catch-up.
Six working days touch nothing else in the shared stack: no resolved report closes
(10 working days) and no hold is archived (10 working days).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx

from shared.config import Settings
from shared.web.schemas import REPORT_EXAMPLE
from tests.e2e.test_report_reaches_the_agency_and_back import wait_for_webhook
from tools.stack import REPO_ROOT, LocalStack


def escalations_received(stack: LocalStack, tracking_code: str, count: int) -> list[dict[str, Any]]:
    """The receiver's log lines of report.escalated webhooks for this report."""
    deadline = time.monotonic() + 60
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        lines = stack.receiver_log.read_text().splitlines() if stack.receiver_log.exists() else []
        found = [
            entry
            for entry in (json.loads(line) for line in lines if line.startswith("{"))
            if entry.get("tracking_code") == tracking_code and entry["type"] == "report.escalated"
        ]
        if len(found) >= count:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{len(found)} of {count} escalations for {tracking_code}: {found}")


def test_the_run_for_a_later_day_escalates_and_the_agencies_receive_it_signed(
    local_stack: LocalStack,
) -> None:
    body = dict(REPORT_EXAMPLE, type="aspirasi", title="Usul trotoar di depan sekolah")
    created = httpx.post(f"{local_stack.urls['submit']}/api/v1/reports", json=body, timeout=10)
    assert created.status_code == 201, created.text
    code = created.json()["tracking_code"]
    calendar = Settings(token_secret="x" * 16).calendar()
    routed_on = calendar.local_date(dt.datetime.now(dt.UTC))
    day = calendar.add_working_days(routed_on, 6)

    wait_for_webhook(local_stack, code)  # routed: its resolution clock runs

    command = [sys.executable, "-m", "tools.run_job", "escalate", "--date", day.isoformat()]
    env = {**os.environ, "LAPOR_DATA_DIR": str(local_stack.data_dir)}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    escalated = json.loads(done.stdout)["escalated"]

    assert escalated.get("reminder", 0) >= 1 and escalated.get("overdue", 0) >= 1
    received = escalations_received(local_stack, code, 3)
    assert all(entry["verified"] for entry in received), received
    assert sorted(entry["agency_id"] for entry in received) == [
        "dpupr-cianjur", "dpupr-cianjur", "pemkab-cianjur",
    ]  # fmt: skip
