"""Nothing leaks: a full run of the local stack, everything it produced scanned.

The stack is the one ``make run`` starts (tools.stack.LocalStack: the real emulators,
every function as its own server, the SMS sink), on free ports; the agencies' webhooks
point at a receiver in this process and the functions send mail through a relay in this
process, so every delivery is kept whole. Four reporters submit to the Cianjur roads
office: an anonymous one who typed a name, an e-mail and a phone number anyway and
attached a photo and a PDF whose metadata and file names name them (through the form),
a confidential one reached by SMS, a named public one, and an anonymous one whose
address the relay refuses, quoting it (through the API). The office acts through its
API (downloading the files) and its console (asking for the identity of the named and
of the anonymous report); the national admin reads the failed deliveries and the
Ombudsman dossiers; the reporters read their pages and timeline exports; the anonymous
one asks for a lost link; the public reads the public pages, the open data, the day's
figures and timeline anchor; the daily jobs run (the escalation run forty days on, so
its tiers fire). Then every response (headers and body, files as a reader decodes
them), webhook, e-mail, SMS, the functions' log lines and every Firestore document are
scanned (tools.leak_scan) for the anonymous reporters' identities in any encoding, any
reporter token or short token outside what goes to that reporter, the API keys, the
session cookies outside their own Set-Cookie, the webhook signing secrets, the token
secret, the relay's and SMS gateway's credentials, the staff's passwords and TOTP
secrets and every key and keyset the functions hold; the confidential report's text
and code on any public answer; the named and confidential reporters' identities on
public answers, log lines or at rest.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import io
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest

from shared.tokens import reporter_token, short_reporter_token
from shared.web.console.common import SESSION_COOKIE
from shared.web.schemas import REPORT_EXAMPLE
from tests.conftest import TEST_PROJECT, TEST_TOKEN_SECRET, _prerequisites
from tools.leak_scan import (
    Artefact,
    Leak,
    Sensitive,
    file_text,
    http_text,
    keyset_material,
    mail_text,
    scan,
)
from tools.mail_sink import MailSink
from tools.stack import LocalStack
from tools.webhook_receiver import WebhookReceiver, firestore_secrets

AGENCY = "dpupr-cianjur"  # where the Cianjur roads rule sends REPORT_EXAMPLE
AGENCY_KEY = "dpupr_cianjur_admin"
WAIT_S = 90.0
QUIET_S = 6.0

ANONYMOUS = {
    "name": "Wulandari Anonimawati",
    "email": "wulan.anonim.h7@contoh.id",
    "phone": "0813-7777-4242",
}
CONFIDENTIAL = {"name": "Bambang Rahasiawan", "phone": "0857-1111-2323"}
NAMED = {"name": "Siti Terbukawati", "email": "siti.terbuka.h7@contoh.id"}
# Anonymous too, with an address the mail relay refuses, quoting it as relays do: the
# failed delivery is shown to the office's admins, never the address.
REFUSED = {"name": "Rina Ditolakwati", "email": "rina.ditolak.h7@contoh.id"}
ASKS_FOR_THE_CONFIDENTIAL_CODE = "public:asking-by-the-confidential-code"
# The office reading the named report after its reporter erased their contact details.
AFTER_ERASURE = f"agency:{AGENCY} after the erasure"
# The answer to the admin who rotated the office's webhook signing secret.
ONE_TIME_DISPLAY = f"staff:{AGENCY} rotating the signing secret"
# Firestore's documents: identities sealed, tokens never stored, secrets sealed or hashed.
AT_REST = "at rest"
# A word only the confidential report's text holds: it must never reach the public.
CONFIDENTIAL_WORD = "Zamrudkencana"


def phone_forms(typed: str) -> list[str]:
    """A phone number as it may be typed, stored or dialled."""
    digits = re.sub(r"\D", "", typed)
    national = digits[1:] if digits.startswith("0") else digits
    return [typed, digits, f"+62{national}", f"62{national}"]


@dataclass
class Recorder:
    """Every HTTP answer a client got, as an artefact for its audience."""

    artefacts: list[Artefact] = field(default_factory=list)
    cookies: set[str] = field(default_factory=set)

    def client(self, audience: str, **kwargs: Any) -> httpx.Client:
        def keep(response: httpx.Response) -> None:
            response.read()
            request = response.request
            headers = [(k, v) for k, v in response.headers.multi_items() if k != "set-cookie"]
            where = f"{request.method} {request.url} {response.status_code}"
            media_type = response.headers.get("content-type", "")
            textual = media_type.startswith("text/") or any(
                kind in media_type for kind in ("json", "xml", "csv", "javascript")
            )
            body = response.text if textual else file_text(response.content)
            text = http_text(response.status_code, headers, body)
            self.artefacts.append(Artefact(where, audience, text))
            for set_cookie in response.headers.get_list("set-cookie"):
                # Its own Set-Cookie is the one place a session cookie may be read.
                self.artefacts.append(Artefact(where + " Set-Cookie", "set-cookie", set_cookie))
                name, _, value = set_cookie.split(";", 1)[0].partition("=")
                # The pre-sign-in form cookie is a double-submit token the form repeats.
                if name.endswith(SESSION_COOKIE) and value:
                    self.cookies.add(value)

        return httpx.Client(
            timeout=30, follow_redirects=True, event_hooks={"response": [keep]}, **kwargs
        )


@dataclass
class Run:
    stack: LocalStack
    outside: Outside
    recorder: Recorder
    codes: dict[str, str]  # reporter label → tracking code
    report_ids: dict[str, str]
    rotated: tuple[str, str]  # the office's signing secret before and after its rotation
    artefacts: list[Artefact]
    sensitive: list[Sensitive]


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


def _hidden_inputs(page: str, action_suffix: str) -> dict[str, str]:
    """The hidden fields of the form whose action ends with ``action_suffix``."""
    for match in re.finditer(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        action = _attribute(match.group(1), "action") or ""
        if action.split("?")[0].endswith(action_suffix):
            inputs = re.findall(r"<input\b[^>]*>", match.group(2))
            hidden = [tag for tag in inputs if _attribute(tag, "type") == "hidden"]
            return {
                str(_attribute(tag, "name")): _attribute(tag, "value") or ""
                for tag in hidden
                if _attribute(tag, "name")
            }
    raise AssertionError(f"no form for {action_suffix}")


def _wait(what: str, check: Any, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def _today_in_jakarta() -> dt.date:
    """The day the stack files today's events under."""
    return dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()


