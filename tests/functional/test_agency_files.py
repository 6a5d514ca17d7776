"""Files through the agency API (shared/web/agency_app.py, api_files.py), through
functions-framework against the real Firestore emulator and fake-gcs-server: the
report's files and exact place in its detail, behind signed links; an upload URL for
the API key's holder; a follow-up or a resolution that brings files; and another
agency, which gets the same 404 as for an unknown report and stores nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore, storage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from shared import wiring
from shared.adapters.scanning import NoScanner
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, GeoPoint, Region, Role
from shared.ports import SystemClock
from shared.usecases.act import act
from shared.usecases.attachments import Upload
from shared.usecases.evidence import safe_files
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher
from tools.api_keys import issue_key
from tools.stack import Emulators

SOURCE = "functions/agency/main.py"
POINT = GeoPoint(-6.816, 107.081)  # Cugenang, Cianjur


@pytest.fixture
def app(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client = functions_framework.create_app(target="agency", source=SOURCE).test_client()
    yield client
    wiring.reset()


@pytest.fixture
def keys(db: firestore.Client) -> dict[str, str]:
    return {
        "dpupr": issue_key(db, "dpupr-cianjur", "agency_admin", "t"),
        "dinkes": issue_key(db, "dinkes-cianjur", "agency_admin", "t"),
    }


@pytest.fixture
def bucket(clean_emulators: Emulators) -> Iterator[storage.Bucket]:
    client = storage.Client(project=clean_emulators.project)
    yield client.bucket(os.environ["LAPOR_ATTACHMENTS_BUCKET"])
    client.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def a_photo(size: tuple[int, int] = (400, 300)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "S", 2: (6.0, 48.0, 57.6), 3: "E", 4: (107.0, 4.0, 51.6)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def fetch(url: str, method: str = "GET", data: bytes | None = None, **headers: str) -> bytes:
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def objects(bucket: storage.Bucket, prefix: str = "") -> list[str]:
    return sorted(blob.name for blob in bucket.list_blobs(prefix=prefix))


def report_with_a_photo() -> str:
    """A report with the reporter's photo and an exact place, dispositioned to DPUPR."""
    settings = Settings.from_env()
    store = wiring.report_store()
    draft = dataclasses.replace(
        a_draft(),
        region=Region("32", "32.03", "32.03.11", "32.03.11.2001"),
        address="Depan SDN 1 Cugenang, rumah Pak RT",
        point=POINT,
    )
    files = safe_files([Upload("jalan.jpg", a_photo())], settings, NoScanner())
    result = submit_report(
        draft,
        an_identity(name="Siti Rahma"),
        client_id=uuid.uuid4().hex,
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=SystemClock(),
        settings=settings,
        files=files,
        blobs=wiring.blob_store(),
    )
    act(
        result.report_id,
        Command(
            Action.DISPOSITION,
            Actor(Role.SYSTEM, "system:route"),
            agency_id="dpupr-cianjur",
            data={"method": "rule"},
        ),
        store=store,
        clock=SystemClock(),
        settings=settings,
    )
    return result.report_id


def detail(app: FlaskClient, key: str, report_id: str) -> Any:
    return app.get(f"/api/v1/reports/{report_id}", headers=auth(key))


