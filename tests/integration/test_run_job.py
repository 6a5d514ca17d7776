"""``python -m tools.run_job``: finds the running function, posts the day, prints the
answer, and says so when it is refused or nothing runs. A real local HTTP server
stands in for the function (the whole stack: tests/e2e/test_daily_escalation_*)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tools.run_job import main

SEEN: list[tuple[str, bytes]] = []


@pytest.fixture
def job_url() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            SEEN.append((self.path, body))
            bad = b"2026-02-30" in body
            answer = (
                b'{"type": "urn:lapor:problem:invalid_run_date"}' if bad else b'{"run_date": "x"}'
            )
            self.send_response(400 if bad else 200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    SEEN.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_day_is_posted_and_the_answer_printed(
    job_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAPOR_ESCALATE_URL", job_url)
    assert main(["escalate", "--date", "2026-03-02"]) == 0
    assert SEEN == [("/", b'{"date": "2026-03-02"}')]
    assert json.loads(capsys.readouterr().out) == {"run_date": "x"}
    assert main(["escalate"]) == 0
    assert SEEN[-1] == ("/", b"")  # no day named: the function takes today


def test_the_url_comes_from_the_stacks_urls_file(
    job_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "urls.json").write_text(json.dumps({"report": job_url}))
    monkeypatch.setenv("LAPOR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LAPOR_REPORT_URL", raising=False)
    assert main(["report", "--date", "2026-03-01"]) == 0
    assert SEEN == [("/", b'{"date": "2026-03-01"}')]


def test_a_refusal_exits_1_and_no_stack_says_how_to_start_one(
    job_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_ESCALATE_URL", job_url)
    assert main(["escalate", "--date", "2026-02-30"]) == 1
    monkeypatch.delenv("LAPOR_ESCALATE_URL")
    monkeypatch.setenv("LAPOR_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match="make run"):
        main(["escalate"])
