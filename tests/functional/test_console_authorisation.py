"""The console's authorisation matrix, driven by its URL map (shared/web/console/app.py).

Every rule of the map has one row in :data:`TABLE`: who it is for (public, any signed-in
staff member, admins, the national admin), what it names (a report, an account, a key,
a template, an agency, a rule, a one-time link) and its methods; a rule added without
a row fails :func:`test_every_rule_of_the_console_has_a_row`. Each row is then asked by
every caller of :data:`CALLERS`: no session, the national admin, the DPUPR Cianjur
admin, an officer of its UPTD Jalan, the Dinkes Cianjur admin (another agency), a
deactivated account's old session, a session idle too long, one older than its
absolute limit, and two sessions half-way (the code not yet given; an admin's second
factor not yet enrolled). What each must get is computed by :func:`expect` from the
row: a 303 to the sign-in (or the step still owed), the 403 page, the 404 page (for
another agency's report, account, key or template, the very page an unknown id gets),
or the page itself.

The callers are made once for the module on emulators of their own (a module-scoped
world), so the probes run in three passes:

- refused: every probe the caller must be refused, with the form that WOULD change
  something were the refusal missing, and every POST the caller may make, sent without
  its CSRF token, with a wrong one and with another session's; the Firestore documents
  before and after must be the same;
- allowed: every probe the caller passes, with a harmless form where there is one
  (a stale report version, an invalid field: the answer shows every gate was passed
  and nothing changes) and the real one where there is none (a rotation, a deletion);
- signing out last, since it ends the sessions the other passes use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import functions_framework
import pytest
from flask import Flask
from google.cloud import firestore
from werkzeug.routing import AnyConverter, Rule
from werkzeug.test import TestResponse

from shared import wiring
from shared.config import Settings
from shared.domain.report import PERMITTED_ROLES, Action, Actor, Command, Role
from shared.domain.staff import link_token
from shared.ports import ApiKeyPorts, SystemClock
from shared.usecases import agency_admin, casework
from shared.usecases import staff as staff_usecases
from shared.usecases.act import act
from shared.usecases.agency import Caller as ApiCaller
from shared.usecases.daily_report import run_daily_report
from shared.web.agency_app import OPERATIONS
from shared.web.console.app import APP
from tests.conftest import TEST_TOKEN_SECRET
from tests.functional.console_support import (
    CHEAP_PASSWORD_HASHES,
    PASSWORD,
    SOURCE,
    ConsoleClient,
    Member,
    csrf_of,
    location,
    new_member,
    sign_in,
)
from tests.functional.test_console_evidence import report_with_evidence
from tools.seed import seed_emulator
from tools.stack import Emulators

NATIONAL, DPUPR, UPTD, DINKES = "nasional", "dpupr-cianjur", "uptd-jalan-cianjur", "dinkes-cianjur"
TEXT = "Uji matriks otorisasi."
NEW_PASSWORD = "nasi liwet dan sambal terasi 2026"


# --- the table ------------------------------------------------------------------------


class Access(Enum):
    PUBLIC = "public"  # before signing in: anyone
    STAFF = "staff"  # any signed-in staff member
    ADMIN = "admin"  # agency admins and the national admin
    NATIONAL = "national"  # the national admin only


@dataclass(frozen=True)
class Aim:
    """What one probe is about: the caller, the id of what the row names (or the
    agency a page is about), and the version of the caller's own report."""

    caller: Who
    target: str
    seq: str


Form = Callable[[Aim], dict[str, Any]]


def _none(aim: Aim) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    access: Access
    methods: tuple[str, ...]
    # What the rule names: report, account, key, template, agency, rule or link (its
    # path argument; "agency" without one is the ?instansi= / agency_id of a page).
    names: str | None = None
    # The answer of a caller who passes every gate, per method (with ``inert``).
    ok: Mapping[str, int] = field(default_factory=dict)
    # A POST's form that would change something (a refused caller sends it) ...
    form: Form = _none
    # ... and what an allowed caller sends instead so that nothing changes (None: the
    # form itself, whose change is then expected: a rotation, a deletion).
    inert: Form | None = None
    csrf: str = "session"  # "form": the sign-in pages' double-submit cookie
    ends_session: bool = False  # probed in test_signing_out_…, not in the passes


def _act_form(op: str) -> Form:
    """The op's field (the API's body model names it first, as the console's form
    does; the API's own upload ids are not the form's), with the report's version."""
    name = next(iter(OPERATIONS[op].body.model_fields))

    def form(aim: Aim) -> dict[str, Any]:
        value = {"agency_id": aim.caller.scope, "unit_id": UPTD}.get(name, TEXT)
        return {name: value, "seq": aim.seq}

    return form


def _stale(form: Form) -> Form:
    """The form on a version the report left long ago: 409, nothing changes."""
    return lambda aim: {**form(aim), "seq": "1"}


def _scoped(extra: Mapping[str, Any]) -> Form:
    """A form of a page about one agency (its agency_id and shown_agency_id)."""
    return lambda aim: {"agency_id": aim.target, "shown_agency_id": aim.target, **extra}


