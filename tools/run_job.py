"""Run a scheduled job of the local stack now, as Cloud Scheduler would, and print its
JSON result.

    python -m tools.run_job escalate                     # today's escalation run
    python -m tools.run_job escalate --date 2026-03-02   # the run for that day
    python -m tools.run_job report --date 2026-03-01     # the figures of that day
    python -m tools.run_job digest                       # this hour's agency digests
    python -m tools.run_job retention                    # today's erasure of expired identities

Needs the stack that ``make run`` starts: the function's URL comes from
``LAPOR_<NAME>_URL``, else from the ``urls.json`` the stack writes in its data
directory (``LAPOR_DATA_DIR``, default ``.lapor``). Without ``--date`` the function
takes the day itself (the escalation run today, the report yesterday, in Asia/Jakarta);
the digest always runs for the current hour.
Exits 1 when the function refuses or cannot be reached.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.stack import REPO_ROOT, URLS_FILE

JOBS = ("escalate", "report", "digest", "retention")


def function_url(name: str, environ: Mapping[str, str]) -> str:
    variable = f"LAPOR_{name.upper()}_URL"
    if environ.get(variable):
        return environ[variable]
    data_dir = Path(environ.get("LAPOR_DATA_DIR") or REPO_ROOT / ".lapor")
    urls_path = data_dir / URLS_FILE
    try:
        urls = json.loads(urls_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SystemExit(
            f"run_job: no running stack found ({urls_path} is missing): start it with "
            f"`make run`, or set {variable}"
        ) from None
    if name not in urls:
        raise SystemExit(f"run_job: the running stack has no function {name!r}")
    return str(urls[name])


def run_job(name: str, day: str | None, environ: Mapping[str, str]) -> tuple[int, str]:
    """POST the job now; its status and body."""
    body = json.dumps({"date": day}).encode() if day else b""
    request = urllib.request.Request(
        function_url(name, environ).rstrip("/") + "/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"run_job: {name} did not answer: {exc}") from None


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.run_job", description=__doc__.split("\n")[0]
    )
    parser.add_argument("job", choices=JOBS)
    parser.add_argument("--date", help="the day to run for, YYYY-MM-DD")
    args = parser.parse_args(argv)
    status, text = run_job(args.job, args.date, os.environ)
    with contextlib.suppress(ValueError):  # a proxy's error page, say: print it as it is
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    print(text)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
