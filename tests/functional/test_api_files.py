"""Files through the reporter's JSON API (shared/web/reporter_api.py, api_files.py),
through functions-framework against the real Firestore emulator and fake-gcs-server:
multipart submission, direct upload through a signed PUT, refusals that store nothing
(no report, no object), and the signed links of the tracking answer."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient
from google.cloud import firestore, storage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from werkzeug.test import TestResponse

from shared import wiring
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import SystemClock
from shared.usecases.act import act
from shared.web.schemas import REPORT_EXAMPLE
from tests.functional.support import counts
from tools.stack import Emulators

GPS_IFD = 0x8825


def report(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(REPORT_EXAMPLE)
    data.update(changes)
    return data


def photo_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    """A phone's photo: camera make and model and the GPS position in its EXIF."""
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif[GPS_IFD] = {1: "S", 2: (6.0, 49.0, 12.5), 3: "E", 4: (107.0, 8.0, 30.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def a_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def bucket(clean_emulators: Emulators) -> Iterator[storage.Bucket]:
    client = storage.Client(project=clean_emulators.project)
    yield client.bucket(os.environ["LAPOR_ATTACHMENTS_BUCKET"])
    client.close()


def objects(bucket: storage.Bucket, prefix: str = "") -> list[str]:
    return sorted(blob.name for blob in bucket.list_blobs(prefix=prefix))


def fetch(url: str, method: str = "GET", data: bytes | None = None, **headers: str) -> bytes:
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def post_multipart(
    app: FlaskClient, fields: dict[str, Any], lang: str = "id", **headers: str
) -> TestResponse:
    return app.post(
        f"/api/v1/reports?lang={lang}",
        data=fields,
        content_type="multipart/form-data",
        headers=headers,
    )


def files(*named: tuple[str, bytes]) -> list[tuple[io.BytesIO, str, str]]:
    # The declared type is deliberately wrong: the server judges the bytes.
    return [(io.BytesIO(data), name, "application/octet-stream") for name, data in named]


def track(app: FlaskClient, code: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = app.get(f"/api/v1/reports/{code}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


# --- multipart --------------------------------------------------------------------------


def test_a_multipart_report_keeps_its_files_without_metadata_behind_signed_links(
    app: FlaskClient, db: firestore.Client, bucket: storage.Bucket
) -> None:
    photo, pdf = photo_with_gps(), a_pdf()
    response = post_multipart(
        app,
        {
            "report": json.dumps(report()),
            "berkas": files(("IMG_20250115_siti.jpg", photo), ("surat.pdf", pdf)),
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.get_json()
    report_id = next(iter(db.collection("reports").stream())).id

    before = dt.datetime.now(dt.UTC)
    tracked = track(app, out["tracking_code"], out["reporter_token"])
    assert tracked.headers["Cache-Control"] == "no-store"
    shown = tracked.get_json()
    image, document = shown["attachments"]
    assert (image["media_type"], image["added_by"], image["added_seq"]) == (
        "image/jpeg",
        "reporter",
        1,
    )
    assert (image["width"], image["height"], image["has_thumbnail"]) == (640, 480, True)
    assert (document["media_type"], document["pages"], document["thumbnail_url"]) == (
        "application/pdf",
        1,
        None,
    )
    assert "IMG_2025" not in json.dumps(shown)  # the device's name is never kept
    # Promoted at once: the report's objects, and nothing left staged but the copies.
    names = objects(bucket, f"reports/{report_id}/")
    assert names == sorted(
        [
            f"reports/{report_id}/{image['id']}",
            f"reports/{report_id}/{image['id']}.thumb.webp",
            f"reports/{report_id}/{document['id']}",
        ]
    )
    # The links: signed, expiring as stated, and they fetch the stored bytes.
    expires = dt.datetime.fromisoformat(image["url_expires_at"])
    assert before + dt.timedelta(seconds=290) <= expires <= before + dt.timedelta(seconds=310)
    query = dict(parse_qsl(urlsplit(image["url"]).query))
    assert query["X-Goog-Expires"] == "300" and query["X-Goog-Signature"]
    stored = fetch(image["url"])
    assert stored.startswith(b"\xff\xd8") and stored != photo
    assert Image.open(io.BytesIO(stored)).getexif() == {}  # no camera, no GPS
    assert fetch(image["thumbnail_url"]).startswith(b"RIFF")  # WebP
    assert fetch(document["url"]).startswith(b"%PDF")


def test_the_public_sees_no_files_unless_the_reporter_chose_to_show_them(
    app: FlaskClient,
) -> None:
    response = post_multipart(
        app, {"report": json.dumps(report()), "berkas": files(("a.jpg", photo_with_gps()))}
    )
    out = response.get_json()
    public = track(app, out["tracking_code"])
    assert public.get_json()["attachments"] == []
    assert public.get_json()["audience"] == "public"
    assert (
        len(track(app, out["tracking_code"], out["reporter_token"]).get_json()["attachments"]) == 1
    )


def test_a_refused_file_refuses_the_report_and_stores_nothing(
    app: FlaskClient, db: firestore.Client, bucket: storage.Bucket
) -> None:
    before = counts(db)
    response = post_multipart(
        app,
        {
            "report": json.dumps(report()),
            "berkas": files(
                ("jalan.jpg", photo_with_gps()),
                ("bukan-foto.jpg", b"%PDF-1.4 this is no photo"),
                ("catatan.txt", b"just text"),
            ),
        },
        lang="en",
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:lapor:problem:files-refused"
    assert response.headers["Content-Language"] == "en"
    by_code = {error["code"]: error for error in problem["errors"]}
    assert set(by_code) == {"name_mismatch", "unsupported_type"}
    assert all(error["field"] == "berkas" for error in problem["errors"])
    assert "bukan-foto.jpg" in by_code["name_mismatch"]["message"]
    assert "catatan.txt" in by_code["unsupported_type"]["message"]
    assert counts(db) == before
    assert objects(bucket) == []  # nothing, not even staged


def test_the_refusal_speaks_indonesian_by_default(app: FlaskClient) -> None:
    response = post_multipart(
        app, {"report": json.dumps(report()), "berkas": files(("kosong.jpg", b""))}, lang="id"
    )
    # An empty file with a name is a file: refused as empty, in Bahasa Indonesia.
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["code"] == "empty" and "kosong" in error["message"]


@pytest.mark.parametrize(
    ("fields", "status", "kind"),
    [
        ({"berkas": files(("a.jpg", b"x"))}, 422, "validation"),  # no report part
        ({"report": "{", "berkas": []}, 400, "malformed-json"),
        ({"report": "[1]"}, 400, "malformed-json"),
        ({"report": json.dumps(report()), "other": "x"}, 400, "malformed-multipart"),
        ({"report": json.dumps(report()), "photo": files(("a.jpg", b"x"))}, 400,
         "malformed-multipart"),
        ({"report": json.dumps(report(title="x"))}, 422, "validation"),
        ({"report": json.dumps(report(attachments=["u" + "0" * 32]))}, 422, "validation"),
    ],
    ids=["no-report", "bad-json", "not-object", "extra-field", "file-elsewhere",
         "invalid-report", "attachments-in-multipart"],
)  # fmt: skip
def test_hostile_multipart_bodies_are_refused_before_anything_is_written(
    app: FlaskClient,
    db: firestore.Client,
    bucket: storage.Bucket,
    fields: dict[str, Any],
    status: int,
    kind: str,
) -> None:
    before = counts(db)
    response = post_multipart(app, fields)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["type"] == f"urn:lapor:problem:{kind}"
    assert counts(db) == before and objects(bucket) == []


def test_a_multipart_body_without_the_report_part_names_it(app: FlaskClient) -> None:
    response = post_multipart(app, {"berkas": files(("a.jpg", photo_with_gps()))})
    assert response.get_json()["errors"][0]["field"] == "report"


def test_a_cut_short_multipart_body_is_a_400(app: FlaskClient) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="report"\r\n\r\n{"a": 1}'
    response = app.post(
        "/api/v1/reports", data=body, content_type="multipart/form-data; boundary=xyz"
    )
    assert response.status_code == 400
    assert response.get_json()["type"] == "urn:lapor:problem:malformed-multipart"


def test_a_multipart_body_over_its_limit_is_413_and_stores_nothing(
    app: FlaskClient, db: firestore.Client, bucket: storage.Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_FILE_BYTES", str(64 * 1024))
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_TOTAL_BYTES", str(64 * 1024))
    before = counts(db)
    big = os.urandom(300 * 1024)
    response = post_multipart(
        app, {"report": json.dumps(report()), "berkas": files(("a.jpg", big))}
    )
    assert response.status_code == 413
    assert response.get_json()["type"] == "urn:lapor:problem:body-too-large"
    assert counts(db) == before and objects(bucket) == []


def test_neither_json_nor_multipart_is_415(app: FlaskClient) -> None:
    response = app.post("/api/v1/reports", data="title=x", content_type="text/plain")
    assert response.status_code == 415
    assert "multipart/form-data" in response.get_json()["detail"]


def test_a_replayed_multipart_submission_is_the_same_report(
    app: FlaskClient, db: firestore.Client
) -> None:
    key = {"Idempotency-Key": "files-retry-0001"}
    photo = photo_with_gps()
    fields = lambda: {"report": json.dumps(report()), "berkas": files(("a.jpg", photo))}  # noqa: E731
    first = post_multipart(app, fields(), **key)
    second = post_multipart(app, fields(), **key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json() == first.get_json()
    assert counts(db)["reports"] == 1
    other = post_multipart(
        app,
        {"report": json.dumps(report()), "berkas": files(("b.jpg", photo_with_gps((320, 240))))},
        **key,
    )
    assert other.status_code == 422
    assert other.get_json()["type"] == "urn:lapor:problem:idempotency-key-reused"


# --- direct upload through a signed PUT -------------------------------------------------


def request_upload(app: FlaskClient, body: Any, **headers: str) -> TestResponse:
    return app.post("/api/v1/uploads?lang=en", json=body, headers=headers)


def put_file(app: FlaskClient, data: bytes, media_type: str = "image/jpeg") -> str:
    """Ask for an upload, PUT ``data`` to storage through its signed URL: its id."""
    response = request_upload(app, {"media_type": media_type, "size": len(data)})
    assert response.status_code == 201, response.get_data(as_text=True)
    slot = response.get_json()
    fetch(slot["upload_url"], "PUT", data, **slot["headers"])
    return str(slot["upload_id"])


def submit_json(app: FlaskClient, attachments: list[str], lang: str = "en") -> TestResponse:
    return app.post(f"/api/v1/reports?lang={lang}", json=report(attachments=attachments))


def test_a_file_put_through_the_signed_url_is_the_reports_once_named(
    app: FlaskClient, db: firestore.Client, bucket: storage.Bucket
) -> None:
    photo = photo_with_gps()
    before = dt.datetime.now(dt.UTC)
    response = request_upload(
        app, {"name": "IMG_1.jpg", "media_type": "image/jpeg", "size": len(photo)}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    slot = response.get_json()
    assert slot["method"] == "PUT" and slot["upload_id"].startswith("u")
    assert slot["headers"]["Content-Type"] == "image/jpeg"
    assert slot["max_bytes"] == 8 * 1024 * 1024
    expires = dt.datetime.fromisoformat(slot["expires_at"])
    assert before + dt.timedelta(seconds=890) <= expires <= before + dt.timedelta(seconds=910)
    assert dict(parse_qsl(urlsplit(slot["upload_url"]).query))["X-Goog-Expires"] == "900"
    fetch(slot["upload_url"], "PUT", photo, **slot["headers"])
    assert objects(bucket) == [f"uploads/raw/{slot['upload_id']}"]

    submitted = submit_json(app, [slot["upload_id"]])
    assert submitted.status_code == 201, submitted.get_data(as_text=True)
    out = submitted.get_json()
    [shown] = track(app, out["tracking_code"], out["reporter_token"]).get_json()["attachments"]
    assert (shown["media_type"], shown["width"], shown["has_thumbnail"]) == (
        "image/jpeg",
        640,
        True,
    )
    stored = fetch(shown["url"])
    assert Image.open(io.BytesIO(stored)).getexif() == {}
    report_id = next(iter(db.collection("reports").stream())).id
    assert f"reports/{report_id}/{shown['id']}" in objects(bucket, "reports/")


def test_a_refused_direct_upload_stores_no_report_and_no_file(
    app: FlaskClient, db: firestore.Client, bucket: storage.Bucket
) -> None:
    good = put_file(app, photo_with_gps())
    bad = put_file(app, b"MZ\x90\x00 not a photo at all", "image/jpeg")
    before = counts(db)
    response = submit_json(app, [good, bad], lang="id")
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "urn:lapor:problem:files-refused"
    [error] = problem["errors"]
    assert (error["field"], error["code"]) == ("attachments", "unsupported_type")
    assert bad in error["message"] and "tidak diterima" in error["message"]
    assert counts(db) == before
    assert objects(bucket, "reports/") == [] and objects(bucket, "uploads/reports/") == []


@pytest.mark.parametrize("never", ["given", "put"])
def test_an_upload_never_given_or_never_put_is_named_and_nothing_is_written(
    app: FlaskClient, db: firestore.Client, never: str
) -> None:
    good = put_file(app, photo_with_gps())
    if never == "given":
        missing = "u" + "0" * 32
    else:
        missing = request_upload(app, {"media_type": "image/png", "size": 10}).get_json()[
            "upload_id"
        ]
    before = counts(db)
    response = submit_json(app, [good, missing])
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "urn:lapor:problem:validation"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("attachments.1", "unknown_upload")
    ]
    assert counts(db) == before


@pytest.mark.parametrize(
    ("attachments", "field", "code"),
    [
        (["../../reports/x"], "attachments.0", "invalid"),
        (["u" + "0" * 32, "u" + "0" * 32], "attachments", "duplicate_upload"),
        ("u" + "0" * 32, "attachments", "invalid"),
        ([7], "attachments.0", "invalid"),
    ],
)
def test_malformed_upload_ids_are_refused_on_their_field(
    app: FlaskClient, db: firestore.Client, attachments: Any, field: str, code: str
) -> None:
    before = counts(db)
    response = app.post("/api/v1/reports", json=report(attachments=attachments))
    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.get_json()["errors"]}
    assert errors == {field: code}
    assert counts(db) == before


def test_more_files_than_the_limit_are_refused_before_any_is_read(
    app: FlaskClient, db: firestore.Client
) -> None:
    named = [f"u{i:032x}" for i in range(6)]  # none exists: the count is refused first
    response = submit_json(app, named)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert (error["code"], error["message"]) == (
        "too_many",
        "Too many files: at most 5 files per report.",
    )


def test_a_body_larger_than_the_limit_put_anyway_is_refused_as_too_big(
    app: FlaskClient, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cloud Storage refuses a PUT over the signed length range; the emulator does not,
    # so the function's own bounded read is what refuses it here.
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_FILE_BYTES", str(64 * 1024))
    response = request_upload(app, {"media_type": "image/jpeg", "size": 1000})
    slot = response.get_json()
    assert slot["headers"]["x-goog-content-length-range"] == f"0,{64 * 1024}"
    fetch(slot["upload_url"], "PUT", os.urandom(100 * 1024), **slot["headers"])
    before = counts(db)
    refused = submit_json(app, [slot["upload_id"]])
    assert refused.status_code == 422
    [error] = refused.get_json()["errors"]
    assert error["code"] == "too_big" and "64 KB" in error["message"]
    assert counts(db) == before


@pytest.mark.parametrize(
    ("body", "status", "kind", "field"),
    [
        ({"media_type": "text/html", "size": 10}, 422, "validation", "media_type"),
        ({"media_type": "image/jpeg", "size": 0}, 422, "validation", "size"),
        ({"media_type": "image/jpeg", "size": "10"}, 422, "validation", "size"),
        ({"media_type": "image/jpeg", "size": True}, 422, "validation", "size"),
        ({"media_type": "image/jpeg", "size": 10, "path": "x"}, 422, "validation", "path"),
        ({"media_type": "image/jpeg"}, 422, "validation", "size"),
        ({"media_type": "image/jpeg", "size": 10**12}, 422, "files-refused", "size"),
        ({"media_type": "image/jpeg", "size": 10, "name": "a" * 256}, 422, "validation", "name"),
        ([1], 400, "malformed-json", None),
    ],
)
def test_hostile_upload_requests_are_refused_without_signing(
    app: FlaskClient,
    bucket: storage.Bucket,
    body: Any,
    status: int,
    kind: str,
    field: str | None,
) -> None:
    response = request_upload(app, body)
    assert response.status_code == status, response.get_data(as_text=True)
    problem = response.get_json()
    assert problem["type"] == f"urn:lapor:problem:{kind}"
    if field:
        assert [e["field"] for e in problem["errors"]] == [field]
    assert objects(bucket) == []


def test_an_upload_request_that_is_not_small_json_is_refused(app: FlaskClient) -> None:
    assert app.post("/api/v1/uploads", data="x", content_type="text/plain").status_code == 415
    big = {"media_type": "image/jpeg", "size": 1, "name": "x" * 5000}
    assert app.post("/api/v1/uploads", json=big).status_code == 413


def test_uploads_are_rate_limited_per_client(
    app: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAPOR_RATE_LIMIT_SUBMITS", "1")
    monkeypatch.setenv("LAPOR_ATTACHMENT_MAX_COUNT", "2")
    ask = {"media_type": "image/jpeg", "size": 10}
    assert [request_upload(app, ask).status_code for _ in range(2)] == [201, 201]
    limited = request_upload(app, ask)
    assert limited.status_code == 429
    assert limited.get_json()["type"] == "urn:lapor:problem:rate-limited"
    assert int(limited.headers["Retry-After"]) >= 1
    # Another client has its own slots.
    other = app.post("/api/v1/uploads", json=ask, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 201


# --- a reporter's reply with files ------------------------------------------------------


def followed_up(app: FlaskClient) -> tuple[str, str, str]:
    """(report id, tracking code, reporter token) of a report the agency followed up."""
    out = app.post("/api/v1/reports", json=report()).get_json()
    found = wiring.report_store().find_by_tracking_code(out["tracking_code"])
    assert found is not None
    agency = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
    for command in (
        Command(
            Action.DISPOSITION, Actor(Role.NATIONAL_ADMIN, "nasional"), agency_id="dpupr-cianjur"
        ),
        Command(Action.FOLLOW_UP, agency, message="Sedang ditinjau."),
    ):
        act(
            found.id,
            command,
            store=wiring.report_store(),
            clock=SystemClock(),
            settings=Settings.from_env(),
        )
    return found.id, out["tracking_code"], out["reporter_token"]


def test_a_reply_through_the_api_brings_the_reporters_files(
    app: FlaskClient, bucket: storage.Bucket
) -> None:
    report_id, code, token = followed_up(app)
    upload_id = put_file(app, photo_with_gps((320, 240)))
    response = app.post(
        f"/api/v1/reports/{code}/reply",
        json={"message": "Ini foto terbarunya.", "attachments": [upload_id]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    seq = response.get_json()["event"]["seq"]
    [shown] = track(app, code, token).get_json()["attachments"]
    assert (shown["added_by"], shown["added_seq"], shown["width"]) == ("reporter", seq, 320)
    assert f"reports/{report_id}/{shown['id']}" in objects(bucket, "reports/")


def test_files_on_an_action_that_takes_none_are_an_unknown_field(app: FlaskClient) -> None:
    _, code, token = followed_up(app)
    response = app.post(
        f"/api/v1/reports/{code}/reopen",
        json={"reason": "Belum diperbaiki sama sekali.", "attachments": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.get_json()["errors"]] == ["extra_forbidden"]


# --- no 500 from anything ---------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
UPLOAD_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "name": JSON_VALUES,
        "media_type": st.sampled_from(["image/jpeg", "application/pdf", "text/html"]) | JSON_VALUES,
        "size": st.integers(min_value=-(2**70), max_value=2**70) | JSON_VALUES,
        "attachments": st.lists(st.text(alphabet="u0123456789abcdef/.", max_size=40), max_size=6)
        | JSON_VALUES,
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=UPLOAD_FIELDS | JSON_VALUES)
def test_no_json_body_makes_the_upload_or_report_endpoints_fail(
    app: FlaskClient, body: Any
) -> None:
    for path, payload in (
        ("/api/v1/uploads", body),
        ("/api/v1/reports", {**report(), **body} if isinstance(body, dict) else body),
    ):
        response = app.post(path, json=payload)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(["report", "berkas", "x", ""]),
            st.one_of(st.none(), st.text(max_size=20)),
            st.binary(max_size=300),
        ),
        max_size=5,
    ),
    boundary=st.sampled_from(["b0und", ""]),
    cut=st.integers(min_value=0, max_value=400),
)
def test_no_multipart_body_makes_the_report_endpoint_fail(
    app: FlaskClient, parts: list[tuple[str, str | None, bytes]], boundary: str, cut: int
) -> None:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += f"--b0und\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    body += b"--b0und--\r\n"
    content_type = "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")
    response = app.post(
        "/api/v1/reports", data=body[: len(body) - cut % (len(body) + 1)], content_type=content_type
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json" or response.status_code == 201


# --- what the public sees ---------------------------------------------------------------

PLACE = {
    "district_code": "32.03.11",
    "village_code": "32.03.11.2001",
    "address": "Depan SDN 1 Cugenang, rumah Pak RT",
    "latitude": -6.816123,
    "longitude": 107.081456,
}


def test_the_public_sees_shown_files_and_the_place_rounded_the_reporter_exactly(
    app: FlaskClient,
) -> None:
    sent = report(**PLACE, show_attachments=True)
    response = post_multipart(
        app, {"report": json.dumps(sent), "berkas": files(("a.jpg", photo_with_gps()))}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.get_json()
    public = track(app, out["tracking_code"]).get_json()
    assert public["place"] == {
        "district_code": "32.03.11",
        "village_code": "32.03.11.2001",
        "address": None,
        "latitude": -6.816,
        "longitude": 107.081,
        "precision": "rounded",
    }
    assert public["show_attachments"] is None  # reporter only, like target_agency_id
    [shown] = public["attachments"]
    assert fetch(shown["url"]).startswith(b"\xff\xd8")
    private = track(app, out["tracking_code"], out["reporter_token"]).get_json()
    assert private["place"] == {**PLACE, "precision": "exact"}
    assert private["show_attachments"] is True


def test_a_confidential_reports_files_are_nobodys_but_the_reporters(app: FlaskClient) -> None:
    sent = report(confidential=True, show_attachments=True)
    out = post_multipart(
        app, {"report": json.dumps(sent), "berkas": files(("a.jpg", photo_with_gps()))}
    ).get_json()
    assert app.get(f"/api/v1/reports/{out['tracking_code']}").status_code == 404
    assert (
        len(track(app, out["tracking_code"], out["reporter_token"]).get_json()["attachments"]) == 1
    )
