"""The SMS adapter against the real sink (Infobip's API, on 127.0.0.1): what each answer
means, one text per notification however often it is sent, and the sink as the local
stack starts it."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.sms import InfobipSmsSender
from shared.config import Settings
from shared.ports import OutgoingSms, SendOutcome
from shared.usecases.sms import KINDS, compose_sms, short_private_link
from tools.sms_sink import SmsSink
from tools.stack import LocalStack, free_port

KEY = "sink-test-key"
PHONE = "+6281234567890"


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmsSink]:
    with SmsSink(KEY, data_dir=tmp_path) as running:
        yield running


def sender(sink: SmsSink, key: str = KEY, timeout_s: float = 5.0) -> InfobipSmsSender:
    return InfobipSmsSender(sink.url, key, "LAPOR", timeout_s)


def text(reference: str, body: str = "LAPOR!: uji") -> OutgoingSms:
    return OutgoingSms(PHONE, body, reference)


def test_a_text_the_gateway_takes_is_delivered_and_kept(sink: SmsSink, tmp_path: Path) -> None:
    result = sender(sink).send(text("r1.1.reporter", "LAPOR!: Laporan diterima"))
    assert (result.outcome, result.status_code, result.error) == (SendOutcome.DELIVERED, 200, None)
    [kept] = sink.snapshot()
    assert (kept.to, kept.sender, kept.message_id) == ("6281234567890", "LAPOR", "r1.1.reporter")
    assert (kept.text, kept.encoding, kept.segments) == ("LAPOR!: Laporan diterima", "GSM-7", 1)
    [line] = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["message_id"] == "r1.1.reporter"


def test_the_same_notification_sent_again_is_delivered_but_kept_once(sink: SmsSink) -> None:
    first = sender(sink).send(text("r1.2.reporter"))
    again = sender(sink).send(text("r1.2.reporter"))  # a redelivered Pub/Sub message
    assert first.outcome is again.outcome is SendOutcome.DELIVERED
    assert len(sink.snapshot()) == 1


def test_a_malformed_number_is_a_permanent_refusal(sink: SmsSink) -> None:
    result = sender(sink).send(OutgoingSms("+62-abc", "LAPOR!: uji", "r1.3.reporter"))
    assert result.outcome is SendOutcome.PERMANENT and result.status_code == 200
    assert result.error is not None and result.error.startswith("REJECTED_DESTINATION")
    assert sink.snapshot() == []


def test_a_wrong_api_key_is_a_permanent_refusal(sink: SmsSink) -> None:
    result = sender(sink, key="not-the-key").send(text("r1.4.reporter"))
    assert (result.outcome, result.status_code) == (SendOutcome.PERMANENT, 401)
    assert result.error == "HTTP 401 E401: Unauthorized"


@pytest.mark.parametrize("status", [503, 500, 429])
def test_a_gateway_error_or_throttling_is_retryable(sink: SmsSink, status: int) -> None:
    sink.respond = lambda headers: (status, 0.0)
    result = sender(sink).send(text("r1.5.reporter"))
    assert (result.outcome, result.status_code) == (SendOutcome.RETRYABLE, status)
    assert result.error is not None and result.error.startswith(f"HTTP {status}")
    sink.respond = None
    assert sender(sink).send(text("r1.5.reporter")).outcome is SendOutcome.DELIVERED


def test_a_slow_gateway_is_retryable(sink: SmsSink) -> None:
    sink.respond = lambda headers: (200, 1.5)
    result = sender(sink, timeout_s=0.3).send(text("r1.6.reporter"))
    assert result.outcome is SendOutcome.RETRYABLE and result.status_code is None
    assert result.error is not None and "timeout" in result.error


def test_a_gateway_that_is_down_is_retryable() -> None:
    down = InfobipSmsSender(f"http://127.0.0.1:{free_port()}", KEY, "LAPOR", 2.0)
    result = down.send(text("r1.7.reporter"))
    assert result.outcome is SendOutcome.RETRYABLE and result.status_code is None
    assert result.error is not None and "ConnectError" in result.error


def test_no_gateway_configured_is_permanent_without_a_request() -> None:
    result = InfobipSmsSender("", KEY, "LAPOR", 2.0).send(text("r1.8.reporter"))
    assert result.outcome is SendOutcome.PERMANENT and result.status_code is None


def test_a_body_that_is_no_request_is_refused_as_infobip_does(sink: SmsSink) -> None:
    status, body = _post(sink.url + "/sms/3/messages", {"messages": [{"destinations": []}]})
    assert status == 400 and body["errorCode"] == "E400"
    assert {v["property"] for v in body["violations"]} == {
        "messages[0].destinations",
        "messages[0].content.text",
    }


def test_every_reporter_text_reaches_the_gateway_in_at_most_two_segments(sink: SmsSink) -> None:
    quote = "Jalan sudah kami tambal sepanjang 200 meter dan diberi marka baru. " * 20
    link = short_private_link("https://lapor.cianjurkab.go.id", "s" * 20, "r" * 20, "K7M-2XQ-9RJ")
    context = {"code": "K7M-2XQ-9RJ", "link": link, "message": quote, "reason": quote}
    for kind in KINDS:
        for language in ("id", "en"):
            body = compose_sms(kind, language, context)
            result = sender(sink).send(text(f"r9.{kind}.{language}", body))
            assert result.outcome is SendOutcome.DELIVERED
    kept = sink.snapshot()
    assert len(kept) == 2 * len(KINDS)
    assert all(k.encoding == "GSM-7" and k.segments <= 2 for k in kept)


def test_the_local_stack_starts_the_sink_and_points_the_functions_at_it(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, functions=[], seed=False)
    with stack:
        env = stack.env()
        assert env["LAPOR_SMS_BASE_URL"] == stack.sms_sink_url
        settings = Settings.from_env({**env, "LAPOR_TOKEN_SECRET": "s" * 20})
        adapter = InfobipSmsSender(
            settings.sms_base_url,
            settings.sms_api_key.get_secret_value(),
            settings.sms_sender,
            settings.sms_timeout_s,
        )
        assert adapter.send(text("r2.1.reporter", "LAPOR!: dari stack")).outcome is (
            SendOutcome.DELIVERED
        )
        with urllib.request.urlopen(stack.sms_sink_url + "/", timeout=5) as response:
            page = response.read().decode()
        assert "LAPOR!: dari stack" in page and "6281234567890" in page
        sink_pid = stack.sms_sink.pid if stack.sms_sink else 0
    kept = (tmp_path / "sms.jsonl").read_text(encoding="utf-8")
    assert '"r2.1.reporter"' in kept
    assert sink_pid and not _process_exists(sink_pid)


def _post(url: str, payload: Mapping[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"App {KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
