"""tools/verify_timeline.py --anchor: the anchor read from a file or fetched from its
address (a loopback HTTP server), and a truncated export refused against it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_timeline_anchor import anchor_of, export_of
from tools import verify_timeline


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over ``tmp_path``: (its base URL, the folder)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_tool_takes_the_anchor_from_a_file_or_an_address(
    served: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, folder = served
    export = export_of("AAA-AAA-AAA")
    (folder / "export.json").write_text(json.dumps(export))
    (folder / "2026-10-08.json").write_text(json.dumps(anchor_of(export)))
    truncated = {**export, "events": export["events"][:-1], "head": export["events"][-2]["hash"]}
    (folder / "truncated.json").write_text(json.dumps(truncated))

    assert (
        verify_timeline.main([str(folder / "export.json"), "--anchor", f"{base}/2026-10-08.json"])
        == 0
    )
    assert "in the anchor of 2026-10-08" in capsys.readouterr().out
    by_file = [str(folder / "truncated.json"), "--anchor", str(folder / "2026-10-08.json")]
    assert verify_timeline.main(by_file) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out
    assert verify_timeline.main([str(folder / "export.json"), "--anchor", f"{base}/none.json"]) == 1
    assert "cannot read the anchor" in capsys.readouterr().out
