"""Running the agency in the console, through functions-framework on the emulators: staff
(invite, deactivate, reactivate, reset the second factor), the notification settings
(webhook, e-mail, digest; a signed test delivery to a real receiver; secret rotation with
both signatures for a day) and API keys (shown once, revoked), with the authorisation
matrix (an officer is refused, another agency is 404, a form without its CSRF token
changes nothing) and every change in the change log."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from html import unescape

import pytest
from google.cloud import firestore
from standardwebhooks import Webhook

from shared import wiring
from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore
from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.domain.report import Role
from shared.usecases.agency import Unauthenticated, authenticate
from tests.functional.console_support import ConsoleClient, location, new_member, sign_in
from tools.webhook_receiver import WebhookReceiver, firestore_secrets

SignedIn = Callable[..., ConsoleClient]
DPUPR, UPTD, DINKES = "dpupr-cianjur", "uptd-jalan-cianjur", "dinkes-cianjur"
_SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


@pytest.fixture(autouse=True)
def _loopback_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on the local stack: the receiver listens on 127.0.0.1 over plain HTTP."""
    monkeypatch.setenv("LAPOR_WEBHOOK_LOOPBACK_HTTP", "true")


@pytest.fixture
def receiver(console_app: object, db: firestore.Client) -> Iterator[WebhookReceiver]:
    hooks = WebhookReceiver(firestore_secrets(db.project))
    hooks.start()
    yield hooks
    hooks.stop()


def kinds(db: firestore.Client, agency_id: str) -> list[str]:
    """What staff changed in the agency, oldest first (not the test's own accounts,
    which the tools make as ``system``)."""
    entries = FirestoreAuditLog(db).entries(agency_id, None, 100).entries
    return [entry.kind for entry in reversed(entries) if entry.actor_id != "system"]


def shown_secret(html: str) -> str:
    found = _SECRET.search(html)
    assert found, "no secret shown"
    return unescape(found.group(1))


# --- who may open these pages ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/staf", "/pengaturan", "/kunci-api"])
def test_an_officer_is_refused_every_page_and_form(signed_in_client: SignedIn, path: str) -> None:
    officer = signed_in_client(Role.UNIT_OFFICER, UPTD)
    assert officer.get(path).status_code == 403
    assert officer.post(path, {"label": "x", "role": "unit_officer"}).status_code == 403