def upload(app: FlaskClient, key: str, data: bytes, media_type: str = "image/jpeg") -> str:
    response = app.post(
        "/api/v1/uploads", json={"media_type": media_type, "size": len(data)}, headers=auth(key)
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    slot = response.get_json()
    fetch(slot["upload_url"], "PUT", data, **slot["headers"])
    return str(slot["upload_id"])


def follow_up(app: FlaskClient, key: str, report_id: str, attachments: list[str]) -> Any:
    body = {"message": "Lubang sudah ditambal, lihat foto.", "attachments": attachments}
    return app.post(f"/api/v1/reports/{report_id}/follow-up", json=body, headers=auth(key))


def test_the_handling_agency_sees_the_files_behind_signed_links_and_the_exact_place(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = report_with_a_photo()
    before = dt.datetime.now(dt.UTC)
    response = detail(app, keys["dpupr"], report_id)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.get_json()
    assert shown["place"] == {
        "district_code": "32.03.11",
        "village_code": "32.03.11.2001",
        "address": "Depan SDN 1 Cugenang, rumah Pak RT",
        "latitude": POINT.latitude,
        "longitude": POINT.longitude,
        "precision": "exact",
    }
    [photo] = shown["attachments"]
    assert (photo["added_by"], photo["added_seq"], photo["has_thumbnail"]) == ("reporter", 1, True)
    expires = dt.datetime.fromisoformat(photo["url_expires_at"])
    assert before + dt.timedelta(seconds=290) <= expires <= before + dt.timedelta(seconds=310)
    assert dict(parse_qsl(urlsplit(photo["url"]).query))["X-Goog-Expires"] == "300"
    stored = fetch(photo["url"])
    assert Image.open(io.BytesIO(stored)).getexif() == {}
    assert b"PhoneMaker" not in stored
    assert fetch(photo["thumbnail_url"]).startswith(b"RIFF")


def test_another_agency_gets_the_404_of_an_unknown_report_and_no_link(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = report_with_a_photo()
    theirs = detail(app, keys["dinkes"], report_id)
    unknown = detail(app, keys["dinkes"], "r" + "0" * 19)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.get_json()["type"] == unknown.get_json()["type"]
    assert "X-Goog-Signature" not in theirs.get_data(as_text=True)


def test_a_follow_up_brings_the_agencys_photo_which_the_report_then_lists(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client, bucket: storage.Bucket
) -> None:
    report_id = report_with_a_photo()
    upload_id = upload(app, keys["dpupr"], a_photo((800, 600)))
    response = follow_up(app, keys["dpupr"], report_id, [upload_id])
    assert response.status_code == 200, response.get_data(as_text=True)
    event = response.get_json()["event"]
    reporters, agencys = detail(app, keys["dpupr"], report_id).get_json()["attachments"]
    assert reporters["added_by"] == "reporter"
    assert (agencys["added_by"], agencys["added_seq"]) == ("agency", event["seq"])
    assert (agencys["width"], agencys["height"]) == (800, 600)
    assert Image.open(io.BytesIO(fetch(agencys["url"]))).size == (800, 600)
    assert f"reports/{report_id}/{agencys['id']}" in objects(bucket, "reports/")


def test_another_agencys_follow_up_with_files_is_404_and_stores_nothing(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client, bucket: storage.Bucket
) -> None:
    report_id = report_with_a_photo()
    before = objects(bucket, "reports/")
    staged = objects(bucket, f"uploads/reports/{report_id}/")  # the submission's
    upload_id = upload(app, keys["dinkes"], a_photo())
    response = follow_up(app, keys["dinkes"], report_id, [upload_id])
    assert response.status_code == 404
    assert objects(bucket, "reports/") == before  # nothing is the report's
    assert objects(bucket, f"uploads/reports/{report_id}/") == staged  # nor staged for it
    events = db.collection("reports").document(report_id).collection("events").stream()
    assert len(list(events)) == 2  # the submission and the disposition


def test_a_refused_file_refuses_the_follow_up_and_changes_nothing(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client, bucket: storage.Bucket
) -> None:
    report_id = report_with_a_photo()
    before = objects(bucket)
    bad = upload(app, keys["dpupr"], b"<html>not a photo</html>")
    response = follow_up(app, keys["dpupr"], report_id, [bad])
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "urn:lapor:problem:files-refused"
    assert [e["code"] for e in problem["errors"]] == ["unsupported_type"]
    assert problem["errors"][0]["message"].endswith(
        "Send a photo (JPEG, PNG, WebP, HEIC) or a PDF."
    )
    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert doc["state"] == "dispositioned"
    assert objects(bucket) == sorted([*before, f"uploads/raw/{bad}"])  # nothing staged


@pytest.mark.parametrize(
    ("op", "body", "field", "code"),
    [
        ("follow-up", {"message": "x", "attachments": ["u" + "1" * 32]}, "attachments.0",
         "unknown_upload"),
        ("follow-up", {"message": "x", "attachments": ["nope"]}, "attachments.0", "invalid"),
        ("hold", {"reason": "Lengkapi foto.", "attachments": []}, "attachments",
         "extra_forbidden"),
    ],
)  # fmt: skip
def test_bad_attachments_on_an_action_are_422_on_their_field(
    app: FlaskClient,
    keys: dict[str, str],
    op: str,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    report_id = report_with_a_photo()
    response = app.post(f"/api/v1/reports/{report_id}/{op}", json=body, headers=auth(keys["dpupr"]))
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [(field, code)]


def test_an_upload_url_needs_a_key(app: FlaskClient, bucket: storage.Bucket) -> None:
    response = app.post("/api/v1/uploads", json={"media_type": "image/jpeg", "size": 10})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert objects(bucket) == []


def follow_up_multipart(app: FlaskClient, key: str, report_id: str, fields: dict[str, Any]) -> Any:
    return app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        data=fields,
        content_type="multipart/form-data",
        headers=auth(key),
    )


def test_a_follow_up_may_bring_its_photo_as_multipart(
    app: FlaskClient, keys: dict[str, str], db: firestore.Client
) -> None:
    report_id = report_with_a_photo()
    body = json.dumps({"message": "Perbaikan sedang dikerjakan."})
    photo = (io.BytesIO(a_photo((300, 200))), "IMG_9.jpg", "image/jpeg")
    response = follow_up_multipart(app, keys["dpupr"], report_id, {"body": body, "berkas": [photo]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["report"]["state"] == "in_progress"
    files = detail(app, keys["dpupr"], report_id).get_json()["attachments"]
    assert [(f["added_by"], f["width"]) for f in files] == [("reporter", 400), ("agency", 300)]


@pytest.mark.parametrize(
    ("fields", "status", "kind"),
    [
        ({"berkas": [(io.BytesIO(b"x"), "a.jpg", "image/jpeg")]}, 422, "validation"),
        ({"body": json.dumps({"message": "x", "attachments": []})}, 422, "validation"),
        ({"body": json.dumps({"message": "x"}), "berkas": [(io.BytesIO(b"<svg/>"), "a.svg",
          "image/svg+xml")]}, 422, "files-refused"),
        ({"body": "not json"}, 400, "malformed-json"),
        ({"body": json.dumps({"message": "x"}), "extra": "y"}, 400, "malformed-multipart"),
    ],
    ids=["no-body", "attachments-too", "refused-file", "bad-json", "extra-part"],
)  # fmt: skip
def test_a_bad_multipart_action_changes_nothing(
    app: FlaskClient,
    keys: dict[str, str],
    db: firestore.Client,
    fields: dict[str, Any],
    status: int,
    kind: str,
) -> None:
    report_id = report_with_a_photo()
    response = follow_up_multipart(app, keys["dpupr"], report_id, fields)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["type"] == f"urn:lapor:problem:{kind}"
    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert doc["state"] == "dispositioned"


def test_an_action_that_takes_no_files_takes_no_multipart(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = report_with_a_photo()
    response = app.post(
        f"/api/v1/reports/{report_id}/hold",
        data={"body": json.dumps({"reason": "Lengkapi."})},
        content_type="multipart/form-data",
        headers=auth(keys["dpupr"]),
    )
    assert response.status_code == 415


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)
BODIES = st.fixed_dictionaries(
    {},
    optional={
        "message": JSON_VALUES,
        "media_type": st.sampled_from(["image/jpeg", "text/html"]) | JSON_VALUES,
        "size": st.integers(min_value=-(2**70), max_value=2**70) | JSON_VALUES,
        "attachments": st.lists(st.text(alphabet="u0123456789abcdef./", max_size=40), max_size=4)
        | JSON_VALUES,
    },
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES | JSON_VALUES)
def test_no_body_makes_the_upload_or_a_follow_up_fail(
    app: FlaskClient, keys: dict[str, str], body: Any
) -> None:
    # With real credentials; the report is unknown, so a body that passes ends in 404.
    for path in (
        "/api/v1/uploads",
        "/api/v1/reports/r0000000000000000000/follow-up",
        "/api/v1/reports/r0000000000000000000/resolve",
    ):
        response = app.post(path, json=body, headers=auth(keys["dpupr"]))
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"
