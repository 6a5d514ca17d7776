"""A report's files and place across the functions, against the real emulators
(Firestore, Pub/Sub, fake-gcs-server for the bucket): the hosted form without
JavaScript, the route function, the agency API and the console.

- a refused file stores nothing: no document, no object in the bucket;
- without JavaScript the form still picks a district and a village;
- a file is checked, staged, committed and promoted; what is stored has no metadata;
- links are short-lived signed URLs: fake-gcs-server checks neither signature nor
  expiry (docs/storage.md), so the test checks what Cloud Storage does, the V4
  signature over the expiry, with the stack's signing key;
- another agency gets nothing, the public only what the reporter allowed;
- the API's direct upload, a forward to a unit (the files go with the report) and the
  unit's photo of the repair, which the reporter sees;
- a function that died between its commit and the promotion: the sweeper republishes
  the commit's message and the route function promotes the files.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import functions_framework
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from flask.testing import FlaskClient
from google.cloud import firestore, storage
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import wiring
from shared.config import settings
from shared.domain.report import Role
from shared.web.openapi import form_example, report_example
from tests.functional.evidence_support import metadata_left, phone_photo
from tests.functional.support import counts
from tests.functional.test_route_function import deliver, pull, route_app
from tests.functional.test_sweep_function import reload_settings
from tests.integration.test_blob_store_contract import (
    fetch,
    query_of,
    signing_public_key,
    v4_string_to_sign,
)
from tools.api_keys import issue_key
from tools.stack import Emulators

CUGENANG, SUKAMANAH = "32.03.11", "32.03.11.2001"
ADDRESS = "Jl. Raya Cugenang, depan warung Bu Iis"
LATITUDE, LONGITUDE = "-6.816284", "107.081471"


# --- helpers ------------------------------------------------------------------------------


def objects(emulators: Emulators) -> set[str]:
    """Every object in the attachments bucket, as Google's own client lists it."""
    client = storage.Client(project=emulators.project)
    try:
        return {blob.name for blob in client.list_blobs(emulators.bucket)}
    finally:
        client.close()


def form(**changes: str) -> dict[str, Any]:
    """The form as a phone without JavaScript posts it: a fresh visit (nonce), a road
    report in Cianjur, ``changes`` on top."""
    data: dict[str, Any] = {**form_example(), "nonce": secrets.token_urlsafe(18)}
    data.update(changes)
    return data


def with_files(data: dict[str, Any], *files: tuple[str, bytes]) -> dict[str, Any]:
    # The declared type says nothing to the function: it is given as a browser would.
    data["berkas"] = [(BytesIO(content), name, "image/jpeg") for name, content in files]
    return data


def post_form(app: FlaskClient, data: dict[str, Any]) -> Any:
    return app.post("/", data=data, content_type="multipart/form-data")


