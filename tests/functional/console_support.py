"""The console's functional-test fixtures: its app on the emulators, and staff members
signed in through the real pages (password, then the TOTP code an authenticator app
would show, computed with pyotp).

tests/functional/conftest.py imports the fixtures, so every functional test module can
ask for them::

    def test_inbox(signed_in_client):
        officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
        page = officer.get("/kotak-masuk")
        officer.post("/laporan/abc/catatan", {"text": "…"})  # the csrf field is added

- ``console_app``: the console function (functions-framework) on seeded emulators,
  cookies without ``Secure`` as on the local stack (plain HTTP).
- ``signed_in_client(role, agency_id, *, second_factor=None)``: a new account of that
  role in that agency, created through shared.usecases.staff, signed in through
  ``/masuk`` (and ``/masuk/kode`` when it has a second factor: admins always, officers
  when ``second_factor=True``). Each call is another person with their own cookies.
- ``anonymous_client``: a console client that is signed in as no one.

Every functional test hashes staff passwords at the least cost (CHEAP_PASSWORD_HASHES,
set by tests/functional/conftest.py).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import functions_framework
import pyotp
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shared import wiring
from shared.domain.report import Role
from shared.usecases import staff as staff_usecases
from tools.stack import Emulators

SOURCE = "functions/console/main.py"
PASSWORD = "kopi tubruk di alun-alun 2026"
# The least Argon2id cost the settings allow (one pass over 8 MiB, not three over 64):
# the tests make and sign in hundreds of accounts, and what they check (who may do what)
# does not depend on the cost. Production keeps the defaults (shared/config.py).
CHEAP_PASSWORD_HASHES = {"LAPOR_STAFF_HASH_TIME_COST": "1", "LAPOR_STAFF_HASH_MEMORY_KIB": "8192"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The hidden ``csrf`` field of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a csrf field"
    return unescape(found.group(1))


@dataclass(frozen=True)
class Member:
    """A staff account made for a test, with what it signs in with."""

    account_id: str
    email: str
    name: str
    agency_id: str
    role: Role
    password: str = PASSWORD
    totp_secret: str | None = None

    def code(self, steps_ahead: int = 0) -> str:
        """The code an authenticator app shows now (or ``steps_ahead`` 30-s steps on:
        a code is accepted once, and the step after is accepted too)."""
        assert self.totp_secret is not None
        return pyotp.TOTP(self.totp_secret).at(time.time() + 30 * steps_ahead)


@dataclass
class ConsoleClient:
    """A browser on the console: its cookies, and the csrf token of its session."""

    client: FlaskClient
    member: Member | None = None
    csrf: str = ""
    last: TestResponse | None = field(default=None, repr=False)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        self._remember(response)
        return response

    def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        *,
        csrf: str | None = "",
        **kwargs: Any,
    ) -> TestResponse:
        """POST a form; its ``csrf`` is the session's unless given (None: none sent)."""
        form = dict(data or {})
        if csrf is not None:
            form.setdefault("csrf", csrf or self.csrf)
        response = self.client.post(path, data=form, **kwargs)
        self._remember(response)
        return response

    def _remember(self, response: TestResponse) -> None:
        self.last = response
        if response.mimetype == "text/html" and response.status_code < 500:
            found = _CSRF.search(response.get_data(as_text=True))
            if found:
                self.csrf = unescape(found.group(1))


def location(response: TestResponse) -> str:
    """The path and query a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def new_member(
    role: Role, agency_id: str, *, second_factor: bool | None = None, name: str = ""
) -> Member:
    """An account through the use case the tools use: ready to sign in."""
    with_code = role is not Role.UNIT_OFFICER if second_factor is None else second_factor
    secret = pyotp.random_base32() if with_code else None
    email = f"{role.value.replace('_', '-')}-{uuid.uuid4().hex[:10]}@{agency_id}.go.id"
    account = staff_usecases.create_account(
        email,
        name or f"Petugas {agency_id}",
        role,
        agency_id,
        PASSWORD,
        wiring.console_ports(),
        totp_secret=secret,
    )
    return Member(
        account.account_id, account.email, account.name, agency_id, role, totp_secret=secret
    )


def sign_in(browser: ConsoleClient, member: Member, *, code_steps_ahead: int = 0) -> TestResponse:
    """Sign ``member`` in through the pages as a person would; the last answer (a 303
    into the console) is returned."""
    page = browser.client.get("/masuk")
    assert page.status_code == 200, page.status_code
    answer = browser.client.post(
        "/masuk",
        data={"email": member.email, "password": member.password, "csrf": csrf_of(page.text)},
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    if location(answer).startswith("/masuk/kode"):
        code_page = browser.client.get(location(answer))
        assert code_page.status_code == 200, code_page.status_code
        answer = browser.client.post(
            location(answer),
            data={"code": member.code(code_steps_ahead), "csrf": csrf_of(code_page.text)},
        )
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    browser.member = member
    account_page = browser.get("/akun")
    assert account_page.status_code == 200, (account_page.status_code, location(account_page))
    return answer


@pytest.fixture
def console_app(seeded_emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The console function on the seeded emulators (plain-HTTP cookies)."""
    monkeypatch.setenv("LAPOR_CONSOLE_INSECURE_COOKIES", "true")
    wiring.reset()
    app = functions_framework.create_app(target="console", source=SOURCE)
    yield app
    wiring.reset()


@pytest.fixture
def anonymous_client(console_app: Any) -> ConsoleClient:
    return ConsoleClient(console_app.test_client())


@pytest.fixture
def signed_in_client(console_app: Any) -> Callable[..., ConsoleClient]:
    """Make a staff member of ``role`` in ``agency_id`` and sign them in (see the module)."""

    def make(
        role: Role, agency_id: str, *, second_factor: bool | None = None, name: str = ""
    ) -> ConsoleClient:
        member = new_member(role, agency_id, second_factor=second_factor, name=name)
        browser = ConsoleClient(console_app.test_client())
        sign_in(browser, member)
        return browser

    return make