@pytest.mark.parametrize("path", ["/staf", "/pengaturan", "/kunci-api"])
def test_another_agency_is_not_found_and_signed_out_goes_to_sign_in(
    signed_in_client: SignedIn, anonymous_client: ConsoleClient, path: str
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    assert admin.get(f"{path}?instansi={DINKES}").status_code == 404
    assert admin.get(f"{path}?instansi=no-such-agency").status_code == 404
    assert admin.get(f"{path}?instansi={UPTD}").status_code == 200  # its own unit
    answer = anonymous_client.get(path)
    assert answer.status_code == 303 and location(answer).startswith("/masuk")


def test_the_pages_are_indonesian_first_and_english_on_request(signed_in_client: SignedIn) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    page = admin.get("/pengaturan")
    assert '<html lang="id">' in page.text and "Pengaturan pemberitahuan" in page.text
    assert "<script" not in page.text
    english = admin.get("/kunci-api?lang=en")
    assert '<html lang="en">' in english.text and "Issue a key" in english.text


# --- staff ----------------------------------------------------------------------------


def test_an_admin_invites_an_officer_to_its_unit_and_it_is_recorded(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    assert admin.get("/staf").status_code == 200
    answer = admin.post(
        "/staf",
        {"email": "Budi@UPTD.example", "name": "Budi", "role": "unit_officer", "agency_id": UPTD},
    )
    assert answer.status_code == 303, answer.text[:400]
    page = admin.get(location(answer))
    assert "Undangan dikirim ke budi@uptd.example" in page.text
    assert "Budi" in page.text and "Undangan belum diterima" in page.text
    assert "staff.invited" in kinds(db, UPTD)


def test_an_invitation_not_yet_accepted_is_sent_again_and_it_is_recorded(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    admin.get("/staf")
    admin.post(
        "/staf",
        {"email": "rina@uptd.example", "name": "Rina", "role": "unit_officer", "agency_id": UPTD},
    )
    invited = wiring.staff_store().account_by_email("rina@uptd.example")
    assert invited is not None
    member = new_member(Role.UNIT_OFFICER, UPTD, name="Siti Petugas")  # has a password
    page = admin.get("/staf")
    assert f"/staf/{invited.account_id}/kirim-ulang-undangan" in page.text
    assert f"/staf/{member.account_id}/kirim-ulang-undangan" not in page.text
    answer = admin.post(
        f"/staf/{invited.account_id}/kirim-ulang-undangan", {"shown_agency_id": DPUPR}
    )
    assert answer.status_code == 303, answer.text[:400]
    assert "Undangan dikirim ulang ke rina@uptd.example" in admin.get(location(answer)).text
    outbox = [(doc.to_dict() or {}).get("data", {}) for doc in db.collection("outbox").stream()]
    mails = [data for data in outbox if data.get("account_id") == invited.account_id]
    assert [m["kind"] for m in mails] == ["staff.invitation"] * 2
    assert len({m["link_id"] for m in mails}) == 2  # a new link
    assert kinds(db, UPTD)[-2:] == ["staff.invited", "staff.invited"]
    # One who has set a password is told why nothing was sent.
    late = admin.post(f"/staf/{member.account_id}/kirim-ulang-undangan")
    assert late.status_code == 409 and "sudah memiliki kata sandi" in late.text
    assert kinds(db, UPTD)[-2:] == ["staff.invited", "staff.invited"]


def test_an_invitation_that_is_refused_says_why_beside_the_field(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    admin.get("/staf")
    bad = admin.post(
        "/staf", {"email": "bukan-alamat", "name": "", "role": "unit_officer", "agency_id": UPTD}
    )
    assert bad.status_code == 422
    assert 'href="#email"' in bad.text and 'href="#name"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    above = admin.post(
        "/staf",
        {"email": "x@dpupr.example", "name": "X", "role": "national_admin", "agency_id": DPUPR},
    )
    assert above.status_code in (403, 422)
    # Another agency is refused exactly as one that does not exist: the same page.
    elsewhere, unknown = (
        admin.post(
            "/staf",
            {"email": "y@dinkes.example", "name": "Y", "role": "unit_officer", "agency_id": agency},
        )
        for agency in (DINKES, "no-such-agency")
    )
    assert elsewhere.status_code == unknown.status_code == 422
    assert 'href="#agency_id"' in elsewhere.text and "Pilih instansi." in elsewhere.text
    assert elsewhere.text == unknown.text
    assert "staff.invited" not in kinds(db, DPUPR) + kinds(db, DINKES)


def test_deactivating_an_officer_ends_their_sessions_and_reactivating_lets_them_back(
    signed_in_client: SignedIn, console_app: object, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    member = new_member(Role.UNIT_OFFICER, UPTD, name="Siti Petugas")
    officer = ConsoleClient(console_app.test_client())  # type: ignore[attr-defined]
    sign_in(officer, member)
    page = admin.get("/staf")
    assert f"/staf/{member.account_id}/nonaktifkan" in page.text
    assert admin.post(f"/staf/{member.account_id}/nonaktifkan").status_code == 303
    assert location(officer.get("/kotak-masuk")).startswith("/masuk")
    assert admin.post(f"/staf/{member.account_id}/aktifkan").status_code == 303
    sign_in(officer, member)
    assert kinds(db, UPTD)[-2:] == ["staff.deactivated", "staff.reactivated"]


def test_resetting_a_second_factor_ends_the_sessions(
    signed_in_client: SignedIn, console_app: object, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    member = new_member(Role.UNIT_OFFICER, UPTD, second_factor=True)
    officer = ConsoleClient(console_app.test_client())  # type: ignore[attr-defined]
    sign_in(officer, member)
    admin.get("/staf")
    assert admin.post(f"/staf/{member.account_id}/atur-ulang-kode").status_code == 303
    assert location(officer.get("/kotak-masuk")).startswith("/masuk")
    assert "staff.second_factor_reset" in kinds(db, UPTD)


def test_an_admin_cannot_deactivate_itself_nor_another_agencys_staff(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    assert admin.member is not None
    page = admin.get("/staf")
    assert f"/staf/{admin.member.account_id}/nonaktifkan" not in page.text
    assert admin.post(f"/staf/{admin.member.account_id}/nonaktifkan").status_code == 403
    other = new_member(Role.UNIT_OFFICER, DINKES)
    elsewhere = admin.post(f"/staf/{other.account_id}/nonaktifkan")
    unknown = admin.post("/staf/no-such-account/nonaktifkan")
    # Another agency's member is not found, as a made-up id: the id tells nothing.
    assert elsewhere.status_code == unknown.status_code == 404
    assert elsewhere.text.replace(other.account_id, "X") == unknown.text.replace(
        "no-such-account", "X"
    )
    assert admin.get("/kotak-masuk").status_code == 200  # still signed in
    assert "staff.deactivated" not in kinds(db, DPUPR) + kinds(db, DINKES)


def test_a_staff_form_without_its_csrf_token_changes_nothing(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    member = new_member(Role.UNIT_OFFICER, UPTD)
    answer = admin.post(f"/staf/{member.account_id}/nonaktifkan", csrf=None)
    assert answer.status_code == 403
    forged = admin.post(f"/staf/{member.account_id}/nonaktifkan", csrf="forged-token")
    assert forged.status_code == 403
    assert "staff.deactivated" not in kinds(db, UPTD)


# --- the notification settings ----------------------------------------------------------


THREE_ADDRESSES = ("humas@dpupr.example", "kepala@dpupr.example", "admin@dpupr.example")


def test_an_admin_sets_its_webhook_three_addresses_and_digest(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    admin.get("/pengaturan")
    answer = admin.post(
        "/pengaturan",
        {
            "agency_id": DPUPR,
            "webhook_url": "https://dpupr.example/hook",
            "emails": "Humas@DPUPR.example\r\nkepala@dpupr.example\r\n\r\nadmin@dpupr.example\r\n",
            "digest": "hourly",
        },
    )
    assert answer.status_code == 303
    page = admin.get(location(answer))
    assert "Pengaturan pemberitahuan disimpan." in page.text
    assert 'value="https://dpupr.example/hook"' in page.text and "checked" in page.text
    assert ">" + "\n".join(THREE_ADDRESSES) + "</textarea>" in page.text  # one per line
    channel = FirestoreAgencyAdminStore(db).agency_channel(DPUPR)
    assert channel is not None
    assert (channel.webhook_url, channel.emails, channel.digest) == (
        "https://dpupr.example/hook",
        THREE_ADDRESSES,
        True,
    )
    assert kinds(db, DPUPR) == ["channels.updated"]


def test_a_wrong_address_line_is_named_beside_the_field_and_nothing_changes(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    before = FirestoreAgencyAdminStore(db).agency_channel(DPUPR)
    admin.get("/pengaturan")
    typed = "humas@dpupr.example\nkepala@dpupr\nHUMAS@dpupr.example"
    answer = admin.post("/pengaturan", {"agency_id": DPUPR, "emails": typed})
    assert answer.status_code == 422
    assert 'href="#emails"' in answer.text  # the summary links to the field
    error = re.search(r'<span class="error" id="emails-error">([^<]*)</span>', answer.text)
    assert error is not None
    assert unescape(error.group(1)) == (
        "Baris 2: bukan alamat e-mail yang benar. Baris 3: alamat ini sudah ada di baris 1."
    )
    assert 'aria-invalid="true"' in answer.text and ">" + typed + "</textarea>" in answer.text
    assert FirestoreAgencyAdminStore(db).agency_channel(DPUPR) == before
    assert kinds(db, DPUPR) == []


def test_an_invalid_setting_is_refused_beside_its_field_and_changes_nothing(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    before = FirestoreAgencyAdminStore(db).agency_channel(DPUPR)
    admin.get("/pengaturan")
    answer = admin.post(
        "/pengaturan",
        {"agency_id": DPUPR, "webhook_url": "http://dpupr.example/hook", "digest": "hourly"},
    )
    assert answer.status_code == 422
    assert 'href="#webhook_url"' in answer.text and "https://" in answer.text
    assert 'href="#digest"' in answer.text
    assert FirestoreAgencyAdminStore(db).agency_channel(DPUPR) == before
    assert admin.post("/pengaturan", {"agency_id": DPUPR}, csrf=None).status_code == 403
    assert kinds(db, DPUPR) == []


def test_a_test_delivery_reaches_the_receiver_signed_and_the_page_shows_the_answer(
    signed_in_client: SignedIn, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    admin.get("/pengaturan")
    url = receiver.hook_url(DPUPR)
    assert admin.post("/pengaturan", {"agency_id": DPUPR, "webhook_url": url}).status_code == 303
    admin.get("/pengaturan")
    page = admin.post("/pengaturan/uji-webhook", {"agency_id": DPUPR})
    assert page.status_code == 200
    assert "Uji webhook diterima" in page.text and "HTTP 204" in page.text
    [ping] = receiver.wait_for(1)
    assert ping.verified and ping.payload["type"] == "webhook.ping"
    assert ping.payload["agency_id"] == DPUPR
    assert kinds(db, DPUPR) == ["channels.updated", "webhook.tested"]


def test_a_rotated_secret_is_shown_once_and_both_secrets_sign_for_a_day(
    signed_in_client: SignedIn, receiver: WebhookReceiver, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    channel = FirestoreAgencyAdminStore(db).agency_channel(DPUPR)
    assert channel is not None
    [old] = channel.signing_secrets(dt.datetime.now(dt.UTC))
    admin.get("/pengaturan")
    admin.post("/pengaturan", {"agency_id": DPUPR, "webhook_url": receiver.hook_url(DPUPR)})
    admin.get("/pengaturan")
    rotated = admin.post("/pengaturan/rotasi-rahasia", {"agency_id": DPUPR})
    assert rotated.status_code == 200
    new = shown_secret(rotated.text)
    assert new.startswith("whsec_") and new != old
    assert new not in admin.get("/pengaturan").text  # shown once only
    admin.post("/pengaturan/uji-webhook", {"agency_id": DPUPR})
    [ping] = receiver.wait_for(1)
    assert ping.verified  # the receiver reads the new secret
    assert len(ping.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(ping.body, dict(ping.headers))  # and the old one verifies too
    log = FirestoreAuditLog(db).entries(DPUPR, frozenset({"webhook.secret_rotated"}), 5)
    assert len(log.entries) == 1
    assert new not in str(log.entries[0].details) and old not in str(log.entries[0])


def test_the_national_admin_runs_any_agencys_settings(signed_in_client: SignedIn) -> None:
    national = signed_in_client(Role.NATIONAL_ADMIN, "nasional")
    page = national.get(f"/pengaturan?instansi={DINKES}")
    assert page.status_code == 200 and 'name="agency_id" value="dinkes-cianjur"' in page.text


# --- API keys -------------------------------------------------------------------------


def test_an_issued_key_is_shown_once_works_on_the_api_and_stops_when_revoked(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    admin.get("/kunci-api")
    answer = admin.post(
        "/kunci-api", {"label": "Aplikasi UPTD", "role": "unit_officer", "agency_id": UPTD}
    )
    assert answer.status_code == 201
    key = shown_secret(answer.text)
    store = FirestoreAgencyAdminStore(db)
    assert authenticate(f"Bearer {key}", store).agency_id == UPTD
    listing = admin.get("/kunci-api")
    assert "Aplikasi UPTD" in listing.text and key not in listing.text
    [record] = [k for k in store.api_keys([UPTD]) if k.label == "Aplikasi UPTD"]
    revoked = admin.post(f"/kunci-api/{record.key_hash}/cabut")
    assert revoked.status_code == 303
    assert "dicabut" in admin.get(location(revoked)).text
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {key}", store)
    assert kinds(db, UPTD) == ["api_key.issued", "api_key.revoked"]


def test_a_key_above_the_admins_role_or_for_another_agency_is_refused(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    admin = signed_in_client(Role.AGENCY_ADMIN, DPUPR)
    admin.get("/kunci-api")
    above = admin.post("/kunci-api", {"label": "x", "role": "national_admin", "agency_id": DPUPR})
    assert above.status_code == 403
    elsewhere = admin.post(
        "/kunci-api", {"label": "x", "role": "unit_officer", "agency_id": DINKES}
    )
    assert elsewhere.status_code == 404
    blank = admin.post("/kunci-api", {"label": " ", "role": "unit_officer", "agency_id": DPUPR})
    assert blank.status_code == 422 and 'href="#label"' in blank.text
    national = signed_in_client(Role.NATIONAL_ADMIN, "nasional")
    national.get("/kunci-api")
    dinkes_key = national.post(
        "/kunci-api", {"label": "Dinkes", "role": "agency_admin", "agency_id": DINKES}
    )
    assert dinkes_key.status_code == 201
    [record] = FirestoreAgencyAdminStore(db).api_keys([DINKES])
    assert admin.post(f"/kunci-api/{record.key_hash}/cabut").status_code == 404
    assert not FirestoreAgencyAdminStore(db).api_keys([DINKES])[0].revoked
    assert kinds(db, DPUPR) == []