def _shown_own(aim: Aim) -> dict[str, Any]:
    return {"shown_agency_id": aim.caller.scope}


def _code_form(aim: Aim) -> dict[str, Any]:
    return {"code": aim.caller.code()}


def _agency_edit(aim: Aim) -> dict[str, Any]:
    """The agency's own form with a new short name (an unknown one: DPUPR's)."""
    reference = wiring.console_ports().agency.reference
    agency = reference.agency(aim.target if reference.has_agency(aim.target) else DPUPR)
    return {
        "nama": agency.name,
        "nama_singkat": agency.short_name + " (diubah)",
        "jenis": agency.kind.value,
        "induk": agency.parent or "",
        "wilayah": agency.region or "",
        "kategori": list(agency.categories),
    }


_NEW_AGENCY = {
    "kode": "disnaker-cianjur",
    "nama": "Dinas Tenaga Kerja Kabupaten Cianjur",
    "nama_singkat": "Disnaker Cianjur",
    "jenis": "agency",
    "induk": "pemkab-cianjur",
    "wilayah": "32.03",
    "kategori": ["pelayanan-publik-lainnya.aparatur"],
}
# A rule for drains in Cianjur (its roads' rule: edited to drains).
_RULE = {"kategori": "infrastruktur.drainase", "wilayah": "32.03", "instansi": DPUPR}
_TEMPLATE = {"judul": "Templat uji", "isi": TEXT, "untuk": ["follow-up"]}
_EMPTY_TEMPLATE = {"judul": "", "isi": "", "untuk": ["follow-up"]}
_NEW_PASSWORDS = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
_OTHER_PASSWORDS = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "?"}
GET, POST = ("GET",), ("POST",)
BOTH = ("GET", "POST")

