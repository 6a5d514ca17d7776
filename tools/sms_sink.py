"""A local SMS gateway that speaks Infobip's SMS API and sends nothing anywhere.

For ``make run`` and tests: the functions' LAPOR_SMS_BASE_URL points here, and the
SMS adapter (shared/adapters/sms.py) talks to it exactly as to Infobip:

- ``POST /sms/3/messages`` with ``Authorization: App <key>``: a wrong or missing key
  answers 401, a body that is not a request 400 (``errorCode`` ``E400`` with its
  ``violations``), both in Infobip's error shape; otherwise 200 with one entry per
  destination: ``PENDING_ACCEPTED`` (group 1) for a kept text, ``REJECTED_DESTINATION``
  (group 5, id 52) for a number that is not international digits, and
  ``REJECTED_DUPLICATE_MESSAGE_ID`` (group 5, id 23) for a message id already kept;
- ``GET /`` shows the texts kept, newest first, with their segments and encoding;
- ``GET /messages`` gives them as JSON.

Kept texts are JSON lines in ``<data dir>/sms.jsonl`` (read back at start, so message
ids stay unique across restarts). Listens on 127.0.0.1 only.

    python -m tools.sms_sink --port 8092 --data-dir .lapor --api-key <key>

As a library (tests): :class:`SmsSink`, with ``respond`` to script an answer (a
status code and a delay) before the request is looked at, e.g. 503 for an outage.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from shared.usecases.sms import sms_size
from tools.local_server import ThreadedHttpServer, serve_until_interrupted

SEND_PATH = "/sms/3/messages"
LOG_FILE = "sms.jsonl"
_INTERNATIONAL = re.compile(r"^[1-9]\d{6,14}$")  # E.164 without the plus
MAX_BODY = 1024 * 1024

ACCEPTED = {
    "groupId": 1,
    "groupName": "PENDING",
    "id": 26,
    "name": "PENDING_ACCEPTED",
    "description": "Message sent to next instance",
}
REJECTED_DESTINATION = {
    "groupId": 5,
    "groupName": "REJECTED",
    "id": 52,
    "name": "REJECTED_DESTINATION",
    "description": "Invalid destination address",
}
REJECTED_DUPLICATE = {
    "groupId": 5,
    "groupName": "REJECTED",
    "id": 23,
    "name": "REJECTED_DUPLICATE_MESSAGE_ID",
    "description": "Duplicate message ID",
}


@dataclass(frozen=True)
class SmsKept:
    """One text the sink accepted."""

    message_id: str
    to: str
    sender: str | None
    text: str
    encoding: str
    segments: int
    received_at: float


# (status code, seconds to wait) to answer instead, or None to answer as Infobip would.
Respond = Callable[[Mapping[str, Any]], tuple[int, float] | None]


def api_error(
    code: str, description: str, action: str, violations: Sequence[Any] = ()
) -> dict[str, Any]:
    """Infobip's error body."""
    return {
        "errorCode": code,
        "description": description,
        "action": action,
        "violations": list(violations),
        "resources": [],
    }