def _refuse(address: str) -> str | None:
    if address.lower() == REFUSED["email"]:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
    return None


@dataclass
class Outside:
    """The parts of the world the stack talks to, kept in this process."""

    receiver: WebhookReceiver
    relay: MailSink


def _outbound(stack: LocalStack, outside: Outside) -> tuple[int, int, int]:
    sms_log = stack.data_dir / "sms.jsonl"
    sms = len(sms_log.read_text().splitlines()) if sms_log.exists() else 0
    return len(outside.receiver.snapshot()), len(outside.relay.messages()), sms


def _settle(stack: LocalStack, outside: Outside) -> None:
    """Wait until no webhook, e-mail or SMS has come for ``QUIET_S``."""
    last, quiet_since = _outbound(stack, outside), time.monotonic()
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _outbound(stack, outside)
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_S:
            return
    raise AssertionError(f"notifications still coming after {WAIT_S:.0f} s: {last}")


class _StackSendingWebhooksTo(LocalStack):
    """The stack as ``make run`` starts it, its demo agencies' webhooks seeded with
    another receiver's URL."""

    def __init__(self, hooks_url: str, *args: Any, **kwargs: Any) -> None:
        self.hooks_url = hooks_url
        super().__init__(*args, **kwargs)

    @property
    def receiver_url(self) -> str:
        return self.hooks_url


