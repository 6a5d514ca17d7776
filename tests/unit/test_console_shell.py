"""The console's shell without a database: where sign-in may send a member, the status
message only the console can set, the navigation, and the layout's guarantees."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shared.config import Settings
from shared.domain.report import Role
from shared.ports import FixedClock
from shared.reference import load_reference
from shared.web.console import common
from shared.web.console.app import APP
from shared.web.console.auth_pages import browser_name, role_label
from shared.web.dispatch import Call
from shared.web.http import Problem

SETTINGS = Settings(token_secret="s" * 32)
REFERENCE = load_reference()
NOW = dt.datetime(2026, 3, 2, 7, 5, tzinfo=dt.UTC)


def a_call(path: str = "/akun", query: str = "", *, lang: str = "id") -> Call[Any]:
    request = Request(EnvironBuilder(path=path, query_string=query).get_environ())
    ports = SimpleNamespace(settings=SETTINGS, clock=FixedClock(NOW))
    return Call(request, lang, lambda: ports)  # type: ignore[arg-type]


def a_staff(role: Role = Role.UNIT_OFFICER) -> common.Staff:
    return common.Staff("a1", "a@b.go.id", "Ani", "uptd-jalan-cianjur", role, "s1", "t" * 43)


@pytest.mark.parametrize(
    "wanted",
    [
        None,
        "",
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
        "/\tx",
        "/x\ny",
        "/" + "a" * 600,
    ],
)
def test_sign_in_never_sends_a_member_to_another_site(wanted: str | None) -> None:
    assert common.safe_next(wanted) == "/kotak-masuk"


@pytest.mark.parametrize("wanted", ["/akun", "/laporan/abc?x=1", "/kotak-masuk?status=new"])
def test_sign_in_sends_a_member_back_to_a_console_path(wanted: str) -> None:
    assert common.safe_next(wanted) == wanted


def test_tr_says_it_in_the_pages_language() -> None:
    assert common.tr("id", "Kotak masuk", "Inbox") == "Kotak masuk"
    assert common.tr("en", "Kotak masuk", "Inbox") == "Inbox"


def test_done_is_a_see_other_that_keeps_english_and_signs_its_message() -> None:
    answer = common.done(a_call(lang="en"), "/akun", ok="Saved")
    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    assert target.path == "/akun" and "lang=en" in target.query
    shown = a_call("/akun", target.query)
    assert common._status_message(shown) == "Saved"


def test_a_status_message_nobody_signed_is_not_shown() -> None:
    forged = a_call("/akun", "ok=Hubungi+0812+untuk+bantuan&sig=" + "0" * 24)
    assert common._status_message(forged) == ""
    assert common._status_message(a_call("/akun", "ok=Hai")) == ""


def test_the_staff_member_acts_through_the_same_caller_as_an_api_key() -> None:
    caller = a_staff(Role.AGENCY_ADMIN).caller
    assert caller.agency_id == "uptd-jalan-cianjur" and caller.role is Role.AGENCY_ADMIN
    assert caller.actor_id == "staff:a1" and caller.key_label == "Ani"
    assert a_staff(Role.AGENCY_ADMIN).is_admin and not a_staff(Role.AGENCY_ADMIN).is_national
    assert a_staff(Role.NATIONAL_ADMIN).is_national
    assert not a_staff().is_admin


def test_the_navigation_shows_each_role_its_own_pages() -> None:
    reference = load_reference()

    def links(staff: common.Staff) -> set[str]:
        return {item.path for item in common.nav_for(staff, reference)}

    officer = links(a_staff())
    admin = links(a_staff(Role.AGENCY_ADMIN))
    national = links(a_staff(Role.NATIONAL_ADMIN))
    assert "/kotak-masuk" in officer and "/staf" not in officer and "/akun" in officer
    assert "/staf" in admin and "/instansi" not in admin
    assert {"/instansi", "/aturan"} <= national and officer < admin < national


def test_the_admin_queue_link_is_shown_only_to_admins_who_have_a_queue() -> None:
    reference = load_reference()

    def shows_queue(role: Role, agency_id: str) -> bool:
        staff = common.Staff("a1", "a@b.go.id", "Ani", agency_id, role, "s1", "t" * 43)
        return "/antrean" in {item.path for item in common.nav_for(staff, reference)}

    assert shows_queue(Role.NATIONAL_ADMIN, "nasional")
    assert shows_queue(Role.AGENCY_ADMIN, "pemkab-cianjur")  # the regency's unrouted reports
    assert not shows_queue(Role.AGENCY_ADMIN, "dpupr-cianjur")  # a dinas: reports arrive routed
    assert not shows_queue(Role.UNIT_OFFICER, "pemkab-cianjur")


def test_every_navigation_link_is_a_console_page() -> None:
    routed = {rule.rule for rule in APP.urls.iter_rules()}
    missing = [item.path for item in common.NAV if item.path not in routed]
    assert not missing, f"navigation links to pages nobody serves: {missing}"


def test_cookies_are_host_only_and_secure_unless_on_plain_http_loopback() -> None:
    assert common.cookie_name(SETTINGS) == "__Host-lapor_console"
    local = SETTINGS.model_copy(update={"console_insecure_cookies": True})
    assert common.cookie_name(local) == "lapor_console"
    assert common.cookie_name(local, common.FORM_COOKIE) == "lapor_console_form"


def test_roles_have_labels_in_both_languages() -> None:
    for role in (Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN, Role.UNIT_OFFICER):
        assert role_label("id", role) != role_label("en", role)


def signed_in_as(staff: common.Staff, path: str = "/staf", **builder: Any) -> Call[Any]:
    """A call whose request already knows who signed in (as signed_in leaves it)."""
    request = Request(EnvironBuilder(path=path, **builder).get_environ())
    request.environ["lapor.console.staff"] = staff
    ports = SimpleNamespace(
        settings=SETTINGS, clock=FixedClock(NOW), agency=SimpleNamespace(reference=REFERENCE)
    )
    return Call(request, "id", lambda: ports)  # type: ignore[arg-type]


def test_an_admin_page_refuses_an_officer_and_a_national_page_an_agency_admin() -> None:
    with pytest.raises(Problem) as refused:
        common.signed_in(signed_in_as(a_staff()), admin=True)
    assert refused.value.response.status_code == 403
    assert "Tidak diizinkan" in refused.value.response.get_data(as_text=True)
    with pytest.raises(Problem) as refused:
        common.signed_in(signed_in_as(a_staff(Role.AGENCY_ADMIN)), national=True)
    assert refused.value.response.status_code == 403
    assert common.signed_in(signed_in_as(a_staff(Role.AGENCY_ADMIN)), admin=True).is_admin
    national = common.signed_in(signed_in_as(a_staff(Role.NATIONAL_ADMIN)), national=True)
    assert national.is_national


@pytest.mark.parametrize("sent", [None, "", "t" * 42, "u" * 43])
def test_a_form_whose_token_is_not_the_sessions_is_refused(sent: str | None) -> None:
    staff = a_staff()
    form = {} if sent is None else {"csrf": sent}
    call = signed_in_as(staff, "/akun/keluar-semua", method="POST", data=form)
    with pytest.raises(Problem) as refused:
        common.posted_form(call, staff)
    assert refused.value.response.status_code == 403
    assert "Formulir kedaluwarsa" in refused.value.response.get_data(as_text=True)


def test_a_form_with_the_sessions_token_is_read() -> None:
    staff = a_staff()
    call = signed_in_as(staff, "/x", method="POST", data={"csrf": staff.csrf_token, "a": "1"})
    assert common.posted_form(call, staff)["a"] == "1"


def test_a_page_has_the_layout_and_its_guarantees() -> None:
    staff = a_staff(Role.AGENCY_ADMIN)
    page = common.page_error(signed_in_as(staff, "/laporan/x"), 404)
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and "Halaman tidak ditemukan" in html
    assert 'href="/staf"' in html  # the navigation of who is signed in
    assert "Ani · UPTD Jalan Cianjur" in html  # and who that is, with the agency's name
    assert f'name="csrf" value="{staff.csrf_token}"' in html  # the sign-out form's
    assert "<script" not in html
    assert page.headers["Cache-Control"] == "no-store"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "img-src 'self' data:" in policy


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome di Android",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge di Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari di iPhone",
        ),
        ("", "Peramban tidak dikenal"),
    ],
)
def test_a_session_names_its_browser_briefly(user_agent: str, shown: str) -> None:
    assert browser_name(user_agent, "id") == shown