TABLE: Mapping[str, Row] = {
    # The pages before and around signing in (auth_pages), and health.
    "health": Row(Access.PUBLIC, GET, ok={"GET": 200}),
    "home": Row(Access.PUBLIC, GET, ok={"GET": 303}),
    "sign_in": Row(
        Access.PUBLIC,
        BOTH,
        ok={"GET": 200, "POST": 422},
        form=lambda aim: {"email": aim.caller.account_email, "password": PASSWORD},
        inert=lambda aim: {"email": "", "password": ""},
        csrf="form",
    ),
    "second_factor": Row(
        Access.PUBLIC,
        BOTH,
        ok={"GET": 200, "POST": 401},
        form=_code_form,
        inert=lambda aim: {"code": "000000"},
    ),
    # The code of a key only its page shows: the token is checked before it anyway.
    "enrol": Row(
        Access.STAFF,
        BOTH,
        ok={"GET": 200, "POST": 422},
        form=lambda aim: {"code": "000000"},
        inert=lambda aim: {"code": "000000"},
    ),
    "sign_out": Row(Access.PUBLIC, POST, ok={"POST": 303}, ends_session=True),
    "account": Row(Access.STAFF, GET, ok={"GET": 200}),
    "sign_out_everywhere": Row(Access.STAFF, POST, ok={"POST": 303}, ends_session=True),
    "invitation": Row(
        Access.PUBLIC,
        BOTH,
        "link",
        ok={"GET": 200, "POST": 422},
        form=lambda aim: _NEW_PASSWORDS,
        inert=lambda aim: _OTHER_PASSWORDS,
        csrf="form",
    ),
    "forgot_password": Row(
        Access.PUBLIC,
        BOTH,
        ok={"GET": 200, "POST": 422},
        form=lambda aim: {"email": aim.caller.account_email},
        inert=lambda aim: {"email": "bukan-alamat"},
        csrf="form",
    ),
    "password_reset": Row(
        Access.PUBLIC,
        BOTH,
        "link",
        ok={"GET": 200, "POST": 422},
        form=lambda aim: _NEW_PASSWORDS,
        inert=lambda aim: _OTHER_PASSWORDS,
        csrf="form",
    ),
    # Casework pages (work_pages). The action row is asked once per operation.
    "work.inbox": Row(Access.STAFF, GET, ok={"GET": 200}),
    "work.report": Row(Access.STAFF, GET, "report", ok={"GET": 200}),
    "work.act": Row(Access.STAFF, POST, "report", ok={"POST": 409}),
    "work.queue": Row(Access.ADMIN, GET, ok={"GET": 200}),
    "work.route": Row(
        Access.ADMIN,
        POST,
        "report",
        ok={"POST": 409},
        form=_act_form("verify"),
        inert=_stale(_act_form("verify")),
    ),
    "work.figures": Row(Access.STAFF, GET, ok={"GET": 200}),
    # A report's file (evidence_pages): a redirect to a signed URL of the bucket.
    "evidence.file": Row(Access.STAFF, GET, "report", ok={"GET": 302}),
    "work.trend_chart": Row(Access.STAFF, GET, ok={"GET": 200}),
    # Notes, assignment, identity, templates, the change log (casework_pages).
    "casework.note": Row(
        Access.STAFF,
        POST,
        "report",
        ok={"POST": 422},
        form=lambda aim: {"catatan": TEXT},
        inert=lambda aim: {"catatan": " "},
    ),
    "casework.assign": Row(
        Access.STAFF,
        POST,
        "report",
        ok={"POST": 422},
        form=lambda aim: {"petugas": "", "prioritas": "urgent"},
        inert=lambda aim: {"petugas": "", "prioritas": "sangat"},
    ),
    # Asking shows the identity and records the view: that is the allowed answer.
    "casework.identity": Row(Access.STAFF, BOTH, "report", ok={"GET": 200, "POST": 200}),
    "casework.templates": Row(Access.STAFF, GET, ok={"GET": 200}),
    "casework.create_template": Row(
        Access.ADMIN,
        POST,
        ok={"POST": 422},
        form=lambda aim: _TEMPLATE,
        inert=lambda aim: _EMPTY_TEMPLATE,
    ),
    "casework.template": Row(Access.ADMIN, GET, "template", ok={"GET": 200}),
    "casework.save_template": Row(
        Access.ADMIN,
        POST,
        "template",
        ok={"POST": 422},
        form=lambda aim: _TEMPLATE,
        inert=lambda aim: _EMPTY_TEMPLATE,
    ),
    "casework.delete_template": Row(Access.ADMIN, POST, "template", ok={"POST": 303}),
    "casework.history": Row(Access.ADMIN, GET, ok={"GET": 200}),
    # Running the agency (agency_pages): each page is about one agency (?instansi=).
    "run_staff": Row(
        Access.ADMIN,
        BOTH,
        "agency",
        ok={"GET": 200, "POST": 422},
        form=_scoped(
            {"email": "staf.baru@contoh.go.id", "name": "Staf Baru", "role": "unit_officer"}
        ),
        inert=_scoped({"email": "bukan-alamat", "name": "Staf Baru", "role": "unit_officer"}),
    ),
    "run_staff_deactivate": Row(Access.ADMIN, POST, "account", ok={"POST": 303}, form=_shown_own),
    "run_staff_reactivate": Row(Access.ADMIN, POST, "account", ok={"POST": 303}, form=_shown_own),
    "run_staff_reset_code": Row(Access.ADMIN, POST, "account", ok={"POST": 303}, form=_shown_own),
    # The admins' spare accounts are invited ones: still waiting for their password.
    "run_staff_resend": Row(Access.ADMIN, POST, "account", ok={"POST": 303}, form=_shown_own),
    "run_settings": Row(
        Access.ADMIN,
        BOTH,
        "agency",
        ok={"GET": 200, "POST": 422},
        form=_scoped({"webhook_url": "", "emails": "uji@contoh.go.id", "digest": "hourly"}),
        inert=_scoped({"webhook_url": "ftp://contoh.go.id/kait", "emails": ""}),
    ),
    # No webhook address is set in the seed: a test delivery is refused (422).
    "run_webhook_test": Row(
        Access.ADMIN, POST, "agency", ok={"POST": 422}, form=_scoped({}), inert=_scoped({})
    ),
    "run_secret_rotate": Row(Access.ADMIN, POST, "agency", ok={"POST": 200}, form=_scoped({})),
    "run_api_keys": Row(
        Access.ADMIN,
        BOTH,
        "agency",
        ok={"GET": 200, "POST": 422},
        form=_scoped({"label": "Kunci uji", "role": "unit_officer"}),
        inert=_scoped({"label": " ", "role": "unit_officer"}),
    ),
    "run_api_key_revoke": Row(Access.ADMIN, POST, "key", ok={"POST": 303}, form=_shown_own),
    # Agencies and routing rules (reference_pages).
    "reference_agencies": Row(
        Access.NATIONAL,
        BOTH,
        ok={"GET": 200, "POST": 422},
        form=lambda aim: _NEW_AGENCY,
        inert=lambda aim: {**_NEW_AGENCY, "nama": ""},
    ),
    "reference_agency": Row(
        Access.NATIONAL,
        BOTH,
        "agency",
        ok={"GET": 200, "POST": 422},
        form=_agency_edit,
        inert=lambda aim: {**_agency_edit(aim), "nama": ""},
    ),
    "reference_rules": Row(
        Access.NATIONAL,
        BOTH,
        ok={"GET": 200, "POST": 422},
        form=lambda aim: {"kode": "uji-matriks", **_RULE},
        inert=lambda aim: {"kode": "uji-matriks", **_RULE, "kategori": ""},
    ),
    "reference_rule": Row(
        Access.NATIONAL,
        BOTH,
        "rule",
        ok={"GET": 200, "POST": 422},
        form=lambda aim: _RULE,
        inert=lambda aim: {**_RULE, "kategori": ""},
    ),
    "reference_rule_delete": Row(Access.NATIONAL, POST, "rule", ok={"POST": 303}),
}