def _photo_naming_the_reporter() -> bytes:
    """A phone's photo: EXIF that names its owner, a JPEG comment with their address."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x013B] = ANONYMOUS["name"]  # Artist
    exif[0x8298] = ANONYMOUS["email"]  # Copyright
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(
        out, "JPEG", exif=exif, comment=ANONYMOUS["phone"].encode()
    )
    return out.getvalue()


def _document_naming_the_reporter() -> bytes:
    """A PDF whose document information names its author."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": ANONYMOUS["name"], "/Subject": ANONYMOUS["email"]})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _submit_through_the_form(client: httpx.Client, submit: str) -> tuple[str, str]:
    """The anonymous reporter: identity typed, then "anonim" ticked, and a photo and a
    document attached that name them (metadata and file names). Code and token."""
    form = client.get(submit + "/")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce, form.text[:500]
    fields = {
        "nonce": html.unescape(nonce.group(1)),
        "website": "",
        "type": "pengaduan",
        "title": "Saluran air tersumbat di Jalan Siliwangi",
        "description": (
            "Saluran air di depan pasar tersumbat sampah sejak sebulan dan meluap ke jalan "
            "setiap kali hujan deras."
        ),
        "category": REPORT_EXAMPLE["category"],
        "province_code": REPORT_EXAMPLE["province_code"],
        "regency_code": REPORT_EXAMPLE["regency_code"],
        "anonymous": "1",
        "reporter.name": ANONYMOUS["name"],
        "reporter.email": ANONYMOUS["email"],
        "reporter.phone": ANONYMOUS["phone"],
    }
    named = ANONYMOUS["name"]  # file names as a phone or a laptop might give them
    files = [
        ("berkas", (f"{named}.jpg", _photo_naming_the_reporter(), "image/jpeg")),
        ("berkas", (f"{named}.pdf", _document_naming_the_reporter(), "application/pdf")),
    ]
    tracked = client.post(submit + "/", data=fields, files=files)
    assert tracked.status_code == 200, tracked.text[:500]
    path = urllib.parse.urlsplit(str(tracked.url))
    query = urllib.parse.parse_qs(path.query)
    assert path.path.startswith("/lacak/") and "token" in query, tracked.url
    return urllib.parse.unquote(path.path.removeprefix("/lacak/")), query["token"][0]