def sent(response: Any) -> tuple[str, str]:
    """The tracking code and the reporter's token of an accepted form."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    parts = urlsplit(response.headers["Location"])
    token = parse_qs(parts.query)["token"][0]
    return parts.path.rsplit("/", 1)[1], token


def report_of(db: firestore.Client, code: str) -> dict[str, Any]:
    [doc] = db.collection("reports").where(filter=FieldFilter("tracking_code", "==", code)).get()
    found = doc.to_dict() or {}
    found["id"] = doc.id
    return found


def file_link(app: FlaskClient, code: str, file_id: str, token: str | None, **query: str) -> Any:
    params = {**({"token": token} if token else {}), **query}
    return app.get(f"/lacak/{code}/berkas/{file_id}", query_string=params)


@pytest.fixture
def photo() -> bytes:
    made = phone_photo((1200, 900))
    assert metadata_left(made)["gps"]  # what must not survive
    return made


@pytest.fixture
def agency(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    yield functions_framework.create_app(
        target="agency", source="functions/agency/main.py"
    ).test_client()
    wiring.reset()


# --- refusals store nothing ------------------------------------------------------------------


def test_a_refused_file_stores_nothing_and_the_reporter_reads_why(
    app: FlaskClient, db: firestore.Client, clean_emulators: Emulators, photo: bytes
) -> None:
    before, stored_before = counts(db), objects(clean_emulators)

    # A good photo beside a text file that calls itself a photo: the whole form is refused.
    response = post_form(
        app,
        with_files(form(), ("jalan.jpg", photo), ("foto-lubang.jpg", b"bukan foto, hanya teks")),
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "foto-lubang.jpg: jenis berkas tidak diterima" in page
    assert "jalan.jpg:" not in page  # the good one is not blamed
    assert counts(db) == before
    assert objects(clean_emulators) == stored_before == set()


def test_files_over_the_count_limit_store_nothing(
    app: FlaskClient, db: firestore.Client, clean_emulators: Emulators, photo: bytes
) -> None:
    limit = settings().attachment_max_count
    before = counts(db)
    too_many = [(f"foto-{n}.jpg", photo) for n in range(limit + 1)]

    response = post_form(app, with_files(form(), *too_many))

    assert response.status_code == 422
    assert f"paling banyak {limit} berkas" in response.get_data(as_text=True)
    assert counts(db) == before
    assert objects(clean_emulators) == set()


# --- place without JavaScript --------------------------------------------------------


def test_without_javascript_the_form_offers_the_districts_then_the_villages(
    app: FlaskClient, db: firestore.Client
) -> None:
    before = counts(db)

    # The form's "show districts and villages" button, as a browser without JavaScript
    # sends it (multipart, the form's enctype): the page comes back with the lists.
    districts = post_form(app, form(perbarui_wilayah="1"))
    villages = post_form(app, form(perbarui_wilayah="1", district_code=CUGENANG))

    assert districts.status_code == villages.status_code == 200
    assert f'<option value="{CUGENANG}">Cugenang</option>' in districts.get_data(as_text=True)
    assert f'<option value="{SUKAMANAH}">Sukamanah</option>' in villages.get_data(as_text=True)
    assert counts(db) == before  # refreshing the lists sends nothing


# --- a file through the whole flow ---------------------------------------------------------


def test_a_photo_is_stored_without_metadata_beside_its_thumbnail(
    app: FlaskClient, db: firestore.Client, clean_emulators: Emulators, photo: bytes
) -> None:
    data = form(
        district_code=CUGENANG,
        village_code=SUKAMANAH,
        address=ADDRESS,
        latitude=LATITUDE,
        longitude=LONGITUDE,
    )
    code, _ = sent(post_form(app, with_files(data, ("IMG_Budi.jpg", photo))))

    report = report_of(db, code)
    assert (report["district_code"], report["village_code"]) == (CUGENANG, SUKAMANAH)
    assert report["address"] == ADDRESS
    assert report["point"] == {"latitude": float(LATITUDE), "longitude": float(LONGITUDE)}
    [attachment] = report["attachments"]
    assert (attachment["media_type"], attachment["has_thumbnail"]) == ("image/jpeg", True)
    final = f"reports/{report['id']}/{attachment['id']}"
    assert {final, f"{final}.thumb.webp"} <= objects(clean_emulators)
    blobs = wiring.blob_store()
    assert metadata_left(blobs.get(final).data) == {}
    assert metadata_left(blobs.get(f"{final}.thumb.webp").data) == {}
    # The device's name for the file is kept nowhere.
    assert "IMG_Budi" not in str(report)


# --- links are short-lived signed URLs -----------------------------------------------------


def test_the_reporters_file_link_is_a_signed_url_that_expires_as_set(
    app: FlaskClient, db: firestore.Client, clean_emulators: Emulators, photo: bytes
) -> None:
    code, token = sent(post_form(app, with_files(form(), ("jalan.jpg", photo))))
    [attachment] = report_of(db, code)["attachments"]

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    response = file_link(app, code, attachment["id"], token)
    after = dt.datetime.now(dt.UTC)

    assert response.status_code == 302
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    url = response.headers["Location"]
    query = query_of(url)
    ttl = settings().attachment_url_ttl_s
    assert query["X-Goog-Expires"] == str(ttl)
    signed_at = dt.datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert before <= signed_at <= after
    # Cloud Storage refuses the URL from signed_at + ttl on; the emulator does not check
    # (docs/storage.md), so the signature is what binds that instant: it verifies over
    # exactly this expiry and this time of signing, and over no later one.
    key, signature = signing_public_key(clean_emulators), bytes.fromhex(query["X-Goog-Signature"])
    key.verify(signature, v4_string_to_sign(url), padding.PKCS1v15(), hashes.SHA256())
    for later in (
        url.replace(f"X-Goog-Expires={ttl}", f"X-Goog-Expires={ttl * 100}"),
        url.replace(
            query["X-Goog-Date"], (signed_at + dt.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
        ),
    ):
        with pytest.raises(InvalidSignature):
            key.verify(signature, v4_string_to_sign(later), padding.PKCS1v15(), hashes.SHA256())
    # And the URL leads to the stored photo (the emulator serves signed URLs).
    stored = wiring.blob_store().get(f"reports/{report_of(db, code)['id']}/{attachment['id']}")
    assert fetch(url) == stored.data
    thumbnail = file_link(app, code, attachment["id"], token, ukuran="kecil")
    assert thumbnail.status_code == 302
    assert ".thumb.webp" in urlsplit(thumbnail.headers["Location"]).path


def test_the_public_sees_files_only_when_the_reporter_allowed_it(
    app: FlaskClient, db: firestore.Client, photo: bytes
) -> None:
    hidden, _ = sent(post_form(app, with_files(form(), ("jalan.jpg", photo))))
    shown, _ = sent(post_form(app, with_files(form(show_attachments="1"), ("jalan.jpg", photo))))
    secret, secret_token = sent(
        post_form(app, with_files(form(show_attachments="1", confidential="1"), ("j.jpg", photo)))
    )
    ids = {code: report_of(db, code)["attachments"][0]["id"] for code in (hidden, shown, secret)}

    missing = file_link(app, hidden, "f0000000000", None)
    assert missing.status_code == 404
    not_allowed = file_link(app, hidden, ids[hidden], None)
    assert (not_allowed.status_code, not_allowed.get_data()) == (404, missing.get_data())
    assert file_link(app, shown, ids[shown], None).status_code == 302
    # A confidential report's files never go public, whatever was ticked...
    assert file_link(app, secret, ids[secret], None).status_code == 404
    # ...and its reporter still has them.
    assert file_link(app, secret, ids[secret], secret_token).status_code == 302


# --- another agency gets nothing ------------------------------------------------------------


def test_another_agency_gets_nothing_of_the_report_or_its_files(
    app: FlaskClient,
    agency: FlaskClient,
    db: firestore.Client,
    photo: bytes,
    signed_in_client: Any,
) -> None:
    code, _ = sent(post_form(app, with_files(form(), ("jalan.jpg", photo))))
    router = route_app()
    [message] = pull("route", expect=1)
    assert deliver(router, message) in (200, 204)
    report = report_of(db, code)
    assert report["agency_id"] == "dpupr-cianjur"
    file_id = report["attachments"][0]["id"]
    dpupr = {"Authorization": f"Bearer {issue_key(db, 'dpupr-cianjur', 'agency_admin', 't')}"}
    dinkes = {"Authorization": f"Bearer {issue_key(db, 'dinkes-cianjur', 'agency_admin', 't')}"}

    # The agency API: the handling agency gets signed URLs, another agency a 404.
    own = agency.get(f"/api/v1/reports/{report['id']}", headers=dpupr)
    assert own.status_code == 200, own.get_data(as_text=True)
    [listed] = own.get_json()["attachments"]
    assert listed["id"] == file_id
    assert query_of(listed["url"])["X-Goog-Expires"] == str(settings().attachment_url_ttl_s)
    assert ".thumb.webp" in urlsplit(listed["thumbnail_url"]).path
    other = agency.get(f"/api/v1/reports/{report['id']}", headers=dinkes)
    assert other.status_code == 404
    assert "url" not in other.get_data(as_text=True)

    # The console: the handling agency's link leads to the file; another agency's
    # staff get the console's 404, the same as for a file that does not exist.
    path = f"/laporan/{report['id']}/berkas/{file_id}"
    roads = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur")
    assert roads.get(path).status_code == 302
    health = signed_in_client(Role.AGENCY_ADMIN, "dinkes-cianjur")
    refused = health.get(path)
    missing = roads.get(f"/laporan/{report['id']}/berkas/f0000000000")
    assert refused.status_code == missing.status_code == 404
    assert "Location" not in refused.headers


# --- the API's direct upload, a transfer and the agency's own photo --------------------------


def put_through_a_signed_url(app: FlaskClient, data: bytes, **headers: str) -> str:
    """Ask ``app`` for an upload slot, PUT ``data`` to the bucket as a client would: its id."""
    slot = app.post(
        "/api/v1/uploads", json={"media_type": "image/jpeg", "size": len(data)}, headers=headers
    )
    assert slot.status_code == 201, slot.get_data(as_text=True)
    answer = slot.get_json()
    fetch(answer["upload_url"], "PUT", data, **answer["headers"])
    return str(answer["upload_id"])


def test_a_forward_carries_the_files_and_the_reporter_sees_the_units_photo_of_the_repair(
    app: FlaskClient, agency: FlaskClient, db: firestore.Client, photo: bytes
) -> None:
    # A reporter's app uploads the photo straight to the bucket, then submits.
    upload_id = put_through_a_signed_url(app, photo)
    body = {**report_example(), "attachments": [upload_id]}
    submitted = app.post("/api/v1/reports", json=body)
    assert submitted.status_code == 201, submitted.get_data(as_text=True)
    code, token = submitted.get_json()["tracking_code"], submitted.get_json()["reporter_token"]
    [message] = pull("route", expect=1)
    assert deliver(route_app(), message) in (200, 204)
    report_id = report_of(db, code)["id"]
    dpupr = {"Authorization": f"Bearer {issue_key(db, 'dpupr-cianjur', 'agency_admin', 't')}"}
    unit = {"Authorization": f"Bearer {issue_key(db, 'uptd-jalan-cianjur', 'unit_officer', 't')}"}
    assert agency.get(f"/api/v1/reports/{report_id}", headers=unit).status_code == 404

    # DPUPR passes it to its roads unit: the files go with the report.
    forwarded = agency.post(
        f"/api/v1/reports/{report_id}/forward",
        json={"unit_id": "uptd-jalan-cianjur"},
        headers=dpupr,
    )
    assert forwarded.status_code == 200, forwarded.get_data(as_text=True)
    [reporters] = agency.get(f"/api/v1/reports/{report_id}", headers=unit).get_json()["attachments"]
    assert metadata_left(fetch(reporters["url"])) == {}

    # The unit follows up with a photo of the repaired road, from its phone (GPS and all).
    repaired = phone_photo((1024, 768), index=7)
    repair_id = put_through_a_signed_url(agency, repaired, **unit)
    followed = agency.post(
        f"/api/v1/reports/{report_id}/follow-up",
        json={"message": "Lubang sudah ditambal, foto terlampir.", "attachments": [repair_id]},
        headers=unit,
    )
    assert followed.status_code == 200, followed.get_data(as_text=True)

    # The reporter's tracking sees both files, the unit's without its phone's metadata.
    tracked = app.get(f"/api/v1/reports/{code}", headers={"Authorization": f"Bearer {token}"})
    first, second = tracked.get_json()["attachments"]
    assert (first["id"], first["added_by"]) == (reporters["id"], "reporter")
    assert (second["added_by"], second["width"], second["height"]) == ("agency", 1024, 768)
    assert metadata_left(fetch(second["url"])) == {}
    page = app.get(f"/lacak/{code}", query_string={"token": token}).get_data(as_text=True)
    assert f"/lacak/{code}/berkas/{second['id']}" in page
    # The public: nothing, the reporter did not choose to show the files.
    assert app.get(f"/api/v1/reports/{code}").get_json()["attachments"] == []


# --- a function that died between its commit and the promotion ------------------------------


class Crash(BaseException):
    """The function's instance going away at the worst moment: no ``except Exception``
    catches it, so nothing after it runs (no promotion, no publish)."""


def test_files_of_a_function_that_died_after_its_commit_are_promoted_by_route(
    app: FlaskClient,
    db: firestore.Client,
    clean_emulators: Emulators,
    photo: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blobs = wiring.blob_store()

    def crash(source: str, target: str) -> None:
        raise Crash(f"died before copying {source}")

    # The submit function dies at its first copy: after the commit, before any promotion
    # and before it publishes report.submitted.
    monkeypatch.setattr(blobs, "copy", crash)
    data = with_files(form(), ("jalan.jpg", photo), ("lubang.jpg", phone_photo((800, 600))))
    with pytest.raises(Crash):
        post_form(app, data)
    monkeypatch.undo()

    [doc] = db.collection("reports").get()
    ids = [a["id"] for a in (doc.to_dict() or {})["attachments"]]
    assert len(ids) == 2
    stored = objects(clean_emulators)
    assert not any(name.startswith("reports/") for name in stored), stored
    assert {f"uploads/reports/{doc.id}/{i}" for i in ids} <= stored
    assert pull("route", wait_s=1) == []  # it died before publishing

    # The sweeper republishes the committed message (age 0 here, 120 s in production);
    # route promotes the files before it routes the report.
    reload_settings(outbox_sweep_age_s="0")
    sweeper = functions_framework.create_app(target="sweep", source="functions/sweep/main.py")
    assert sweeper.test_client().post("/").status_code == 200
    [message] = pull("route", expect=1)
    assert deliver(route_app(), message) in (200, 204)

    promoted = objects(clean_emulators)
    for file_id in ids:
        final = f"reports/{doc.id}/{file_id}"
        assert {final, f"{final}.thumb.webp"} <= promoted
    routed = db.collection("reports").document(doc.id).get().to_dict() or {}
    assert routed["state"] == "dispositioned"