# The officer's answer to each action on a report of its unit, with its current version
# (None: it may take it; it gets the stale version's 409 like everyone allowed). An
# officer routes nowhere, so "verify" is the same 422 whatever the report.
OFFICER_ACTS: Mapping[str, int | None] = {
    "verify": 422,
    "forward": 403,
    "follow-up": None,
    "not-our-authority": 403,
    "hold": 409,  # not from "dispositioned", before any role is asked
    "archive": 403,
    "resolve": None,
    "mark-supervisory": 403,
}
ARGUMENT = {
    "report": "report_id",
    "account": "account_id",
    "key": "key_id",
    "template": "template_id",
    "agency": "agency_id",
    "rule": "rule_id",
    "link": "token",
}
# A report's file is named beside its report (its id is looked up by the report's).
FILE_ARGUMENT = "file_id"
UNKNOWN_FILE = "f0000000000"
# What an unknown one is called (a key id is a 64-digit hash, a template's 32).
UNKNOWN = {
    "report": "tidak-ada",
    "account": "0" * 20,
    "key": "0" * 64,
    "template": "0" * 32,
    "agency": "tidak-ada",
    "rule": "tidak-ada",
    "link": "bukan-token",
}


def _rules() -> dict[str, Rule]:
    return {rule.endpoint: rule for rule in APP.urls.iter_rules()}


def _methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def _operations(rule: Rule) -> list[str]:
    converter = rule._converters.get("op")  # the map's own list of ops
    return sorted(converter.items) if isinstance(converter, AnyConverter) else [""]


def test_every_rule_of_the_console_has_a_row() -> None:
    rules = _rules()
    assert sorted(rules) == sorted(TABLE), "a rule without a row, or a row without a rule"
    for endpoint, rule in rules.items():
        row = TABLE[endpoint]
        assert _methods(rule) == set(row.methods), endpoint
        named = set(rule.arguments) - {"op", FILE_ARGUMENT}
        if named:
            assert row.names is not None and named == {ARGUMENT[row.names]}, endpoint
        else:
            assert row.names in (None, "agency"), endpoint  # an agency as ?instansi=
        assert set(row.ok) == set(row.methods), endpoint
    # Every action is classified for the officer, and the table agrees with the lifecycle.
    assert _operations(rules["work.act"]) == sorted(OFFICER_ACTS) == sorted(OPERATIONS)
    for op, refused in OFFICER_ACTS.items():
        permitted = Role.UNIT_OFFICER in PERMITTED_ROLES[OPERATIONS[op].action]
        assert permitted == (refused is None), op


# --- who calls ------------------------------------------------------------------------


class State(Enum):
    NONE = "no session"
    FULL = "signed in"
    DEACTIVATED = "deactivated"
    IDLE = "idle too long"
    OLD = "past the absolute limit"
    CODE_OWED = "code not yet given"
    ENROL_OWED = "second factor not yet enrolled"


@dataclass
class Who:
    """One caller: a browser, its session's state and the ids of what it probes."""

    name: str
    state: State
    browser: ConsoleClient
    role: Role | None = None
    member: Member | None = None
    scope: str = DPUPR  # the agency its pages are about
    csrf: str = ""  # its session's token
    form_csrf: str = ""  # its form cookie's (the sign-in pages)
    own: dict[str, str] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)  # another agency's (none: all reach)
    account_email: str = ""  # an officer's address, for the sign-in pages' forms

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN)

    @property
    def is_national(self) -> bool:
        return self.role is Role.NATIONAL_ADMIN

    def code(self) -> str:
        """The code its authenticator shows now (none: a made-up one)."""
        if self.member is None or self.member.totp_secret is None:
            return "000000"
        return self.member.code()


CALLERS = (
    "no-session",
    "national",
    "dpupr-admin",
    "uptd-officer",
    "dinkes-admin",
    "deactivated",
    "idle",
    "too-old",
    "code-owed",
    "enrolment-owed",
)


@dataclass
class World:
    app: Flask
    db: firestore.Client
    callers: dict[str, Who]
    seq: dict[str, str]  # report id -> its current version
    files: dict[str, str]  # report id -> the id of its file (a photo)


def _link(db: firestore.Client, kind: str, account_id: str) -> str:
    """The token notify would put in the e-mail, derived from the link id on the bus."""
    for entry in db.collection("outbox").stream():
        payload = (entry.to_dict() or {}).get("data") or {}
        if payload.get("kind") == kind and payload.get("account_id") == account_id:
            return link_token(TEST_TOKEN_SECRET, payload["link_id"])
    raise AssertionError(f"no {kind} for {account_id} in the outbox")


def _sessions(db: firestore.Client, account_id: str) -> list[firestore.DocumentReference]:
    found = db.collection("staff_sessions").where(
        filter=firestore.FieldFilter("account_id", "==", account_id)
    )
    return [session.reference for session in found.stream()]


def _api_caller(member: Member) -> ApiCaller:
    return ApiCaller(
        member.agency_id, member.role, key_label=member.name, actor_id=f"staff:{member.account_id}"
    )


def _system(report_id: str, command: Command) -> None:
    settings = Settings.from_env()
    act(report_id, command, store=wiring.report_store(), clock=SystemClock(), settings=settings)