def _request_violations(body: Any) -> list[dict[str, str]]:
    """What makes ``body`` no send request, as Infobip lists it (property, violation)."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return [{"property": "messages", "violation": "must not be empty"}]
    problems: list[dict[str, str]] = []
    if not body["messages"]:
        problems.append({"property": "messages", "violation": "must not be empty"})
    for i, message in enumerate(body["messages"]):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            problems.append({"property": where, "violation": "must be an object"})
            continue
        destinations = message.get("destinations")
        if not isinstance(destinations, list) or not destinations:
            problems.append({"property": f"{where}.destinations", "violation": "must not be empty"})
        elif not all(isinstance(d, dict) and isinstance(d.get("to"), str) for d in destinations):
            problems.append(
                {"property": f"{where}.destinations[].to", "violation": "must not be null"}
            )
        content = message.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("text"), str):
            problems.append({"property": f"{where}.content.text", "violation": "must not be null"})
    return problems


class SmsSink(ThreadedHttpServer):
    """An HTTP server on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(
        self,
        api_key: str,
        data_dir: Path | None = None,
        port: int = 0,
        respond: Respond | None = None,
    ) -> None:
        self.api_key = api_key
        self.log_path = Path(data_dir) / LOG_FILE if data_dir is not None else None
        self.respond = respond
        self.kept: list[SmsKept] = self._read_log()
        self._ids = {kept.message_id for kept in self.kept}
        self._lock = threading.Lock()
        self.on_keep: Callable[[SmsKept], None] | None = None
        super().__init__(self._handler_class(), port, name="sms-sink")

    def _read_log(self) -> list[SmsKept]:
        if self.log_path is None or not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [SmsKept(**json.loads(line)) for line in lines if line.strip()]

    def snapshot(self) -> list[SmsKept]:
        with self._lock:
            return list(self.kept)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SmsKept]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.snapshot()
            if len(seen) >= count:
                return seen
            time.sleep(0.05)
        return self.snapshot()

    def send(self, headers: Mapping[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        """Infobip's answer to one send request (the HTTP handler's and tests' entry)."""
        if headers.get("authorization") != f"App {self.api_key}":
            return 401, api_error(
                "E401", "Unauthorized", "Check the API key in the Authorization header."
            )
        violations = _request_violations(body)
        if violations:
            return 400, api_error(
                "E400",
                "Request cannot be processed.",
                "Check the syntax, violations and adjust the request.",
                violations,
            )
        answers = []
        for message in body["messages"]:
            text = message["content"]["text"]
            for destination in message["destinations"]:
                message_id = str(destination.get("messageId") or uuid.uuid4())
                answers.append(
                    self._take(message_id, destination["to"], message.get("sender"), text)
                )
        return 200, {"bulkId": str(uuid.uuid4()), "messages": answers}

    def _take(self, message_id: str, to: str, sender: str | None, text: str) -> dict[str, Any]:
        size = sms_size(text)
        answer: dict[str, Any] = {
            "messageId": message_id,
            "destination": to,
            "details": {"messageCount": size.segments},
        }
        if not _INTERNATIONAL.fullmatch(to):
            return answer | {"status": REJECTED_DESTINATION}
        kept = SmsKept(message_id, to, sender, text, size.encoding, size.segments, time.time())
        with self._lock:
            if message_id in self._ids:
                return answer | {"status": REJECTED_DUPLICATE}
            self._ids.add(message_id)
            self.kept.append(kept)
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(asdict(kept), ensure_ascii=False) + "\n")
        if self.on_keep is not None:
            self.on_keep(kept)
        return answer | {"status": ACCEPTED}

    def page(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td class=t>{}</td></tr>".format(
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(kept.received_at)),
                html.escape(kept.to),
                html.escape(kept.message_id),
                kept.segments,
                kept.encoding,
                html.escape(kept.text),
            )
            for kept in reversed(self.snapshot())
        )
        return (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            "<title>SMS sink</title><style>body{font-family:sans-serif;margin:1rem}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem;"
            "vertical-align:top;text-align:left}.t{white-space:pre-wrap;max-width:40rem}</style>"
            f"<h1>SMS gateway (local sink)</h1><p>{len(self.kept)} texts kept, newest first. "
            "Nothing here left this machine.</p><table><tr><th>received</th><th>to</th>"
            f"<th>message id</th><th>segments</th><th>text</th></tr>{rows}</table></html>"
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def _json(self, status: int, payload: Any) -> None:
                self._answer(status, json.dumps(payload).encode(), "application/json")

            def do_GET(self) -> None:
                if self.path == "/":
                    self._answer(200, sink.page().encode(), "text/html; charset=utf-8")
                elif self.path == "/messages":
                    self._json(200, [asdict(kept) for kept in sink.snapshot()])
                else:
                    self._json(404, api_error("E404", "Not found", "Check the path."))

            def do_POST(self) -> None:
                length = min(int(self.headers.get("content-length") or 0), MAX_BODY)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                scripted = sink.respond(headers) if sink.respond is not None else None
                if scripted is not None:
                    status, delay = scripted
                    time.sleep(delay)
                    self._json(
                        status, api_error(f"E{status}", "Scripted answer", "Try again later.")
                    )
                    return
                if self.path != SEND_PATH:
                    self._json(404, api_error("E404", "Not found", "Check the path."))
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                status, payload = sink.send(headers, body)
                self._json(status, payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sms_sink")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("LAPOR_SMS_SINK_PORT", 8092))
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("LAPOR_DATA_DIR", ".lapor"))
    )
    parser.add_argument("--api-key", default=os.environ.get("LAPOR_SMS_API_KEY", ""))
    args = parser.parse_args(argv)
    if not args.api_key:
        print(
            "sms sink: give the API key it accepts (--api-key or LAPOR_SMS_API_KEY)",
            file=sys.stderr,
        )
        return 2
    sink = SmsSink(args.api_key, data_dir=args.data_dir, port=args.port)

    def show(kept: SmsKept) -> None:
        line = {"message_id": kept.message_id, "segments": kept.segments}
        print(json.dumps(line), flush=True)

    sink.on_keep = show
    sink.start()
    print(f"sms sink on {sink.url}{SEND_PATH}, texts on {sink.url}/", flush=True)
    return serve_until_interrupted(sink)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