def _submit_through_the_api(
    client: httpx.Client, submit: str, reporter: dict[str, str], **changes: Any
) -> tuple[str, str]:
    body = {**REPORT_EXAMPLE, "reporter": reporter, **changes}
    created = client.post(
        submit + "/api/v1/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert created.status_code == 201, created.text
    answer = created.json()
    return answer["tracking_code"], answer["reporter_token"]


def _sign_in(console: httpx.Client, base: str, staff: dict[str, str]) -> None:
    page = console.get(base + "/masuk")
    signed = console.post(
        base + "/masuk",
        data={**_hidden_inputs(page.text, "/masuk"), "email": staff["email"],
              "password": staff["password"]},
    )  # fmt: skip
    if "/masuk/kode" in str(signed.url):
        code = pyotp.TOTP(staff["totp_secret"]).now()
        signed = console.post(
            str(signed.url), data={**_hidden_inputs(signed.text, "/masuk/kode"), "code": code}
        )
    assert "/masuk" not in str(signed.url), (signed.status_code, signed.url)


def _act(stack: LocalStack, outside: Outside, recorder: Recorder) -> Run:
    urls = stack.urls
    submit, agency_api, console_base = urls["submit"], urls["agency"] + "/api/v1", urls["console"]
    codes: dict[str, str] = {}
    tokens: dict[str, str] = {}
    with recorder.client("reporter:anonymous") as anonymous:
        codes["anonymous"], tokens["anonymous"] = _submit_through_the_form(anonymous, submit)
    with recorder.client("reporter:confidential") as confidential:
        codes["confidential"], tokens["confidential"] = _submit_through_the_api(
            confidential,
            submit,
            CONFIDENTIAL,
            confidential=True,
            title="Pungutan liar di kantor kelurahan",
            description=f"Petugas meminta uang tambahan untuk surat pengantar: {CONFIDENTIAL_WORD}",
        )
    with recorder.client("reporter:named") as named:
        codes["named"], tokens["named"] = _submit_through_the_api(named, submit, NAMED)
    with recorder.client("reporter:refused") as refused:
        codes["refused"], tokens["refused"] = _submit_through_the_api(
            refused, submit, REFUSED, anonymous=True
        )

    api_keys = json.loads(stack.demo_keys_path.read_text())
    auth = {"Authorization": f"Bearer {api_keys[AGENCY_KEY]['key']}"}
    report_ids: dict[str, str] = {}
    with recorder.client(f"agency:{AGENCY}", headers=auth) as agency:

        def routed() -> bool:
            inbox = agency.get(f"{agency_api}/inbox", params={"status": "dispositioned"})
            by_code = {item["tracking_code"]: item["id"] for item in inbox.json()["items"]}
            for label, code in codes.items():
                if code in by_code:
                    report_ids[label] = by_code[code]
            return len(report_ids) == len(codes)

        _wait("the reports in the office's inbox", routed)
        for label, report_id in report_ids.items():
            shown = agency.get(f"{agency_api}/reports/{report_id}")
            assert shown.status_code == 200, label
            attachments = shown.json().get("attachments") or []
            assert len(attachments) == (2 if label == "anonymous" else 0), (label, attachments)
            for attachment in attachments:
                for link in ("url", "thumbnail_url"):
                    if attachment.get(link):
                        assert agency.get(attachment[link]).status_code == 200, attachment
        answers = [
            ("anonymous", "follow-up", "Petugas kebersihan dijadwalkan membersihkan saluran."),
            ("confidential", "follow-up", "Laporan sudah diteruskan ke inspektorat."),
            ("confidential", "resolve", "Petugas yang bersangkutan sudah diperiksa."),
        ]
        for label, operation, message in answers:
            answered = agency.post(
                f"{agency_api}/reports/{report_ids[label]}/{operation}",
                json={"message": message},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert answered.status_code == 200, (label, operation, answered.text)
        failed = agency.get(f"{agency_api}/deliveries", params={"status": "failed"})
        assert failed.status_code == 200, failed.text[:300]
    # The Ombudsman dossier is the national admin's, in JSON and as its HTML page.
    national = {"Authorization": f"Bearer {api_keys['national_admin']['key']}"}
    with recorder.client("agency:nasional", headers=national) as ombudsman_desk:

        def refusal_listed() -> bool:
            failed = ombudsman_desk.get(f"{agency_api}/deliveries", params={"status": "failed"})
            return report_ids["refused"] in failed.text

        _wait("the refused e-mail among the failed deliveries", refusal_listed)
        for label in ("anonymous", "confidential"):
            for wanted in ("json", "html"):
                dossier = ombudsman_desk.get(
                    f"{agency_api}/reports/{report_ids[label]}/dossier", params={"format": wanted}
                )
                assert dossier.status_code == 200, (label, dossier.text[:300])

    staff = json.loads(stack.demo_staff_path.read_text())[AGENCY_KEY]
    with recorder.client(f"staff:{AGENCY}") as console:
        _sign_in(console, console_base, staff)
        assert console.get(console_base + "/kotak-masuk").status_code == 200
        for report_id in report_ids.values():
            assert console.get(f"{console_base}/laporan/{report_id}").status_code == 200
        page = console.get(f"{console_base}/laporan/{report_ids['named']}")
        followed_up = console.post(
            f"{console_base}/laporan/{report_ids['named']}/tindakan/follow-up",
            data={
                **_hidden_inputs(page.text, "/tindakan/follow-up"),
                "message": "Lubang akan ditambal pekan ini oleh UPTD Jalan.",
            },
        )
        assert followed_up.status_code == 200, followed_up.text[:500]
        assert "Lubang akan ditambal" in followed_up.text
        # The identity on request (recorded): shown for the named report; asked for the
        # anonymous one too (its page offers no button, a hand-made POST is tried).
        reveal = {
            label: f"{console_base}/laporan/{report_ids[label]}/identitas"
            for label in ("named", "anonymous")
        }
        form = _hidden_inputs(console.get(reveal["named"]).text, "/identitas")
        assert console.get(reveal["anonymous"]).status_code == 200
        assert console.post(reveal["named"], data=form).status_code == 200
        assert console.post(reveal["anonymous"], data=form).status_code < 500
        for path in ("/angka", "/riwayat", "/akun"):
            assert console.get(console_base + path).status_code == 200, path
        # The admin rotates the office's webhook signing secret: shown once, in that
        # answer only (the later deliveries are signed with it).
        before = firestore_secrets(stack.project)(AGENCY)
        settings_page = console.get(console_base + "/pengaturan")
        rotate = "/pengaturan/rotasi-rahasia"
        with recorder.client(ONE_TIME_DISPLAY, cookies=console.cookies) as once:
            shown = once.post(
                console_base + rotate, data=_hidden_inputs(settings_page.text, rotate)
            )
        assert shown.status_code == 200, shown.text[:300]
        new_secret = re.search(r'<code class="secret">([^<]+)</code>', shown.text)
        assert new_secret and before, shown.text[:300]
        rotated = (before, html.unescape(new_secret.group(1)))
        assert console.get(console_base + "/pengaturan").status_code == 200

    _settle(stack, outside)
    for label, code in codes.items():
        with recorder.client(f"reporter:{label}") as reporter:
            bearer = {"Authorization": f"Bearer {tokens[label]}"}
            page = reporter.get(f"{submit}/lacak/{code}", params={"token": tokens[label]})
            assert page.status_code == 200, (label, page.status_code)
            assert reporter.get(f"{submit}/api/v1/reports/{code}", headers=bearer).is_success
            exported = reporter.get(f"{submit}/api/v1/reports/{code}/timeline", headers=bearer)
            assert exported.status_code == 200, (label, exported.text[:300])
            # Everything held about them, as JSON through the API and from their page.
            mine = reporter.get(f"{submit}/api/v1/reports/{code}/my-data", headers=bearer)
            assert mine.status_code == 200, (label, mine.text[:300])
            downloaded = reporter.get(
                f"{submit}/lacak/{code}/unduh-data", params={"token": tokens[label]}
            )
            assert downloaded.status_code == 200, (label, downloaded.text[:300])
    # The named reporter erases their contact details; the office reads the report again.
    with recorder.client("reporter:named") as reporter:
        erased = reporter.post(
            f"{submit}/api/v1/reports/{codes['named']}/erase-contact",
            json={},
            headers={
                "Authorization": f"Bearer {tokens['named']}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        assert erased.status_code == 200, erased.text[:300]
    with recorder.client(AFTER_ERASURE, headers=auth) as agency:
        again = agency.get(f"{agency_api}/reports/{report_ids['named']}")
        assert again.status_code == 200, again.text[:300]

    with recorder.client("public") as public:
        lost = public.get(submit + "/lupa-tautan")
        asked = public.post(
            submit + "/lupa-tautan",
            data={
                **_hidden_inputs(lost.text, "/lupa-tautan"),
                "website": "",
                "tracking_code": codes["anonymous"],
                "contact": ANONYMOUS["email"],
            },
        )
        assert asked.status_code == 200, asked.text[:300]

    with recorder.client("scheduler") as scheduler:
        today = _today_in_jakarta()
        later = today + dt.timedelta(days=40)
        for job, day in (("report", today), ("escalate", later), ("digest", None)):
            answer = scheduler.post(
                urls[job] + "/", json={"date": day.isoformat()} if day else None
            )
            assert answer.status_code == 200, (job, answer.status_code, answer.text[:300])
    _settle(stack, outside)

    with recorder.client("public") as public:
        for path in (
            "/",
            "/statistik",
            "/statistik/definisi",
            "/laporan",
            f"/statistik/instansi/{AGENCY}",
            f"/data/harian/{today.isoformat()}.json",
            f"/data/harian/{today.isoformat()}.csv",
            f"/data/instansi/{AGENCY}/{today.isoformat()}.json",
            f"/data/jangkar/{today.isoformat()}.json",
        ):
            assert public.get(submit + path).status_code == 200, path
        for label, code in codes.items():
            if label != "confidential":
                public.get(f"{submit}/lacak/{code}")
                public.get(f"{submit}/api/v1/reports/{code}")
                public.get(f"{submit}/api/v1/reports/{code}/timeline")
    # Someone who has the confidential code (from the reporter, say) asks the public
    # side for it: the answer is a 404 that may only repeat the code asked for.
    with recorder.client(ASKS_FOR_THE_CONFIDENTIAL_CODE) as stranger:
        code = codes["confidential"]
        for path in (
            f"/lacak/{code}",
            f"/api/v1/reports/{code}",
            f"/api/v1/reports/{code}/timeline",
        ):
            assert stranger.get(submit + path).status_code == 404, path

    return Run(stack, outside, recorder, codes, report_ids, rotated, [], [])


def _last_digits(phone: str) -> str:
    """Enough of a number to tell whose it is, however it is written."""
    return re.sub(r"\D", "", phone)[-9:]


def _outbound_artefacts(run: Run) -> list[Artefact]:
    by_address = {
        ANONYMOUS["email"]: "reporter:anonymous",
        NAMED["email"]: "reporter:named",
        REFUSED["email"]: "reporter:refused",
    }
    by_phone = {
        _last_digits(ANONYMOUS["phone"]): "reporter:anonymous",
        _last_digits(CONFIDENTIAL["phone"]): "reporter:confidential",
    }
    found = []
    for received in run.outside.receiver.snapshot():
        headers = "\n".join(f"{k}: {v}" for k, v in received.headers.items())
        text = f"POST {received.path}\n{headers}\n\n{received.body.decode('utf-8', 'replace')}"
        found.append(
            Artefact(f"webhook {received.webhook_id}", f"agency:{received.agency_id}", text)
        )
    for mail in run.outside.relay.messages():
        to = mail.to.lower()
        audience = next((who for addr, who in by_address.items() if addr in to), "mail:staff")
        found.append(
            Artefact(f"e-mail {mail.id} to {to}", audience, mail_text(mail.path.read_bytes()))
        )
    sms_log = run.stack.data_dir / "sms.jsonl"
    for line in sms_log.read_text().splitlines() if sms_log.exists() else []:
        kept = json.loads(line)
        audience = by_phone.get(_last_digits(kept["to"]), "sms:other")
        text = f"to: {kept['to']}\n\n{kept['text']}"
        found.append(Artefact(f"SMS {kept['message_id']}", audience, text))
    logs = run.stack.data_dir / "logs"
    for name in run.stack.functions:
        path = logs / f"{name}.log"
        found.append(Artefact(f"log {path.name}", "log", path.read_text(errors="replace")))
    return found


def _stored(stack: LocalStack) -> list[Artefact]:
    """Every Firestore document the run left, each as JSON."""
    from google.cloud import firestore

    client = firestore.Client(project=stack.project)
    found = []
    pending = list(client.collections())
    while pending:
        collection = pending.pop()
        for doc in collection.stream():
            text = json.dumps(doc.to_dict(), default=repr, ensure_ascii=False)
            found.append(Artefact(f"firestore {doc.reference.path}", AT_REST, text))
            pending.extend(doc.reference.collections())
    return found


def _key_material(text: str) -> list[str]:
    """What of a key file must never be shown: a Tink keyset's key values, a service
    account key's private key (three lines of it are evidence enough), a raw key."""
    if not text.lstrip().startswith("{"):
        return [text.strip()] if len(text.strip()) >= 16 else []
    if "private_key" in (service_account := json.loads(text)):
        pem = str(service_account["private_key"])
        return [line for line in pem.splitlines() if line and not line.startswith("-----")][:3]
    return keyset_material(text)


def _sensitive(run: Run) -> list[Sensitive]:
    stack = run.stack
    reporters = {label: frozenset({f"reporter:{label}"}) for label in run.codes}
    nowhere: frozenset[str] = frozenset()
    items: list[Sensitive] = []
    for label, identity in (("anonymous", ANONYMOUS), ("refused", REFUSED)):
        for part, value in identity.items():
            values = phone_forms(value) if part == "phone" else [value]
            items += [Sensitive(f"{label} reporter's {part}", v, reporters[label]) for v in values]
    # A report that is not anonymous shows its reporter to whoever handles it; a
    # confidential one shows its text to them too. Neither reaches the public, the logs,
    # the job runner or another reporter.
    public = {"public", ASKS_FOR_THE_CONFIDENTIAL_CODE}
    staff_side = {a.audience for a in run.artefacts} - public - {"log", "scheduler", "set-cookie"}
    staff_side -= {AT_REST}
    staff_side -= {f"reporter:{label}" for label in run.codes}
    for label, identity in (("confidential", CONFIDENTIAL), ("named", NAMED)):
        for part, value in identity.items():
            values = phone_forms(value) if part == "phone" else [value]
            allowed = reporters[label] | staff_side - {AFTER_ERASURE}
            items += [Sensitive(f"{label} reporter's {part}", v, allowed) for v in values]
    items.append(
        Sensitive(
            "the confidential report's text",
            CONFIDENTIAL_WORD,
            reporters["confidential"] | staff_side | {AT_REST},
        )
    )
    # A confidential report's code is in no public list, page or open data.
    not_public = {a.audience for a in run.artefacts} - {"public"} | {ASKS_FOR_THE_CONFIDENTIAL_CODE}
    not_public -= {f"reporter:{label}" for label in run.codes if label != "confidential"}
    code = run.codes["confidential"]
    items.append(Sensitive("the confidential report's tracking code", code, frozenset(not_public)))
    for label, report_id in run.report_ids.items():
        token = reporter_token(stack.token_secret, report_id)
        short = short_reporter_token(stack.token_secret, report_id)
        items.append(Sensitive(f"{label} reporter's token", token, reporters[label]))
        items.append(Sensitive(f"{label} reporter's short token", short, reporters[label]))
    for name, entry in json.loads(stack.demo_keys_path.read_text()).items():
        items.append(Sensitive(f"API key {name}", entry["key"], nowhere))
    for name, entry in json.loads(stack.demo_staff_path.read_text()).items():
        items.append(Sensitive(f"staff {name}'s password", entry["password"], nowhere))
        items.append(Sensitive(f"staff {name}'s TOTP secret", entry["totp_secret"], nowhere))
    for cookie in run.recorder.cookies:
        items.append(Sensitive("a console session cookie", cookie, frozenset({"set-cookie"})))
    lookup = firestore_secrets(stack.project)
    for agency_id in {r.agency_id for r in run.outside.receiver.snapshot()} - {AGENCY}:
        secret = lookup(agency_id) if agency_id else None
        assert secret, f"no signing secret for {agency_id}"
        items.append(Sensitive(f"{agency_id}'s webhook signing secret", secret, nowhere))
    before, after = run.rotated
    assert lookup(AGENCY) == after
    items.append(Sensitive(f"{AGENCY}'s signing secret before its rotation", before, nowhere))
    items.append(Sensitive(f"{AGENCY}'s new signing secret", after, frozenset({ONE_TIME_DISPLAY})))
    from tools.mail_sink import DEMO_PASSWORD

    items.append(Sensitive("the token secret", stack.token_secret, nowhere))
    items.append(Sensitive("the mail relay's password", DEMO_PASSWORD, nowhere))
    items.append(Sensitive("the SMS gateway's API key", stack.sms_api_key, nowhere))
    # Every key the functions are given (the identity keysets, the storage signing key,
    # and whatever keys and keysets join them as LAPOR_*_KEY_FILE / _KEYSET_FILE).
    key_files = {
        name: Path(path)
        for name, path in stack.emulators.env().items()
        if name.endswith(("_KEY_FILE", "_KEYSET_FILE")) and Path(path).is_file()
    }
    assert "LAPOR_IDENTITY_PRIVATE_KEYSET_FILE" in key_files, sorted(key_files)
    for name, path in key_files.items():
        material = _key_material(path.read_text())
        assert material, f"nothing to look for in {name}"
        items += [Sensitive(f"the key in {name}", value, nowhere) for value in material]
    return items


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    _prerequisites()
    with contextlib.ExitStack() as running:
        relay = MailSink(tmp_path_factory.mktemp("relay"), refuse=_refuse).start()
        running.callback(relay.stop)
        # The functions send through this relay, not the stack's own sink.
        to_relay = {
            "LAPOR_SMTP_PORT": str(relay.smtp_port),
            "LAPOR_SMTP_CA_FILE": str(relay.ca_file),
        }
        # The agencies' webhooks come to a receiver here, which keeps each delivery whole;
        # it looks their signing secrets up once the stack's Firestore is up.
        lookups: list[Callable[[str], str | None]] = []
        receiver = WebhookReceiver(lambda agency_id: lookups[0](agency_id)).start()
        running.callback(receiver.stop)
        stack = _StackSendingWebhooksTo(
            receiver.url, tmp_path_factory.mktemp("leaks"), project=TEST_PROJECT,
            token_secret=TEST_TOKEN_SECRET, extra_env=to_relay,
        )  # fmt: skip
        stack.start()
        running.callback(stack.stop)
        # This stack's Firestore for the fixture only: the session's emulators are the
        # other modules' again afterwards.
        environ = running.enter_context(pytest.MonkeyPatch.context())
        for name, value in stack.emulators.env().items():
            environ.setenv(name, value)
        lookups.append(firestore_secrets(stack.project))
        outside = Outside(receiver, relay)
        recorder = Recorder()
        run = _act(stack, outside, recorder)
        run.artefacts = [*recorder.artefacts, *_outbound_artefacts(run), *_stored(stack)]
        run.sensitive = _sensitive(run)
        yield run


def _report(leaks: list[Leak]) -> str:
    return "\n".join(str(leak) for leak in leaks[:40])


def test_the_run_reached_every_channel(full_run: Run) -> None:
    audiences = {a.audience for a in full_run.artefacts}
    wheres = " ".join(a.where for a in full_run.artefacts)
    reporters = {
        "reporter:anonymous",
        "reporter:confidential",
        "reporter:named",
        "reporter:refused",
    }
    assert reporters <= audiences
    # The identities were stored (sealed) and read back with every other document; the
    # named reporter's was erased at their request.
    assert sum(a.where.startswith("firestore identities/") for a in full_run.artefacts) == 3
    assert {"public", f"agency:{AGENCY}", f"staff:{AGENCY}", "scheduler", "log"} <= audiences
    assert "webhook" in wheres and "e-mail" in wheres and "SMS" in wheres
    assert "/timeline" in wheres and "/dossier" in wheres and "/data/harian/" in wheres
    # The anonymous reporter was reached (by e-mail), and the confidential one by SMS.
    assert any(
        a.where.startswith("e-mail") and a.audience == "reporter:anonymous"
        for a in full_run.artefacts
    )
    assert any(
        a.where.startswith("SMS") and a.audience == "reporter:confidential"
        for a in full_run.artefacts
    )
    assert any(a.where.startswith("log") and a.text.strip() for a in full_run.artefacts)
    # Every delivery was signed with the office's secret of the moment, before and after
    # the rotation.
    assert all(received.verified for received in full_run.outside.receiver.snapshot())
    # The relay's refusal (which quoted the address) reached the admins, with its reason.
    assert any(
        "/deliveries" in a.where and "Recipient address rejected" in a.text
        for a in full_run.artefacts
    )


def test_the_scan_sees_what_each_reporter_was_sent(full_run: Run) -> None:
    """Were no audience allowed, the reporters' own copies would be found: the scan
    reaches the texts the run produced (a scan that finds nothing proves nothing)."""
    everywhere_forbidden = [Sensitive(s.name, s.value) for s in full_run.sensitive]
    found = {
        (leak.sensitive, leak.audience) for leak in scan(full_run.artefacts, everywhere_forbidden)
    }
    assert ("anonymous reporter's email", "reporter:anonymous") in found
    assert ("anonymous reporter's phone", "reporter:anonymous") in found
    assert ("anonymous reporter's token", "reporter:anonymous") in found
    assert ("confidential reporter's short token", "reporter:confidential") in found
    assert ("a console session cookie", "set-cookie") in found
    assert ("named reporter's name", f"staff:{AGENCY}") in found  # the recorded reveal
    assert (f"{AGENCY}'s new signing secret", ONE_TIME_DISPLAY) in found


def test_answers_that_carry_a_secret_are_neither_kept_nor_referred(full_run: Run) -> None:
    """A token or an identity shown to whom it belongs must go no further: not into a
    shared cache, nor into the Referer of the next site the page links to."""
    everywhere_forbidden = [Sensitive(s.name, s.value) for s in full_run.sensitive]
    answers = [a for a in full_run.artefacts if a.where.split()[0] in ("GET", "POST")]
    carrying = {leak.where for leak in scan(answers, everywhere_forbidden)}
    careless = []
    for answer in answers:
        if answer.where in carrying and answer.audience != "set-cookie":
            head = answer.text.split("\n\n", 1)[0].lower().splitlines()
            if not {"cache-control: no-store", "referrer-policy: no-referrer"} <= set(head):
                careless.append(answer.where)
    assert len(carrying) > 10
    assert not careless, careless


def test_the_attachments_as_sent_would_be_caught(full_run: Run) -> None:
    """The photo and the document the anonymous reporter attached name them, in a form
    the scan finds; what the office downloaded (in the run) is their cleaned copies."""
    sent = [
        Artefact("the photo as sent", "public", file_text(_photo_naming_the_reporter())),
        Artefact("the PDF as sent", "public", file_text(_document_naming_the_reporter())),
    ]
    found = {(leak.sensitive, leak.where) for leak in scan(sent, full_run.sensitive)}
    assert {
        ("anonymous reporter's name", "the photo as sent"),
        ("anonymous reporter's email", "the photo as sent"),
        ("anonymous reporter's phone", "the photo as sent"),
        ("anonymous reporter's name", "the PDF as sent"),
        ("anonymous reporter's email", "the PDF as sent"),
    } <= found


def test_nothing_leaks(full_run: Run) -> None:
    leaks = scan(full_run.artefacts, full_run.sensitive)
    assert not leaks, f"{len(leaks)} leaks:\n{_report(leaks)}"


def test_a_leak_planted_in_the_run_is_found(full_run: Run) -> None:
    """One log line carrying the anonymous reporter's e-mail, base64-encoded inside a
    longer value, and one public answer carrying a reporter's token, URL-encoded."""
    email = ANONYMOUS["email"].encode()
    planted_log = base64.b64encode(b"{'user': " + email + b"}").decode()
    token = reporter_token(full_run.stack.token_secret, full_run.report_ids["named"])
    planted = [
        *full_run.artefacts,
        Artefact("log planted", "log", f'{{"severity": "INFO", "context": "{planted_log}"}}'),
        Artefact(
            "GET /laporan planted",
            "public",
            f"?next=%2Flacak%3Ftoken%3D{urllib.parse.quote(token)}",
        ),
    ]
    found = {(leak.sensitive, leak.where) for leak in scan(planted, full_run.sensitive)}
    assert found == {
        ("anonymous reporter's email", "log planted"),
        ("named reporter's token", "GET /laporan planted"),
    }
