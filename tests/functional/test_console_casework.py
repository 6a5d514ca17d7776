"""The console's casework through functions-framework on the real emulators: internal
notes, assignment and priority, response templates (managed, and filling an action's
form without JavaScript), the reporter's identity shown on request and recorded, and
the change log, for each role and agency. Another agency's report is the 404 of an
unknown one, an officer cannot manage templates or assign others, a form without its
CSRF token changes nothing, and nothing of the casework reaches the reporter, the
public or a webhook."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import quote

import functions_framework
import pytest
from google.cloud import firestore

from shared import wiring
from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import AuditEntry, SystemClock
from shared.tokens import reporter_token
from shared.usecases import casework
from shared.usecases.act import act
from shared.usecases.agency import Caller, key_hash
from shared.usecases.notify import NotificationMessage, build_payload
from shared.usecases.track import track_report
from tests.functional.console_support import ConsoleClient, location, new_member
from tests.functional.test_agency_function import new_report
from tools.api_keys import issue_key
from tools.stack import Emulators

SignedIn = Callable[..., ConsoleClient]
_TEMPLATE_LINK = re.compile(r'href="(/templat/[0-9a-f]{32})"')


def _doc(db: firestore.Client, report_id: str) -> dict[str, Any]:
    return db.collection("reports").document(report_id).get().to_dict() or {}


def _notes(db: firestore.Client, report_id: str) -> list[dict[str, Any]]:
    ref = db.collection("reports").document(report_id).collection("staff_notes")
    return [d.to_dict() or {} for d in ref.stream()]


def _log(db: firestore.Client, kind: str | None = None) -> list[dict[str, Any]]:
    found = [d.to_dict() or {} for d in db.collection("audit_log").stream()]
    return [e for e in found if kind is None or e["kind"] == kind]


def _forward(report_id: str, unit: str = "uptd-jalan-cianjur") -> None:
    act(
        report_id,
        Command(Action.FORWARD, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), unit_id=unit),
        store=wiring.report_store(),
        clock=SystemClock(),
        settings=Settings.from_env(),
    )


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --- signing in comes first --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/laporan/abc/catatan"),
        ("post", "/laporan/abc/penugasan"),
        ("get", "/laporan/abc/identitas"),
        ("post", "/laporan/abc/identitas"),
        ("get", "/templat"),
        ("post", "/templat"),
        ("get", "/riwayat"),
    ],
)
def test_every_casework_page_sends_a_visitor_to_sign_in(
    anonymous_client: ConsoleClient, method: str, path: str
) -> None:
    answer = (
        anonymous_client.post(path, {}, csrf="x")
        if method == "post"
        else anonymous_client.get(path)
    )
    assert answer.status_code == 303 and location(answer).startswith("/masuk")


# --- notes -------------------------------------------------------------------------------


def test_staff_leave_notes_on_a_report_that_others_of_the_agency_read(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Siti Rahma")
    admin.get(f"/laporan/{report_id}")

    answer = admin.post(f"/laporan/{report_id}/catatan", {"catatan": "Sudah dicek ke lokasi."})

    assert answer.status_code == 303
    assert location(answer).startswith(f"/laporan/{report_id}?ok=")
    [note] = _notes(db, report_id)
    assert (note["text"], note["author_name"]) == ("Sudah dicek ke lokasi.", "Siti Rahma")
    colleague = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    page = _text(colleague.get(f"/laporan/{report_id}").text)
    assert "Sudah dicek ke lokasi." in page and "Siti Rahma" in page


def test_an_empty_note_is_refused_beside_its_field_and_nothing_is_written(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get(f"/laporan/{report_id}")

    answer = admin.post(f"/laporan/{report_id}/catatan", {"catatan": "   "})

    assert answer.status_code == 422
    assert 'id="catatan-error"' in answer.text and "Tulis isi catatan." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert _notes(db, report_id) == []


def test_another_agencys_report_takes_no_note_and_shows_none(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    dinkes = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")
    dinkes.get("/kotak-masuk")

    note = dinkes.post(f"/laporan/{report_id}/catatan", {"catatan": "Bukan urusan kami."})
    unknown = dinkes.post("/laporan/tidak-ada/catatan", {"catatan": "x"})

    assert note.status_code == unknown.status_code == 404
    assert _notes(db, report_id) == []


def test_a_note_without_its_csrf_token_changes_nothing(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")

    missing = admin.post(f"/laporan/{report_id}/catatan", {"catatan": "x"}, csrf=None)
    wrong = admin.post(f"/laporan/{report_id}/catatan", {"catatan": "x"}, csrf="nope")
    assignment = admin.post(
        f"/laporan/{report_id}/penugasan", {"petugas": "", "prioritas": "urgent"}, csrf=None
    )

    assert missing.status_code == wrong.status_code == assignment.status_code == 403
    assert _notes(db, report_id) == []
    assert _doc(db, report_id)["priority"] == "normal"


def test_nothing_of_the_casework_reaches_the_reporter_the_public_or_a_webhook(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Siti Rahma")
    admin.get(f"/laporan/{report_id}")
    admin.post(f"/laporan/{report_id}/catatan", {"catatan": "CATATAN-RAHASIA-STAF"})
    me = admin.member
    assert me is not None
    admin.post(f"/laporan/{report_id}/penugasan", {"petugas": me.account_id, "prioritas": "urgent"})
    assert _doc(db, report_id)["priority"] == "urgent"

    store = wiring.report_store()
    report = store.get(report_id)
    assert report is not None
    settings = Settings.from_env()
    token = reporter_token(settings.token_secret, report_id)
    for given in (token, None):  # the reporter's page, then the public's
        tracked = track_report(
            report.tracking_code, given, store=store, settings=settings, clock=SystemClock()
        )
        assert tracked is not None
        text = repr(tracked.report)
        assert "CATATAN-RAHASIA-STAF" not in text and "urgent" not in text
        assert "assignee" not in text and "priority" not in text
    payload = build_payload(
        NotificationMessage(
            kind="report.dispositioned",
            notification_id="n1",
            agency_id="dpupr-cianjur",
            report_id=report_id,
        ),
        store,
    )
    assert payload is not None
    assert "CATATAN-RAHASIA-STAF" not in repr(payload)
    assert "assignee" not in repr(payload) and "priority" not in repr(payload)


# --- assignment and priority ---------------------------------------------------------------


def test_an_admin_assigns_an_officer_of_the_unit_and_the_change_is_recorded(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    _forward(report_id)
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Siti Rahma")
    # The officer of the unit it was forwarded to is offered; another agency's admin is
    # not, nor can be given the report.
    officer = new_member(Role.UNIT_OFFICER, "uptd-jalan-cianjur", name="Budi Santoso")
    stranger = new_member(Role.AGENCY_ADMIN, "dinkes-cianjur", name="Dewi Lestari")
    page = admin.get(f"/laporan/{report_id}").text
    assert "Budi Santoso" in page and "Dewi Lestari" not in page

    refused = admin.post(
        f"/laporan/{report_id}/penugasan", {"petugas": stranger.account_id, "prioritas": "high"}
    )
    assert refused.status_code == 422
    assert "tidak dapat melihat laporan ini" in refused.text
    assert _doc(db, report_id)["assignee_id"] is None

    answer = admin.post(
        f"/laporan/{report_id}/penugasan", {"petugas": officer.account_id, "prioritas": "high"}
    )

    assert answer.status_code == 303
    stored = _doc(db, report_id)
    assert (stored["assignee_id"], stored["assignee_name"], stored["priority"]) == (
        officer.account_id,
        "Budi Santoso",
        "high",
    )
    assert stored["last_seq"] == 3  # no timeline event of its own
    [entry] = _log(db, "report.assigned")
    assert (entry["agency_id"], entry["target"], entry["actor_name"]) == (
        "dpupr-cianjur",
        report_id,
        "Siti Rahma",
    )
    shown = _text(admin.get(f"/laporan/{report_id}").text)
    assert "Budi Santoso" in shown and "Tinggi" in shown


def test_an_officer_takes_a_report_on_but_cannot_give_it_to_someone_else(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    _forward(report_id)
    admin = new_member(Role.AGENCY_ADMIN, "dpupr-cianjur")
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    officer.get(f"/laporan/{report_id}")
    me = officer.member
    assert me is not None

    other = officer.post(
        f"/laporan/{report_id}/penugasan", {"petugas": admin.account_id, "prioritas": "normal"}
    )
    assert other.status_code == 403
    assert _doc(db, report_id)["assignee_id"] is None

    mine = officer.post(
        f"/laporan/{report_id}/penugasan", {"petugas": me.account_id, "prioritas": "urgent"}
    )
    assert mine.status_code == 303
    assert _doc(db, report_id)["assignee_id"] == me.account_id


# --- the reporter's identity ----------------------------------------------------------------


def test_the_identity_is_shown_only_when_asked_for_and_each_view_is_recorded(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()  # named: "Siti Rahma"
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Andi Wijaya")

    page = admin.get(f"/laporan/{report_id}")
    confirm = admin.get(f"/laporan/{report_id}/identitas")
    assert "Siti Rahma" not in page.text and "Siti Rahma" not in confirm.text
    assert _log(db, "identity.viewed") == []  # neither page is a view of the identity

    shown = admin.post(f"/laporan/{report_id}/identitas")

    assert shown.status_code == 200 and "Siti Rahma" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    [entry] = _log(db, "identity.viewed")
    assert (entry["actor_name"], entry["target"], entry["agency_id"]) == (
        "Andi Wijaya",
        report_id,
        "dpupr-cianjur",
    )
    assert entry["actor_id"] == f"staff:{admin.member.account_id}"  # type: ignore[union-attr]
    assert "Siti" not in repr(entry)


def test_an_anonymous_reporter_is_never_shown_and_nothing_is_recorded(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report(anonymous=True)
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get(f"/laporan/{report_id}")

    shown = admin.post(f"/laporan/{report_id}/identitas")

    assert shown.status_code == 200 and "anonim" in shown.text
    assert "Siti Rahma" not in shown.text
    assert _log(db, "identity.viewed") == []


def test_another_agency_cannot_ask_for_the_identity_and_without_csrf_nothing_is_shown(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    dinkes = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")
    dinkes.get("/kotak-masuk")
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")

    assert dinkes.get(f"/laporan/{report_id}/identitas").status_code == 404
    assert dinkes.post(f"/laporan/{report_id}/identitas").status_code == 404
    forged = dpupr.post(f"/laporan/{report_id}/identitas", csrf=None)
    assert forged.status_code == 403 and "Siti Rahma" not in forged.text
    assert _log(db, "identity.viewed") == []


# --- response templates --------------------------------------------------------------------


def test_an_admin_adds_a_template_that_fills_the_action_form_without_javascript(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get("/templat")

    added = admin.post(
        "/templat",
        {
            "judul": "Sedang ditinjau",
            "isi": "Laporan Anda sedang kami tinjau di lapangan.",
            "untuk": ["follow-up", "resolve"],
        },
    )
    assert added.status_code == 303
    listing = admin.get("/templat").text
    [edit_path] = _TEMPLATE_LINK.findall(listing)
    template_id = edit_path.rsplit("/", 1)[1]

    report_page = admin.get(f"/laporan/{report_id}").text
    assert f"templat={template_id}" in report_page  # offered beside the follow-up form
    filled = admin.get(f"/laporan/{report_id}?templat={template_id}&untuk=follow-up")

    assert filled.status_code == 200
    assert "Laporan Anda sedang kami tinjau di lapangan.</textarea>" in filled.text
    # An officer of the agency's unit gets the dinas's templates too.
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert "Sedang ditinjau" in officer.get("/templat").text
    [entry] = _log(db, "template.created")
    assert (entry["target"], entry["agency_id"]) == (template_id, "dpupr-cianjur")


def test_an_admin_edits_and_deletes_a_template_each_recorded(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get("/templat")
    admin.post("/templat", {"judul": "Salam", "isi": "Terima kasih.", "untuk": ["hold"]})
    [edit_path] = _TEMPLATE_LINK.findall(admin.get("/templat").text)

    page = admin.get(edit_path)
    assert page.status_code == 200 and 'value="Salam"' in page.text
    saved = admin.post(
        edit_path, {"judul": "Salam hangat", "isi": "Terima kasih.", "untuk": ["hold"]}
    )
    assert saved.status_code == 303
    assert "Salam hangat" in admin.get("/templat").text

    deleted = admin.post(edit_path + "/hapus")
    assert deleted.status_code == 303
    assert "Salam hangat" not in admin.get("/templat").text
    kinds = sorted(e["kind"] for e in _log(db) if e["kind"].startswith("template."))
    assert kinds == ["template.created", "template.deleted", "template.updated"]


def test_a_template_without_a_title_is_refused_and_linked_from_the_error_summary(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get("/templat")

    refused = admin.post("/templat", {"judul": "", "isi": "Isi.", "untuk": ["resolve"]})

    assert refused.status_code == 422
    assert 'href="#judul"' in refused.text and 'id="judul-error"' in refused.text
    assert "Isi.</textarea>" in refused.text  # what was typed stays
    assert _log(db, "template.created") == []


def test_an_officer_reads_templates_but_manages_none_and_another_agency_edits_none(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get("/templat")
    admin.post("/templat", {"judul": "Salam", "isi": "Terima kasih.", "untuk": ["hold"]})
    [edit_path] = _TEMPLATE_LINK.findall(admin.get("/templat").text)
    officer = signed_in_client(Role.UNIT_OFFICER, "dpupr-cianjur")
    dinkes = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")

    listing = officer.get("/templat")
    assert listing.status_code == 200 and "Salam" in listing.text
    assert 'action="/templat"' not in listing.text  # no form to add one
    assert (
        officer.post("/templat", {"judul": "x", "isi": "y", "untuk": ["hold"]}).status_code == 403
    )
    assert officer.get(edit_path).status_code == 403
    assert dinkes.get(edit_path).status_code == 404
    dinkes.get("/templat")
    assert dinkes.post(edit_path + "/hapus").status_code == 404
    assert [e["kind"] for e in _log(db) if e["kind"].startswith("template.")] == [
        "template.created"
    ]


# --- the change log -----------------------------------------------------------------------


def test_an_agency_admin_sees_its_agencys_log_and_the_identity_views_in_it(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    ours, theirs = new_report(), new_report(agency_id="dinkes-cianjur")
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Andi Wijaya")
    other = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur", name="Dewi Lestari")
    admin.get(f"/laporan/{ours}")
    admin.post(f"/laporan/{ours}/identitas")
    other.get(f"/laporan/{theirs}")
    other.post(f"/laporan/{theirs}/identitas")
    admin.post(f"/laporan/{ours}/penugasan", {"petugas": "", "prioritas": "high"})
    code = str(_doc(db, ours)["tracking_code"])

    log = admin.get("/riwayat")
    views = admin.get("/riwayat?jenis=identitas")

    assert log.status_code == views.status_code == 200
    text, only = _text(log.text), _text(views.text)
    assert "Melihat identitas pelapor" in text and "Menugaskan laporan" in text
    assert code in text and f'href="/laporan/{quote(ours)}"' in log.text
    assert "Dewi Lestari" not in text  # another agency's views are not ours
    assert "Melihat identitas pelapor" in only and "Menugaskan laporan" not in only


def test_an_agency_admins_log_has_its_units_changes_too(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    FirestoreAuditLog(db).record(
        AuditEntry(
            at=dt.datetime.now(dt.UTC),
            agency_id="uptd-jalan-cianjur",
            actor_id="staff:someone",
            actor_name="Rina Kusuma",
            kind="staff.invited",
            target="acc-new",
            details={"role": "unit_officer"},
        )
    )
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    dinkes = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")

    assert "Rina Kusuma" in _text(dpupr.get("/riwayat").text)
    assert "Rina Kusuma" not in _text(dinkes.get("/riwayat").text)


def test_the_national_admin_sees_every_agencys_log_and_an_officer_none(
    signed_in_client: SignedIn,
) -> None:
    theirs = new_report(agency_id="dinkes-cianjur")
    other = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur", name="Dewi Lestari")
    other.get(f"/laporan/{theirs}")
    other.post(f"/laporan/{theirs}/identitas")
    national = signed_in_client(Role.NATIONAL_ADMIN, "nasional")
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")

    everything = _text(national.get("/riwayat").text)
    one = _text(national.get("/riwayat?instansi=dpupr-cianjur").text)

    assert "Dewi Lestari" in everything
    assert "Dewi Lestari" not in one
    assert officer.get("/riwayat").status_code == 403


def test_the_log_pages_back_through_older_entries(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    admin.get(f"/laporan/{report_id}")
    for _ in range(51):
        admin.post(f"/laporan/{report_id}/identitas")

    first = admin.get("/riwayat")
    older = re.search(r'href="(/riwayat\?[^"]*setelah=[^"]+)"', first.text)
    assert older, "no link to older entries"
    second = admin.get(unescape(older.group(1)))

    assert first.text.count("Melihat identitas pelapor") == 50
    assert second.text.count("Melihat identitas pelapor") == 1
    assert admin.get("/riwayat?setelah=rusak").status_code == 400


# --- the agency API records its identity views too -------------------------------------


def test_the_agency_apis_detail_records_each_view_of_a_named_reporter(
    clean_emulators: Emulators, db: firestore.Client
) -> None:
    wiring.reset()
    api = functions_framework.create_app(target="agency", source="functions/agency/main.py")
    key = issue_key(db, "dpupr-cianjur", "agency_admin", "sistem-dpupr")
    named, anonymous = new_report(), new_report(anonymous=True)
    headers = {"Authorization": f"Bearer {key}"}

    shown = api.test_client().get(f"/api/v1/reports/{named}", headers=headers)
    hidden = api.test_client().get(f"/api/v1/reports/{anonymous}", headers=headers)
    wiring.reset()

    assert shown.status_code == hidden.status_code == 200
    assert shown.json["reporter"]["name"] == "Siti Rahma"
    assert "reporter" not in hidden.json
    [entry] = _log(db, "identity.viewed")
    assert entry["actor_id"] == f"key:{key_hash(key)[:12]}"
    assert (entry["actor_name"], entry["target"]) == ("sistem-dpupr", named)


# --- what it costs ---------------------------------------------------------------------------


def test_a_report_pages_casework_costs_four_reads(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    """The report, its notes, the staff of its agency and units, the caller's templates
    (one collection-group query for the whole chain of agencies above a unit)."""
    report_id = new_report()
    _forward(report_id)
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    officer.get(f"/laporan/{report_id}")
    officer.post(f"/laporan/{report_id}/catatan", {"catatan": "Satu catatan."})
    me = officer.member
    assert me is not None
    caller = Caller(me.agency_id, me.role, me.name, f"staff:{me.account_id}")
    stats = wiring.report_store().stats

    before = stats.snapshot()
    work = casework.casework_of(report_id, caller, wiring.console_ports())
    used = stats.since(before)

    assert [n.text for n in work.notes] == ["Satu catatan."]
    assert (used.reads, used.commits) == (4, 0)
