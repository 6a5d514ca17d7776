"""checkov, a static analyser of Terraform, finds no failed check in infra/.

A check may be skipped only with a written reason beside the resource it concerns
(``# checkov:skip=CKV_…:why``); this test fails on a skip without one, so a reason is
never optional. checkov lives in its own virtual environment (``make test`` creates
``.venv-checkov``) because it pins versions of libraries the functions also use.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _run_checkov() -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make test`, which installs it", pytrace=False)
    # --skip-download: no network; the checks themselves ship with the package.
    done = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(INFRA),
            "--framework",
            "terraform",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if not done.stdout.strip():
        pytest.fail(f"checkov printed nothing (exit {done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_finds_no_failed_check_in_infra() -> None:
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['resource']} ({check['file_path']})"
        for report in _run_checkov()
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "checkov failed checks (fix them, or skip with a reason):\n" + "\n".join(
        failed
    )


def test_every_checkov_skip_gives_its_reason() -> None:
    skips = [
        (path.relative_to(REPO_ROOT), match.group(1), (match.group(2) or "").strip())
        for path in sorted(INFRA.rglob("*.tf"))
        for match in SKIP.finditer(path.read_text())
    ]
    assert skips, "expected the documented skips in infra/"
    unexplained = [f"{path}: {check}" for path, check, why in skips if len(why) < 20]
    assert not unexplained, f"checkov skips without a written reason: {unexplained}"
