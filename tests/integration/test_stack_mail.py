"""The local stack's mail sink as `make run` starts it: a function of the stack sends
through the SMTP adapter with the LAPOR_SMTP_* the stack gives it (STARTTLS verified
against the sink's own certificate, AUTH), the message is kept in the data directory
and listed on the inbox page, and the sink is gone after stop."""

from __future__ import annotations

import json
import os
import textwrap
import urllib.request
from pathlib import Path

from shared.adapters import smtp
from tools.mail_sink import read_mailbox
from tools.stack import LocalStack

MAILER = """
import functions_framework

from shared.adapters.smtp import SmtpEmailSender
from shared.config import Settings
from shared.ports import OutgoingEmail


@functions_framework.http
def mailer(request):
    if request.path != "/send":  # the stack's start-up probe GETs /
        return {}
    sender = SmtpEmailSender.from_settings(Settings.from_env())
    result = sender.send(
        OutgoingEmail(
            recipients=("siti@contoh.id",),
            subject="Laporan Anda diterima: K7M-2XQ-9RJ",
            text="Terima kasih.",
            html="<p>Terima kasih.</p>",
            message_id="<stack-test@lapor.localhost>",
        )
    )
    return {"outcome": result.outcome.value, "code": result.status_code, "error": result.error}
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_function_of_the_stack_sends_to_the_sink(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "functions" / "mailer").mkdir(parents=True)
    (root / "functions" / "mailer" / "main.py").write_text(textwrap.dedent(MAILER))
    (root / "shared").symlink_to(Path(smtp.__file__).resolve().parents[1])
    stack = LocalStack(tmp_path / "data", token_secret="s" * 20, seed=False, root=root)
    with stack:
        with urllib.request.urlopen(stack.urls["mailer"] + "/send", timeout=30) as response:
            answer = json.loads(response.read())
        with urllib.request.urlopen(stack.mail_page_url + "/", timeout=10) as response:
            page = response.read().decode()
        assert stack.mail_sink is not None
        sink_pid = stack.mail_sink.pid
    assert answer == {"outcome": "delivered", "code": 250, "error": None}
    [kept] = read_mailbox(stack.mail_dir)  # kept in the stack's data directory
    assert stack.mail_dir == tmp_path / "data" / "mail"
    assert kept.subject == "Laporan Anda diterima: K7M-2XQ-9RJ"
    assert kept.message["From"] == "Lapor <noreply@lapor.localhost>"
    assert "Laporan Anda diterima: K7M-2XQ-9RJ" in page and "siti@contoh.id" in page
    assert stack.env()["LAPOR_SMTP_CA_FILE"] == str(stack.mail_dir / "tls" / "cert.pem")
    assert not _alive(sink_pid)