@pytest.fixture(scope="module")
def world(emulators: Emulators) -> Iterator[World]:
    """Seeded emulators of this module's own, the console, its callers and their targets."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAPOR_TOKEN_SECRET", TEST_TOKEN_SECRET)
        patch.setenv("LAPOR_CONSOLE_INSECURE_COOKIES", "true")
        for name, value in {**CHEAP_PASSWORD_HASHES, **emulators.env()}.items():
            patch.setenv(name, value)
        emulators.reset()
        seed_emulator(emulators.firestore_host, emulators.project)
        wiring.reset()
        app = functions_framework.create_app(target="console", source=SOURCE)
        db = firestore.Client(project=emulators.project)
        try:
            yield _build(app, db)
        finally:
            db.close()
            wiring.reset()


def _build(app: Flask, db: firestore.Client) -> World:
    # Reports: DPUPR's, forwarded to its roads unit; Dinkes's. Both name the reporter
    # and have their files.
    dpupr_report, dinkes_report = report_with_evidence(), report_with_evidence(DINKES)
    _system(dpupr_report, Command(Action.FORWARD, Actor(Role.AGENCY_ADMIN, DPUPR), unit_id=UPTD))
    # The day's figures, so that the figures page has its trend chart to draw.
    today = Settings.from_env().calendar().local_date(dt.datetime.now(dt.UTC))
    run_daily_report(today, wiring.daily_report_ports())
    seq = {report_id: _version(db, report_id) for report_id in (dpupr_report, dinkes_report)}
    callers = _callers(app, db)
    _give_targets(db, callers, {DPUPR: dpupr_report, DINKES: dinkes_report})
    files = {report_id: _file(db, report_id) for report_id in (dpupr_report, dinkes_report)}
    return World(app, db, callers, seq, files)


def _file(db: firestore.Client, report_id: str) -> str:
    report = db.collection("reports").document(report_id).get().to_dict() or {}
    return str(report["attachments"][0]["id"])


def _version(db: firestore.Client, report_id: str) -> str:
    return str((db.collection("reports").document(report_id).get().to_dict() or {})["last_seq"])


def _callers(app: Flask, db: firestore.Client) -> dict[str, Who]:
    """Everyone of CALLERS, signed in as far as their state says."""
    ports = wiring.console_ports()
    settings = ports.settings
    callers = {"no-session": Who("no-session", State.NONE, ConsoleClient(app.test_client()))}
    for name, role, agency_id in (
        ("national", Role.NATIONAL_ADMIN, NATIONAL),
        ("dpupr-admin", Role.AGENCY_ADMIN, DPUPR),
        ("uptd-officer", Role.UNIT_OFFICER, UPTD),
        ("dinkes-admin", Role.AGENCY_ADMIN, DINKES),
        ("deactivated", Role.AGENCY_ADMIN, DPUPR),
        ("idle", Role.AGENCY_ADMIN, DPUPR),
        ("too-old", Role.AGENCY_ADMIN, DPUPR),
    ):
        member = new_member(role, agency_id)
        browser = ConsoleClient(app.test_client())
        sign_in(browser, member)
        callers[name] = Who(name, State.FULL, browser, role, member, csrf=browser.csrf)
    callers["national"].scope = DPUPR  # the national admin runs any agency's pages
    callers["dinkes-admin"].scope = DINKES

    # Half-way: the password given, the code (or an admin's enrolment) still owed.
    for name, state, step in (
        ("code-owed", State.CODE_OWED, "/masuk/kode"),
        ("enrolment-owed", State.ENROL_OWED, "/masuk/daftar-kode"),
    ):
        member = new_member(Role.AGENCY_ADMIN, DPUPR, second_factor=state is State.CODE_OWED)
        browser = ConsoleClient(app.test_client())
        page = browser.get("/masuk")
        answer = browser.post(
            "/masuk", {"email": member.email, "password": PASSWORD}, csrf=csrf_of(page.text)
        )
        assert location(answer) == step, location(answer)
        owed = browser.get(step)  # its form carries the half-session's token
        callers[name] = Who(
            name, state, browser, Role.AGENCY_ADMIN, member, csrf=csrf_of(owed.text)
        )

    # Sessions that were good: the account deactivated since, idle past the limit,
    # older than the absolute one.
    callers["deactivated"].state = State.DEACTIVATED
    staff_usecases.deactivate(
        staff_usecases.SYSTEM, _member(callers["deactivated"]).account_id, ports
    )
    now = dt.datetime.now(dt.UTC)
    callers["idle"].state = State.IDLE
    [idle] = _sessions(db, _member(callers["idle"]).account_id)
    idle.update({"last_seen_at": now - dt.timedelta(minutes=settings.console_idle_minutes + 1)})
    callers["too-old"].state = State.OLD
    [old] = _sessions(db, _member(callers["too-old"]).account_id)
    old.update({"created_at": now - dt.timedelta(hours=settings.console_absolute_hours + 1)})

    for who in callers.values():  # the form cookie the sign-in pages' forms repeat
        if who.browser.client.get_cookie("lapor_console_form") is None:
            who.browser.get("/masuk")
        cookie = who.browser.client.get_cookie("lapor_console_form")
        assert cookie is not None
        who.form_csrf = cookie.value
    return callers


def _give_targets(db: firestore.Client, callers: dict[str, Who], reports: dict[str, str]) -> None:
    """Each admin's own spare account, API key and template; everyone's report (its
    agency's), links, rule; and another agency's of each kind."""
    ports = wiring.console_ports()
    keys = ApiKeyPorts(ports.agency_admin, ports.clock, ports.agency.reference)
    for name, account_agency in (
        ("national", "pemkab-cianjur"),
        ("dpupr-admin", UPTD),
        ("dinkes-admin", "puskesmas-cipanas"),
    ):
        who = callers[name]
        admin = _api_caller(_member(who))
        spare = staff_usecases.invite(
            staff_usecases.SYSTEM,
            f"cadangan.{name}@contoh.go.id",
            f"Cadangan {name}",
            Role.UNIT_OFFICER,
            account_agency,
            ports,
        )
        key = agency_admin.issue_api_key(admin, admin.agency_id, Role.UNIT_OFFICER, name, keys)
        typed = casework.TemplateInput("Templat " + name, TEXT, ["follow-up"])
        template = casework.create_template(admin, typed, ports)
        who.own.update(account=spare.account_id, key=key.record.key_hash, template=template.id)

    # One-time links (public): an invitation, and a reset of an officer's password.
    invited = staff_usecases.invite(
        staff_usecases.SYSTEM,
        "undangan.uji@contoh.go.id",
        "Undangan Uji",
        Role.UNIT_OFFICER,
        UPTD,
        ports,
    )
    resetting = new_member(Role.UNIT_OFFICER, UPTD, name="Lupa Sandi")
    staff_usecases.request_password_reset(resetting.email, ports, client_key="uji")
    shared = {
        "rule": "cianjur-jalan",
        "invitation": _link(db, "staff.invitation", invited.account_id),
        "password_reset": _link(db, "staff.password_reset", resetting.account_id),
    }

    dpupr, dinkes = callers["dpupr-admin"], callers["dinkes-admin"]
    for who in callers.values():
        agency_admins = dinkes if who.scope == DINKES else dpupr  # whose things it would run
        who.own = {**agency_admins.own, **who.own, **shared}
        who.own.update(report=reports[who.scope], agency=who.scope)
        who.account_email = resetting.email
    for who, theirs in ((dpupr, dinkes), (callers["uptd-officer"], dinkes), (dinkes, dpupr)):
        kinds = ("report", "account", "key", "template", "agency")
        who.other.update({kind: theirs.own[kind] for kind in kinds})
    # The national admin reaches every report, account, key and agency, but manages
    # only its own agency's templates.
    callers["national"].other["template"] = dpupr.own["template"]


def _member(who: Who) -> Member:
    assert who.member is not None
    return who.member


# --- what each caller must get ---------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    to: str = ""  # where a 303 leads (its path)
    says: str = ""  # a phrase of the page
    allowed: bool = False  # the caller passed every gate
    gated: bool = False  # decided before what the probe names was looked at
    back: bool = False  # a GET comes back here after signing in (?next=)


SIGN_IN = Answer(303, "/masuk", gated=True, back=True)
START_OVER = Answer(303, "/masuk", gated=True)  # no session to go on with
STEP_OWED = {
    State.CODE_OWED: Answer(303, "/masuk/kode", gated=True),
    State.ENROL_OWED: Answer(303, "/masuk/daftar-kode", gated=True),
}
FORBIDDEN = Answer(403, says="Tidak diizinkan", gated=True)
NOT_FOUND = Answer(404, says="Halaman tidak ditemukan")
LINK_GONE = Answer(404, says="Tautan tidak berlaku")
CSRF_REFUSED = Answer(403, says="Formulir kedaluwarsa, muat ulang halaman")
LIVE = (State.FULL, State.CODE_OWED, State.ENROL_OWED)  # a session signing out would end


def expect(endpoint: str, method: str, who: Who, whose: str, op: str = "") -> Answer:
    """What ``who`` must get from the row's ``method`` on its own target, another
    agency's (``other``) or an unknown one."""
    row = TABLE[endpoint]
    allowed = Answer(row.ok[method], allowed=True)
    # The pages before and around signing in answer by the session's stage.
    if endpoint == "home":
        return Answer(303, "/kotak-masuk", allowed=True)
    if endpoint == "sign_in" and method == "GET" and who.state is State.FULL:
        return Answer(303, "/kotak-masuk", allowed=True)  # signed in already
    if endpoint == "second_factor":
        return allowed if who.state is State.CODE_OWED else START_OVER
    if endpoint == "enrol" and who.state is State.ENROL_OWED:
        return allowed
    if endpoint == "sign_out":
        return Answer(303, "/masuk", allowed=True) if who.state in LIVE else START_OVER
    if row.access is not Access.PUBLIC:
        if who.state in (State.NONE, State.DEACTIVATED, State.IDLE, State.OLD):
            return SIGN_IN
        if who.state in STEP_OWED:
            return STEP_OWED[who.state]
        if (row.access is Access.ADMIN and not who.is_admin) or (
            row.access is Access.NATIONAL and not who.is_national
        ):
            return FORBIDDEN
    if endpoint == "work.act" and who.role is Role.UNIT_OFFICER:
        refused = OFFICER_ACTS[op]
        if refused is not None and (whose == "own" or op == "verify"):
            return Answer(refused, gated=op == "verify")
    if whose != "own":
        return LINK_GONE if row.names == "link" else NOT_FOUND
    return allowed


@dataclass(frozen=True)
class Probe:
    endpoint: str
    method: str
    op: str
    whose: str  # "own", "other" (another agency's) or "unknown"
    answer: Answer = field(compare=False)

    def __str__(self) -> str:
        op = f"[{self.op}]" if self.op else ""
        return f"{self.method} {self.endpoint}{op} ({self.whose})"


RULES = _rules()
URLS = APP.urls.bind("console.test")


def probes(who: Who) -> Iterator[Probe]:
    """Every row of the table as ``who`` asks it, in the table's order."""
    for endpoint, row in TABLE.items():
        for op in _operations(RULES[endpoint]):
            for method in row.methods:
                own = expect(endpoint, method, who, "own", op)
                if row.ends_session and own.allowed and who.state in LIVE:
                    continue  # test_signing_out_… ends it, once everything else is asked
                yield Probe(endpoint, method, op, "own", own)
                if own.gated or row.names is None:
                    continue
                for whose in ("other", "unknown") if row.names in who.other else ("unknown",):
                    yield Probe(
                        endpoint, method, op, whose, expect(endpoint, method, who, whose, op)
                    )


def _target(probe: Probe, who: Who) -> str:
    names = TABLE[probe.endpoint].names
    if names is None:
        return who.scope
    if probe.whose == "unknown":
        return UNKNOWN[names]
    key = probe.endpoint if names == "link" else names  # each link row its own link
    return (who.other if probe.whose == "other" else who.own)[key]


def _form(probe: Probe, world: World, who: Who, *, harmless: bool) -> dict[str, Any]:
    row = TABLE[probe.endpoint]
    target = _target(probe, who)
    report = target if row.names == "report" else who.own["report"]
    aim = Aim(who, target, world.seq.get(report, "2"))
    form = _act_form(probe.op) if probe.endpoint == "work.act" else row.form
    if not harmless:
        return form(aim)
    inert = _stale(form) if probe.endpoint == "work.act" else row.inert
    return (inert or form)(aim)


def _token(probe: Probe, who: Who) -> str:
    """The token a form of this caller carries: its form cookie's on the sign-in pages,
    its session's elsewhere (a made-up one without a session)."""
    if TABLE[probe.endpoint].csrf == "form":
        return who.form_csrf
    return who.csrf or "x" * 43


def send(
    world: World, probe: Probe, who: Who, *, harmless: bool, csrf: str | None = ""
) -> TestResponse:
    row = TABLE[probe.endpoint]
    target = _target(probe, who)
    rule = RULES[probe.endpoint]
    values = {"op": probe.op} if probe.op else {}
    in_path = row.names is not None and ARGUMENT[row.names] in rule.arguments
    if in_path:
        values[ARGUMENT[row.names or ""]] = target
    if FILE_ARGUMENT in rule.arguments:
        values[FILE_ARGUMENT] = world.files.get(target, UNKNOWN_FILE)
    path = URLS.build(probe.endpoint, values)
    if probe.method == "GET":
        if row.names == "agency" and not in_path:
            path += f"?instansi={target}"
        return who.browser.get(path)
    form = _form(probe, world, who, harmless=harmless)
    return who.browser.post(path, form, csrf=_token(probe, who) if csrf == "" else csrf)


def wrong_answer(response: TestResponse, answer: Answer, probe: Probe, *, token: bool) -> str:
    """Why ``response`` is not ``answer`` ("" when it is)."""
    text = response.get_data(as_text=True)
    problems = []
    if response.status_code != answer.status:
        problems.append(f"status {response.status_code}, not {answer.status}")
    if answer.to:
        where = urlsplit(response.headers.get("Location", ""))
        if where.path != answer.to:
            problems.append(f"to {where.path!r}, not {answer.to!r}")
        # A page asked for is come back to after signing in (the inbox is where it leads).
        asked = response.request.full_path.rstrip("?")
        back = parse_qs(where.query).get("next", [""])[0]
        if answer.back and probe.method == "GET" and back != asked != "/kotak-masuk":
            problems.append(f"next={back!r}, not {asked!r}")
    if answer.says and answer.says not in text:
        problems.append(f"no {answer.says!r}")
    if token and answer is not CSRF_REFUSED and CSRF_REFUSED.says in text:
        problems.append("its token was refused")  # the probe itself is wrong
    return f"{probe}: {'; '.join(problems)}" if problems else ""


# --- what changed ---------------------------------------------------------------------


def snapshot(db: firestore.Client) -> dict[str, dict[str, Any]]:
    """Every document in the emulator (a session's last_seen_at aside: reading a page
    may keep a session alive)."""
    found: dict[str, dict[str, Any]] = {}
    for collection in db.collections():
        for doc in collection.recursive().stream():
            data = doc.to_dict() or {}
            if doc.reference.parent.id == "staff_sessions":
                data.pop("last_seen_at", None)
            found[doc.reference.path] = data
    return found


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


# --- the passes -----------------------------------------------------------------------


def _other_session(world: World, who: Who, row: Row) -> str:
    """Another browser's token: another member's session, another form cookie."""
    other = world.callers["national" if who.name != "national" else "dpupr-admin"]
    return other.form_csrf if row.csrf == "form" else other.csrf


@pytest.mark.parametrize("name", CALLERS)
def test_each_refusal_answers_as_the_table_says_and_changes_nothing(
    world: World, name: str
) -> None:
    """Refused probes send the form that would change something; each POST the caller
    may make goes without its token, with a wrong one and with another session's."""
    who = world.callers[name]
    before = snapshot(world.db)
    wrong: list[str] = []
    pages: dict[Probe, TestResponse] = {}
    for probe in probes(who):
        row = TABLE[probe.endpoint]
        if not probe.answer.allowed:
            pages[probe] = send(world, probe, who, harmless=False)
            wrong.append(wrong_answer(pages[probe], probe.answer, probe, token=True))
        elif probe.method == "POST" and probe.whose == "own":
            for token in (None, "salah", _other_session(world, who, row)):
                response = send(world, probe, who, harmless=False, csrf=token)
                wrong.append(wrong_answer(response, CSRF_REFUSED, probe, token=False))
    after = snapshot(world.db)
    # Another agency's report, account, key or template: the very page of an unknown one.
    for probe, response in pages.items():
        if probe.whose != "other":
            continue
        unknown = pages[replace(probe, whose="unknown")]
        names = TABLE[probe.endpoint].names or ""
        theirs = response.get_data(as_text=True).replace(who.other[names], "X")
        none = unknown.get_data(as_text=True).replace(UNKNOWN[names], "X")
        if FILE_ARGUMENT in RULES[probe.endpoint].arguments:
            theirs = theirs.replace(world.files[who.other[names]], "F")
            none = none.replace(UNKNOWN_FILE, "F")
        wrong.append("" if theirs == none else f"{probe}: not the page of an unknown id")
    assert wrong and any(path.count("/") == 3 for path in before)  # sub-collections seen
    assert not any(wrong), "\n".join(filter(None, wrong))
    assert changed(before, after) == []


@pytest.mark.parametrize("name", CALLERS)
def test_each_caller_passes_the_gates_the_table_opens(world: World, name: str) -> None:
    """Allowed probes send a harmless form where there is one (a stale version, an
    invalid field), so each answer shows every gate was passed."""
    who = world.callers[name]
    wrong = [
        wrong_answer(send(world, probe, who, harmless=True), probe.answer, probe, token=True)
        for probe in probes(who)
        if probe.answer.allowed
    ]
    assert not any(wrong), "\n".join(filter(None, wrong))


def test_signing_out_takes_the_sessions_token_and_ends_only_what_it_says(world: World) -> None:
    """Last, as it ends the sessions the passes use. Without its token (none, a wrong
    one, another session's) neither /keluar nor /akun/keluar-semua ends anything; with
    it, /keluar ends this session only and /akun/keluar-semua every one of the member's."""
    live = [who for who in world.callers.values() if who.state in LIVE]
    before = snapshot(world.db)
    wrong: list[str] = []
    for who in live:
        stranger = world.callers["national" if who.name != "national" else "dpupr-admin"]
        for endpoint, path in (
            ("sign_out", "/keluar"),
            ("sign_out_everywhere", "/akun/keluar-semua"),
        ):
            answer = expect(endpoint, "POST", who, "own")
            answer = CSRF_REFUSED if answer.allowed else answer
            probe = Probe(endpoint, "POST", "", "own", answer)
            for token in (None, "salah", stranger.csrf):
                response = who.browser.post(path, {}, csrf=token)
                wrong.append(wrong_answer(response, answer, probe, token=False))
    assert not any(wrong), "\n".join(filter(None, wrong))
    assert changed(before, snapshot(world.db)) == []

    for who in live:
        member = _member(who)
        if who.state is State.FULL:
            laptop = ConsoleClient(world.app.test_client())
            sign_in(laptop, member, code_steps_ahead=1 if member.totp_secret else 0)
            out = laptop.post("/keluar", {}, csrf=laptop.csrf)
            assert out.status_code == 303 and location(out).startswith("/masuk?ok="), who.name
            assert location(laptop.get("/akun")).startswith("/masuk"), who.name
            assert who.browser.get("/akun").status_code == 200, who.name  # this one goes on
            path = "/akun/keluar-semua"
        else:
            path = "/keluar"  # a half-way session ends too
        out = who.browser.post(path, {}, csrf=who.csrf)
        assert out.status_code == 303 and location(out).startswith("/masuk?ok="), who.name
        assert _sessions(world.db, member.account_id) == [], who.name
        assert location(who.browser.get("/akun")).startswith("/masuk"), who.name
