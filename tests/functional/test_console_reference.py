"""The national admin's agencies and routing rules in the console (/instansi, /aturan),
through the console function on the seeded emulators: who may open them, each edit
stored with the next reference version and its change-log entry, each refusal changing
nothing, the misrouting rate beside each rule, and an edit that reaches routing
without a deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.cloud import firestore

from shared import wiring
from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.adapters.firestore_reference import CURRENT, REFERENCE_META, ROUTING_RULES
from shared.domain.report import Region, Role
from tests.functional.console_support import ConsoleClient, location
from tests.functional.test_route_function import route_app, route_pending, submit

SignedIn = Callable[..., ConsoleClient]
PAGES = ("/instansi", "/instansi/dinkes-cianjur", "/aturan", "/aturan/cianjur-jalan")
NEW_AGENCY = {
    "kode": "disnaker-cianjur",
    "nama": "Dinas Tenaga Kerja Kabupaten Cianjur",
    "nama_singkat": "Disnaker Cianjur",
    "jenis": "agency",
    "induk": "pemkab-cianjur",
    "wilayah": "32.03",
    "kategori": ["pelayanan-publik-lainnya.aparatur"],
}


@pytest.fixture
def national(signed_in_client: SignedIn) -> ConsoleClient:
    return signed_in_client(Role.NATIONAL_ADMIN, "nasional")


def version(db: firestore.Client) -> int:
    return int((db.collection(REFERENCE_META).document(CURRENT).get().to_dict() or {})["version"])


def entries(kind: str) -> list[Any]:
    log = FirestoreAuditLog(wiring.firestore_client())
    return list(log.entries(None, frozenset({kind}), 50).entries)


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_only_the_national_admin_opens_the_pages(
    signed_in_client: SignedIn, national: ConsoleClient, path: str
) -> None:
    assert national.get(path).status_code == 200
    agency_admin = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")
    officer = signed_in_client(Role.UNIT_OFFICER, "puskesmas-cipanas")
    assert agency_admin.get(path).status_code == 403
    assert officer.get(path).status_code == 403


def test_signed_out_goes_to_sign_in(anonymous_client: ConsoleClient) -> None:
    answer = anonymous_client.get("/aturan")

    assert answer.status_code == 303 and location(answer).startswith("/masuk?next=%2Faturan")


def test_an_agency_admin_cannot_post_an_edit(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    agency_admin = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")
    agency_admin.get("/akun")

    answer = agency_admin.post("/instansi", NEW_AGENCY)

    assert answer.status_code == 403
    assert not db.collection("agencies").document("disnaker-cianjur").get().exists
    assert version(db) == 1


def test_a_form_without_its_csrf_token_changes_nothing(
    national: ConsoleClient, db: firestore.Client
) -> None:
    national.get("/instansi")

    assert national.post("/instansi", NEW_AGENCY, csrf=None).status_code == 403
    assert national.post("/aturan/cianjur-jalan/hapus", {}, csrf="wrong").status_code == 403

    assert not db.collection("agencies").document("disnaker-cianjur").get().exists
    assert db.collection(ROUTING_RULES).document("cianjur-jalan").get().exists
    assert version(db) == 1


def test_an_unknown_agency_or_rule_is_the_consoles_404(national: ConsoleClient) -> None:
    assert national.get("/instansi/tidak-ada").status_code == 404
    national.get("/aturan")
    assert national.post("/aturan/tidak-ada", {"kategori": "kesehatan"}).status_code == 404
    assert national.post("/aturan/tidak-ada/hapus", {}).status_code == 404


# --- agencies -----------------------------------------------------------------------------


def test_the_national_admin_adds_an_agency_and_it_is_recorded(
    national: ConsoleClient, db: firestore.Client
) -> None:
    listing = national.get("/instansi")
    assert "Dinas Kesehatan" in listing.text and "<h1>Instansi</h1>" in listing.text

    answer = national.post("/instansi", NEW_AGENCY)

    assert answer.status_code == 303 and location(answer).startswith("/instansi/disnaker-cianjur")
    page = national.get(location(answer))
    assert "Dinas Tenaga Kerja Kabupaten Cianjur" in page.text
    assert 'role="status"' in page.text
    stored = db.collection("agencies").document("disnaker-cianjur").get().to_dict() or {}
    assert stored["parent"] == "pemkab-cianjur"
    assert stored["categories"] == ["pelayanan-publik-lainnya.aparatur"]
    secret = db.collection("agency_secrets").document("disnaker-cianjur").get().to_dict() or {}
    assert secret["sealed_secret"] and "webhook_secret" not in secret  # sealed at rest
    assert version(db) == 2
    [entry] = entries("agency.created")
    assert entry.target == "disnaker-cianjur" and entry.actor_id.startswith("staff:")


def test_editing_an_agency_keeps_its_channels(
    national: ConsoleClient, db: firestore.Client
) -> None:
    before = (db.collection("agencies").document("dinkes-cianjur").get().to_dict() or {})[
        "notification"
    ]
    national.get("/instansi/dinkes-cianjur")

    answer = national.post(
        "/instansi/dinkes-cianjur",
        {
            "nama": "Dinas Kesehatan Kab. Cianjur",
            "nama_singkat": "Dinkes",
            "jenis": "agency",
            "induk": "pemkab-cianjur",
            "wilayah": "32.03",
            "kategori": ["kesehatan"],
        },
    )

    assert answer.status_code == 303
    stored = db.collection("agencies").document("dinkes-cianjur").get().to_dict() or {}
    assert stored["name"] == "Dinas Kesehatan Kab. Cianjur" and stored["notification"] == before
    [entry] = entries("agency.updated")
    assert entry.details["short_name"].endswith("→ Dinkes")


def test_an_invalid_agency_is_refused_beside_its_field_and_nothing_changes(
    national: ConsoleClient, db: firestore.Client
) -> None:
    national.get("/instansi")

    answer = national.post("/instansi", {**NEW_AGENCY, "kode": "Dinas Baru", "nama": ""})

    assert answer.status_code == 422
    assert 'href="#kode"' in answer.text and 'href="#nama"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert 'value="Dinas Baru"' in answer.text  # what was typed stays
    assert version(db) == 1


def test_an_agency_that_would_break_a_rule_is_refused_in_both_languages(
    national: ConsoleClient, db: firestore.Client
) -> None:
    national.get("/instansi/dinkes-cianjur")
    form = {
        "nama": "Dinas Kesehatan",
        "nama_singkat": "Dinkes",
        "jenis": "agency",
        "induk": "pemkab-cianjur",
        "wilayah": "32.03",
        "kategori": ["sosial"],  # no longer handles kesehatan: cianjur-kesehatan breaks
    }

    answer = national.post("/instansi/dinkes-cianjur", form)
    english = national.post("/instansi/dinkes-cianjur?lang=en", form)

    assert answer.status_code == 422
    assert "Perubahan ini membuat data rujukan tidak konsisten" in answer.text
    assert "cianjur-kesehatan" in answer.text
    assert "This change would make the reference inconsistent" in english.text
    stored = db.collection("agencies").document("dinkes-cianjur").get().to_dict() or {}
    assert stored["categories"] == ["kesehatan"]
    assert version(db) == 1


# --- rules ----------------------------------------------------------------------------------


def test_each_rule_shows_its_misrouting_rate(national: ConsoleClient, db: firestore.Client) -> None:
    db.collection("routing_stats").document("cianjur-jalan").set(
        {"key": "cianjur-jalan", "dispositions": 8, "not_our_authority": 2}
    )

    page = national.get("/aturan")
    english = national.get("/aturan?lang=en")

    row = page.text[page.text.index('href="/aturan/cianjur-jalan"') :]
    row = row[: row.index("</tr>")]
    assert ">8<" in row and ">2<" in row and "25,0 %" in row
    assert "25.0 %" in english.text
    assert '<th scope="col" class="num">Salah rute</th>' in page.text


def test_a_rule_is_added_edited_and_deleted_each_recorded(
    national: ConsoleClient, db: firestore.Client
) -> None:
    national.get("/aturan")
    added = national.post(
        "/aturan",
        {
            "kode": "cianjur-puskesmas",
            "kategori": "kesehatan.puskesmas",
            "wilayah": "32.03",
            "instansi": "dinkes-cianjur",
        },
    )
    assert added.status_code == 303
    edited = national.post(
        "/aturan/cianjur-puskesmas",
        {"kategori": "kesehatan.rumah-sakit", "wilayah": "32.03", "instansi": "dinkes-cianjur"},
    )
    assert edited.status_code == 303
    assert (db.collection(ROUTING_RULES).document("cianjur-puskesmas").get().to_dict() or {})[
        "category"
    ] == "kesehatan.rumah-sakit"

    deleted = national.post("/aturan/cianjur-puskesmas/hapus", {})

    assert deleted.status_code == 303 and location(deleted).startswith("/aturan")
    assert not db.collection(ROUTING_RULES).document("cianjur-puskesmas").get().exists
    assert version(db) == 4
    kinds = [
        e.kind for e in entries("rule.created") + entries("rule.updated") + entries("rule.deleted")
    ]
    assert kinds == ["rule.created", "rule.updated", "rule.deleted"]


def test_a_rule_to_an_agency_that_does_not_handle_its_category_is_refused(
    national: ConsoleClient, db: firestore.Client
) -> None:
    national.get("/aturan/cianjur-jalan")

    answer = national.post(
        "/aturan/cianjur-jalan",
        {"kategori": "infrastruktur.jalan", "wilayah": "32.03", "instansi": "dinkes-cianjur"},
    )

    assert answer.status_code == 422
    assert "does not handle category" in answer.text
    stored = db.collection(ROUTING_RULES).document("cianjur-jalan").get().to_dict() or {}
    assert stored["agency"] == "dpupr-cianjur"
    assert version(db) == 1


def test_a_rule_id_already_taken_is_refused(national: ConsoleClient) -> None:
    national.get("/aturan")

    answer = national.post(
        "/aturan",
        {
            "kode": "cianjur-jalan",
            "kategori": "kesehatan.gizi-stunting",
            "wilayah": "32.03",
            "instansi": "dinkes-cianjur",
        },
    )

    assert answer.status_code == 409 and 'href="#kode"' in answer.text


# --- the edit reaches the running functions ---------------------------------------------------


def test_a_changed_rule_routes_the_next_report_without_a_deployment(
    national: ConsoleClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_REFERENCE_REFRESH_S", "0")  # every use re-checks the version
    wiring.reset()
    route = route_app()
    national.get("/aturan/cianjur-jalan")
    # Cianjur's regency roads go to the province's roads agency from now on.
    answer = national.post(
        "/aturan/cianjur-jalan",
        {"kategori": "infrastruktur.jalan", "wilayah": "32.03", "instansi": "dbmpr-jabar"},
    )
    assert answer.status_code == 303

    report_id = submit(category="infrastruktur.jalan")
    route_pending(route)

    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert (doc["agency_id"], doc["routing_rule_id"]) == ("dbmpr-jabar", "cianjur-jalan")


def test_a_new_regency_government_is_told_of_the_unrouted_reports_of_its_region(
    national: ConsoleClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_REFERENCE_REFRESH_S", "0")
    wiring.reset()
    route = route_app()
    national.get("/instansi")
    answer = national.post(
        "/instansi",
        {
            "kode": "pemkab-sukabumi",
            "nama": "Pemerintah Kabupaten Sukabumi",
            "nama_singkat": "Pemkab Sukabumi",
            "jenis": "regency",
            "induk": "pemprov-jabar",
            "wilayah": "32.02",
        },
    )
    assert answer.status_code == 303

    # No rule for Sukabumi and no keyword to go by: it waits for the regional admin.
    report_id = submit(
        category="kesehatan",
        region=Region("32", "32.02"),
        title="Laporan warga",
        description="Mohon ditindaklanjuti segera.",
    )
    route_pending(route)

    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert doc["state"] == "submitted"
    told = {d.id for d in db.collection("outbox").stream() if d.id.startswith(report_id)}
    assert f"{report_id}.2.pemkab-sukabumi" in told


def test_a_district_rule_to_a_unit_is_added_and_routes_the_next_report_to_the_unit(
    national: ConsoleClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_REFERENCE_REFRESH_S", "0")
    wiring.reset()
    route = route_app()
    page = national.get("/aturan")
    # Cianjur has agencies of its own: its districts and the units are offered.
    assert '<option value="32.03.03">32.03.03 Kec. Cibeber</option>' in page.text
    assert '<option value="uptd-jalan-cianjur-utara">' in page.text
    unknown = national.post(
        "/aturan",
        {
            "kode": "cibeber-jalan",
            "kategori": "infrastruktur.jalan",
            "wilayah": "32.03.99",
            "instansi": "uptd-jalan-cianjur-utara",
        },
    )
    assert unknown.status_code == 422 and "region &#39;32.03.99&#39; does not exist" in unknown.text
    added = national.post(
        "/aturan",
        {
            "kode": "cibeber-jalan",
            "kategori": "infrastruktur.jalan",
            "wilayah": "32.03.03",
            "instansi": "uptd-jalan-cianjur-utara",
        },
    )
    assert added.status_code == 303
    listed = national.get("/aturan").text
    row = listed[listed.index('href="/aturan/cibeber-jalan"') :]
    assert "<td>Cibeber</td>" in row[: row.index("</tr>")]  # the place by its name

    report_id = submit(region=Region("32", "32.03", "32.03.03"))
    route_pending(route)

    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert (doc["agency_id"], doc["unit_id"], doc["routing_rule_id"]) == (
        "dpupr-cianjur",
        "uptd-jalan-cianjur-utara",
        "cibeber-jalan",
    )
