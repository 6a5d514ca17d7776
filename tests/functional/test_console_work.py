"""The console's casework pages through functions-framework on the real emulators:
the inbox (counts, filters, search by tracking code, paging), a report page and its
actions, the admin queue and the figures, for each role and agency: another agency's
report is the 404 of an unknown one, an officer cannot take an admin action, a form
without its CSRF token or on a report that changed meanwhile changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import functions_framework
import pytest
from google.cloud import firestore

from shared import wiring
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import SystemClock
from shared.usecases.act import act
from tests.functional.console_support import ConsoleClient, location
from tests.functional.test_agency_function import LONG_AGO, events, fire, new_report, state

SignedIn = Callable[..., ConsoleClient]

_ACTION_FORM = re.compile(r'action="/laporan/[^/"]+/tindakan/([a-z-]+)"')


def _doc(db: firestore.Client, report_id: str) -> dict[str, Any]:
    return db.collection("reports").document(report_id).get().to_dict() or {}


def _code(db: firestore.Client, report_id: str) -> str:
    return str(_doc(db, report_id)["tracking_code"])


def _seq(db: firestore.Client, report_id: str) -> int:
    return int(_doc(db, report_id)["last_seq"])


def _forms(html: str) -> list[str]:
    """The actions a report page offers, as their operation names."""
    return _ACTION_FORM.findall(html)


def _system(report_id: str, command: Command) -> None:
    act(
        report_id,
        command,
        store=wiring.report_store(),
        clock=SystemClock(),
        settings=Settings.from_env(),
    )


def _forward(report_id: str, unit: str = "uptd-jalan-cianjur") -> None:
    command = Command(Action.FORWARD, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), unit_id=unit)
    _system(report_id, command)


def _queued(suggested: str | None = "dpupr-cianjur") -> str:
    """An unrouted report in Cianjur that routing gave to the admins, with a suggestion."""
    report_id = new_report(agency_id=None)
    data: dict[str, str | int] = {"confidence": "0.42"}
    if suggested:
        data["suggested_agency_id"] = suggested
    command = Command(
        Action.QUEUE_FOR_ADMIN,
        Actor(Role.SYSTEM, "system:route"),
        reason="Tidak ada aturan yang cocok",
        data=data,
    )
    _system(report_id, command)
    return report_id


# --- signing in comes first -------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/kotak-masuk", "/laporan/abc", "/antrean", "/angka", "/angka/tren.svg"]
)
def test_every_work_page_sends_a_visitor_to_sign_in(
    anonymous_client: ConsoleClient, path: str
) -> None:
    answer = anonymous_client.get(path)
    assert answer.status_code == 303
    # The inbox is where signing in leads anyway; any other page is come back to.
    expected = "/masuk" if path == "/kotak-masuk" else "/masuk?next=" + quote(path, safe="")
    assert location(answer) == expected


def test_an_action_without_a_session_changes_nothing(
    anonymous_client: ConsoleClient, db: firestore.Client
) -> None:
    report_id = new_report()
    answer = anonymous_client.post(
        f"/laporan/{report_id}/tindakan/follow-up", {"message": "x", "seq": "2"}, csrf="x"
    )
    assert answer.status_code == 303 and location(answer).startswith("/masuk")
    assert len(events(db, report_id)) == 2


# --- the inbox ----------------------------------------------------------------------------


def test_the_inbox_counts_and_lists_only_the_callers_reports(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    mine, theirs = new_report(), new_report(agency_id="dinkes-cianjur")
    followed = new_report()
    _system(
        followed,
        Command(Action.FOLLOW_UP, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), message="Ditinjau."),
    )
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")

    page = dpupr.get("/kotak-masuk")

    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert "<h1>Kotak masuk</h1>" in html and '<html lang="id">' in html
    assert _code(db, mine) in html and _code(db, followed) in html
    assert _code(db, theirs) not in html
    # One card per figure, each a link that filters the inbox.
    assert re.search(r'href="/kotak-masuk\?status=dispositioned"><span class="big">1</span>', html)
    assert re.search(r'href="/kotak-masuk\?status=in_progress"><span class="big">1</span>', html)
    assert re.search(r'href="/kotak-masuk\?terlambat=1"><span class="big">0</span>', html)
    assert "/antrean" not in html.split("<main", 1)[1]  # a dinas has no admin queue
    assert '<th scope="col">' in html and '<th scope="row">' in html

    filtered = dpupr.get("/kotak-masuk?status=in_progress")
    assert _code(db, followed) in filtered.text and _code(db, mine) not in filtered.text
    assert 'aria-current="true"' in filtered.text

    english = dpupr.get("/kotak-masuk?lang=en")
    assert "<h1>Inbox</h1>" in english.text and 'href="/kotak-masuk?status=' in english.text


def test_assigned_to_me_counts_and_filters_the_inbox(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    mine, other = new_report(), new_report()
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    assert dpupr.member is not None
    given = dpupr.post(
        f"/laporan/{mine}/penugasan", {"petugas": dpupr.member.account_id, "prioritas": "high"}
    )
    assert given.status_code == 303, given.text[:500]

    page = dpupr.get("/kotak-masuk?saya=1").text

    assert _code(db, mine) in page and _code(db, other) not in page
    assert re.search(
        r'href="/kotak-masuk\?saya=1" aria-current="true"><span class="big">1</span>', page
    )
    with_status = dpupr.get("/kotak-masuk?saya=1&status=dispositioned").text
    assert _code(db, mine) in with_status
    assert dpupr.get("/kotak-masuk?saya=1&terlambat=1").status_code == 400


def test_overdue_and_escalated_reports_are_counted_filtered_and_labelled(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    calm = new_report()
    late = new_report(at=LONG_AGO)
    fire(late, "overdue")
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")

    page = dpupr.get("/kotak-masuk").text
    assert re.search(r'href="/kotak-masuk\?terlambat=1"><span class="big">1</span>', page)
    assert re.search(r'href="/kotak-masuk\?eskalasi=1"><span class="big">1</span>', page)
    escalated = dpupr.get("/kotak-masuk?eskalasi=1").text
    assert _code(db, late) in escalated and _code(db, calm) not in escalated
    assert "Terlambat: admin instansi diberi tahu" in escalated
    overdue = dpupr.get("/kotak-masuk?terlambat=1&status=dispositioned").text
    assert _code(db, late) in overdue and _code(db, calm) not in overdue
    report = dpupr.get(f"/laporan/{late}").text
    assert report.count("Terlambat: admin instansi diberi tahu") >= 2  # badge and timeline
    assert '<span class="status late">Terlambat</span>' in report


def test_a_unit_officer_sees_only_what_was_forwarded_to_the_unit(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    forwarded, kept = new_report(), new_report()
    _forward(forwarded)
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    html = officer.get("/kotak-masuk").text
    assert _code(db, forwarded) in html and _code(db, kept) not in html
    assert "Antrean admin" not in html  # neither the card nor the menu


def test_a_tracking_code_opens_the_report_typed_loosely_and_only_in_scope(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    mine, theirs = new_report(), new_report(agency_id="dinkes-cianjur")
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    code = _code(db, mine)

    found = dpupr.get(f"/kotak-masuk?kode={code.replace('-', ' ').lower()}")
    assert found.status_code == 303 and location(found) == f"/laporan/{mine}"

    elsewhere = dpupr.get(f"/kotak-masuk?kode={_code(db, theirs)}")
    assert elsewhere.status_code == 404
    assert "Tidak ada laporan dengan kode itu" in elsewhere.text
    assert 'href="#kode"' in elsewhere.text and 'aria-invalid="true"' in elsewhere.text

    malformed = dpupr.get("/kotak-masuk?kode=K7M-2XQ")
    assert malformed.status_code == 400 and "tidak sah" in malformed.text


def test_the_inbox_pages_through_the_cursor_and_refuses_a_broken_one(
    signed_in_client: SignedIn, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.web.console import work_pages

    monkeypatch.setattr(work_pages, "PAGE_SIZE", 2)
    ids = [new_report() for _ in range(3)]
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    first = dpupr.get("/kotak-masuk").text
    found = re.search(r'href="(/kotak-masuk\?setelah=[^"]+)" rel="next"', first)
    assert found, first
    second = dpupr.get(found.group(1).replace("&amp;", "&")).text
    codes = [_code(db, r) for r in ids]
    assert sorted(c for c in codes if c in first) != sorted(c for c in codes if c in second)
    assert all((c in first) != (c in second) for c in codes)
    assert 'rel="next"' not in second and "Ke halaman pertama" in second
    assert dpupr.get("/kotak-masuk?setelah=garbage!").status_code == 400
    assert dpupr.get("/kotak-masuk?status=nope").status_code == 400


# --- a report and its actions -------------------------------------------------------------


def test_a_report_page_shows_the_report_its_deadlines_timeline_and_no_identity(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")

    page = dpupr.get(f"/laporan/{report_id}")

    assert page.status_code == 200, page.text[:800]
    html = page.text
    assert "Jalan berlubang di depan pasar" in html and _code(db, report_id) in html
    assert "Batas penyelesaian" in html and "Umur laporan" in html
    assert "Didisposisikan otomatis ke" in html  # the timeline, labelled
    assert "Siti Rahma" not in html  # the identity only on request, and recorded then
    assert f'action="/laporan/{report_id}/identitas"' in html
    assert "Tampilkan identitas pelapor" in html
    assert f'name="seq" value="{_seq(db, report_id)}"' in html
    assert "<script" not in html


def test_an_anonymous_reporter_has_no_identity_button(
    signed_in_client: SignedIn,
) -> None:
    report_id = new_report(anonymous=True)
    html = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur").get(f"/laporan/{report_id}").text
    assert "Tampilkan identitas pelapor" not in html and "anonim" in html


@pytest.mark.parametrize(
    ("who", "agency_id"),
    [
        (Role.AGENCY_ADMIN, "dinkes-cianjur"),
        (Role.UNIT_OFFICER, "uptd-jalan-cianjur"),  # not forwarded to it
        (Role.UNIT_OFFICER, "dinkes-cianjur"),
    ],
)
def test_a_report_out_of_scope_is_the_404_of_an_unknown_one(
    signed_in_client: SignedIn, db: firestore.Client, who: Role, agency_id: str
) -> None:
    report_id = new_report()
    other = signed_in_client(who, agency_id)
    hidden = other.get(f"/laporan/{report_id}")
    unknown = other.get("/laporan/no-such-report")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.text.replace(report_id, "X") == unknown.text.replace("no-such-report", "X")
    acted = other.post(
        f"/laporan/{report_id}/tindakan/follow-up",
        {"message": "Sudah", "seq": str(_seq(db, report_id))},
    )
    assert acted.status_code == 404 and len(events(db, report_id)) == 2


@pytest.mark.parametrize(
    ("who", "agency_id", "prepare", "offered"),
    [
        (
            Role.AGENCY_ADMIN,
            "dpupr-cianjur",
            None,
            ["forward", "follow-up", "not-our-authority", "archive", "mark-supervisory"],
        ),
        # The parent agency's admin sees it but did not receive it: no archive.
        (
            Role.AGENCY_ADMIN,
            "pemkab-cianjur",
            None,
            ["forward", "follow-up", "not-our-authority", "mark-supervisory"],
        ),
        (Role.UNIT_OFFICER, "uptd-jalan-cianjur", "forward", ["follow-up"]),
        (
            Role.NATIONAL_ADMIN,
            "nasional",
            "follow-up",
            ["follow-up", "resolve", "mark-supervisory"],
        ),
        (Role.UNIT_OFFICER, "uptd-jalan-cianjur", "follow-up+forward", ["follow-up", "resolve"]),
    ],
)
def test_exactly_the_actions_the_lifecycle_allows_this_person(
    signed_in_client: SignedIn, who: Role, agency_id: str, prepare: str | None, offered: list[str]
) -> None:
    report_id = new_report()
    if prepare and "forward" in prepare:
        _forward(report_id)
    if prepare and "follow-up" in prepare:
        follow = Command(
            Action.FOLLOW_UP, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), message="Mulai."
        )
        _system(report_id, follow)
    html = signed_in_client(who, agency_id).get(f"/laporan/{report_id}").text
    assert _forms(html) == offered


def test_a_follow_up_then_a_resolution_through_the_forms(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Budi Santoso")
    page = dpupr.get(f"/laporan/{report_id}")
    seq = _seq(db, report_id)

    answer = dpupr.post(
        f"/laporan/{report_id}/tindakan/follow-up",
        {"message": "Tim UPTD sudah meninjau lokasi.", "seq": str(seq)},
    )

    assert page.status_code == 200
    assert answer.status_code == 303, answer.text[:800]
    assert location(answer).startswith(f"/laporan/{report_id}?ok=")
    assert state(db, report_id) == "in_progress"
    last = events(db, report_id)[-1]
    assert last["action"] == "follow_up" and last["message"] == "Tim UPTD sudah meninjau lokasi."
    shown = dpupr.get(location(answer)).text
    assert 'role="status"' in shown and "Tercatat: Tindak lanjut." in shown
    assert "Tim UPTD sudah meninjau lokasi." in shown

    resolved = dpupr.post(
        f"/laporan/{report_id}/tindakan/resolve",
        {"message": "Lubang sudah ditambal.", "seq": str(_seq(db, report_id))},
    )
    assert resolved.status_code == 303 and state(db, report_id) == "resolved"


def test_an_action_on_a_report_that_changed_meanwhile_is_refused_and_changes_nothing(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    read_at = _seq(db, report_id)
    colleague = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    colleague.post(
        f"/laporan/{report_id}/tindakan/forward",
        {"unit_id": "uptd-jalan-cianjur", "seq": str(read_at)},
    )
    before = events(db, report_id)
    assert len(before) == 3

    stale = dpupr.post(
        f"/laporan/{report_id}/tindakan/follow-up",
        {"message": "Saya tangani.", "seq": str(read_at)},
    )

    assert stale.status_code == 409
    assert "sudah berubah sejak halaman ini dibuka" in stale.text
    assert "Saya tangani." in stale.text  # what was typed is kept
    assert events(db, report_id) == before and state(db, report_id) == "dispositioned"
    assert f'name="seq" value="{read_at + 1}"' in stale.text  # the page is the fresh one


def test_a_stale_action_no_longer_offered_is_explained_without_a_dead_link(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    read_at = str(_seq(db, report_id))
    follow = Command(Action.FOLLOW_UP, Actor(Role.AGENCY_ADMIN, "dpupr-cianjur"), message="x")
    _system(report_id, follow)  # in progress now: forwarding is no longer possible
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    stale = dpupr.post(
        f"/laporan/{report_id}/tindakan/forward",
        {"unit_id": "uptd-jalan-cianjur", "seq": read_at},
    )
    assert stale.status_code == 409 and "sudah berubah" in stale.text
    assert "forward" not in _forms(stale.text) and 'href="#forward-unit-id"' not in stale.text
    assert len(events(db, report_id)) == 3


def test_refusals_say_why_and_change_nothing(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    seq = str(_seq(db, report_id))
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")

    illegal = dpupr.post(f"/laporan/{report_id}/tindakan/resolve", {"message": "x", "seq": seq})
    assert illegal.status_code == 409 and "tidak dapat dilakukan pada laporan" in illegal.text

    empty = dpupr.post(f"/laporan/{report_id}/tindakan/follow-up", {"message": " ", "seq": seq})
    assert empty.status_code == 422
    assert 'href="#follow-up-message"' in empty.text and "Isi kolom ini." in empty.text

    other_unit = dpupr.post(
        f"/laporan/{report_id}/tindakan/forward", {"unit_id": "puskesmas-cipanas", "seq": seq}
    )
    assert other_unit.status_code == 422

    no_seq = dpupr.post(f"/laporan/{report_id}/tindakan/follow-up", {"message": "x"})
    assert no_seq.status_code == 409

    without_csrf = dpupr.post(
        f"/laporan/{report_id}/tindakan/follow-up", {"message": "x", "seq": seq}, csrf=None
    )
    wrong_csrf = dpupr.post(
        f"/laporan/{report_id}/tindakan/follow-up", {"message": "x", "seq": seq}, csrf="nope"
    )
    assert without_csrf.status_code == wrong_csrf.status_code == 403
    assert dpupr.post(f"/laporan/{report_id}/tindakan/fly", {"seq": seq}).status_code == 404
    assert dpupr.get(f"/laporan/{report_id}/tindakan/follow-up").status_code == 405
    assert len(events(db, report_id)) == 2 and state(db, report_id) == "dispositioned"


def test_an_officer_cannot_take_an_admin_action(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    _forward(report_id)
    seq = str(_seq(db, report_id))
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    for op, why in (
        ("not-our-authority", "Peran Anda tidak diizinkan"),
        ("archive", "Hanya admin instansi tujuan disposisi"),
    ):
        refused = officer.post(f"/laporan/{report_id}/tindakan/{op}", {"reason": "x", "seq": seq})
        assert refused.status_code == 403, (op, refused.status_code)
        assert why in refused.text
    assert len(events(db, report_id)) == 3


def test_only_the_receiving_agencys_admin_archives_a_routed_report(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    seq = str(_seq(db, report_id))
    parent = signed_in_client(Role.AGENCY_ADMIN, "pemkab-cianjur")
    refused = parent.post(f"/laporan/{report_id}/tindakan/archive", {"reason": "x", "seq": seq})
    assert refused.status_code == 403 and "Hanya admin instansi tujuan" in refused.text
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    archived = dpupr.post(
        f"/laporan/{report_id}/tindakan/archive", {"reason": "Laporan ganda.", "seq": seq}
    )
    assert archived.status_code == 303 and state(db, report_id) == "archived"


# --- the admin queue ------------------------------------------------------------------


def test_the_admin_queue_is_for_admins(signed_in_client: SignedIn) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur")
    assert officer.get("/antrean").status_code == 403
    _queued()
    dinas = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur").get("/antrean")
    assert dinas.status_code == 200  # a dinas has no regional queue, and is told why
    assert "sampai di kotak masuk setelah dirutekan" in dinas.text
    assert "Rutekan" not in dinas.text.split("<main", 1)[1]


def test_a_regional_admin_routes_from_the_queue_in_one_step(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    queued = _queued()
    elsewhere = new_report(agency_id=None)  # in Cianjur too, routing still on it
    pemkab = signed_in_client(Role.AGENCY_ADMIN, "pemkab-cianjur")

    page = pemkab.get("/antrean")

    assert page.status_code == 200, page.text[:800]
    html = page.text
    assert _code(db, queued) in html and _code(db, elsewhere) in html
    assert "Tidak ada aturan yang cocok" in html and "42,0%" in html
    assert "Rutekan ke " in html
    routed = pemkab.post(
        f"/antrean/{queued}/rute",
        {"agency_id": "dpupr-cianjur", "seq": str(_seq(db, queued))},
    )
    assert routed.status_code == 303, routed.text[:800]
    assert _doc(db, queued)["agency_id"] == "dpupr-cianjur"
    assert state(db, queued) == "dispositioned"
    assert events(db, queued)[-1]["data"]["method"] == "manual"
    after = pemkab.get(location(routed)).text
    assert "didisposisikan ke" in after and _code(db, queued) not in after.split("</p>", 2)[-1]


def test_routing_from_the_queue_outside_the_admins_tree_changes_nothing(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    queued = _queued(suggested="dbmpr-jabar")  # the province's: not the regency's to give
    pemkab = signed_in_client(Role.AGENCY_ADMIN, "pemkab-cianjur")
    html = pemkab.get("/antrean").text
    assert "Rutekan ke " not in html  # no one-step button for a suggestion out of reach
    refused = pemkab.post(
        f"/antrean/{queued}/rute", {"agency_id": "dbmpr-jabar", "seq": str(_seq(db, queued))}
    )
    assert refused.status_code == 422 and state(db, queued) == "submitted"


# --- the figures ------------------------------------------------------------------------


def test_the_figures_page_before_and_after_the_daily_report(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    dpupr = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    before = dpupr.get("/angka")
    assert before.status_code == 200 and "Belum ada laporan harian" in before.text

    new_report()
    # The figures are counted by the deployment's local (Jakarta) day, not UTC's.
    today = Settings.from_env().calendar().local_date(dt.datetime.now(dt.UTC))
    reporter = functions_framework.create_app(
        target="report", source="functions/report/main.py"
    ).test_client()
    ran = reporter.post(f"/?date={today.isoformat()}")
    assert ran.status_code == 200, ran.get_data(as_text=True)

    page = dpupr.get("/angka")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Angka: Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Cianjur</h1>" in html
    # The headline is the agency with its unit below it; then its own row.
    assert '<span class="big">1</span> laporan diterima' in html
    assert "Bersama instansi dan unit di bawahnya" in html and "Instansi sendiri" in html
    assert '<img src="/angka/tren.svg?tanggal=' in html and '<th scope="row">' in html
    chart = dpupr.get(f"/angka/tren.svg?tanggal={today.isoformat()}")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert "<script" not in chart.get_data(as_text=True)
    assert dpupr.get("/angka?tanggal=2001-01-01").status_code == 404
    assert dpupr.get("/angka?tanggal=kemarin").status_code == 400
    national = signed_in_client(Role.NATIONAL_ADMIN, "nasional").get("/angka")
    assert "Seluruh Indonesia" in national.text
    # A unit's reports are counted for its agency: an officer sees that agency's figures.
    unit = signed_in_client(Role.UNIT_OFFICER, "uptd-jalan-cianjur").get("/angka").text
    assert "Angka: Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Cianjur" in unit
    assert "Angka dihitung per instansi" in unit


@pytest.mark.parametrize(
    "path",
    [
        "/laporan/__name__",
        "/laporan/..",
        "/laporan/" + "a" * 65,
        "/laporan/__x__/berkas/f0123456789",
        "/staf/__name__/nonaktifkan",
        "/templat/__x__",
        "/instansi/__name__",
    ],
)
def test_an_id_firestore_refuses_is_the_consoles_404_before_any_read(
    signed_in_client: SignedIn, path: str
) -> None:
    national = signed_in_client(Role.NATIONAL_ADMIN, "nasional")
    answered = national.post(path, {}) if path.endswith("nonaktifkan") else national.get(path)
    assert answered.status_code == 404
    assert "Halaman tidak ditemukan" in answered.text


def test_an_action_form_sent_twice_is_taken_once_and_both_answers_say_done(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    form = {"message": "Tim sudah ke lokasi.", "seq": str(_seq(db, report_id)), "nonce": "n" * 24}

    first = admin.post(f"/laporan/{report_id}/tindakan/follow-up", form)
    again = admin.post(f"/laporan/{report_id}/tindakan/follow-up", form)  # a retry

    assert first.status_code == again.status_code == 303
    assert location(first) == location(again)
    assert len(events(db, report_id)) == 3
