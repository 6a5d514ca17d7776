"""The day's published figures on the local stack, shared by the end-to-end tests."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import Any

import httpx

from shared.config import Settings
from shared.web.schemas import REPORT_EXAMPLE
from tests.e2e.test_report_reaches_the_agency_and_back import wait_for_webhook
from tools.stack import REPO_ROOT, LocalStack


def today() -> dt.date:
    """Today in Asia/Jakarta: the day the stack's counters file today's events under."""
    return Settings(token_secret="x" * 16).calendar().local_date(dt.datetime.now(dt.UTC))


def routed_report(stack: LocalStack, **changes: Any) -> str:
    """A report sent through the citizen API and routed by the stack; its code."""
    created = httpx.post(
        f"{stack.urls['submit']}/api/v1/reports", json={**REPORT_EXAMPLE, **changes}, timeout=10
    )
    assert created.status_code == 201, created.text
    code = str(created.json()["tracking_code"])
    wait_for_webhook(stack, code)
    return code


def run_report(stack: LocalStack, day: dt.date) -> dict[str, Any]:
    """The README's command: ``python -m tools.run_job report --date D``; its answer."""
    command = [sys.executable, "-m", "tools.run_job", "report", "--date", day.isoformat()]
    env = {**os.environ, "LAPOR_DATA_DIR": str(stack.data_dir)}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
