"""A report's files through the evidence use cases, against the real Firestore and
Pub/Sub emulators and fake-gcs-server: staged, committed, promoted to four objects
under ``reports/<id>/`` that need nothing left under ``uploads/``; and, when the
committing function died between its commit and the promotion, promoted by the route
function (through functions-framework) from the message the outbox kept.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
import urllib.request
from collections.abc import Iterator

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore, storage
from PIL import Image

from shared import wiring
from shared.adapters.firestore import FirestoreReportStore
from shared.adapters.storage import GcsBlobStore, signing_credentials_from_file
from shared.config import settings
from shared.domain.attachments import SafeFile
from shared.domain.report import Action, Report, Role, State
from shared.ports import OutboxMessage
from shared.usecases import agency, evidence
from shared.usecases.act import FILES_ADDED
from shared.usecases.agency import AgencyCommand, Caller
from shared.usecases.attachments import Upload
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tools.stack import Emulators

ROUTE = "functions/route/main.py"
GPS_IFD = 0x8825


def phone_photo(colour: tuple[int, int, int]) -> bytes:
    """A photo as a phone sends it: with the maker's EXIF and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "S", 2: (6.0, 49.0, 12.5), 3: "E", 4: (107.0, 8.0, 30.0)}
    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


class CrashBeforePromotion(GcsBlobStore):
    """The function dies after its commit, before it copies anything."""

    def copy(self, source: str, target: str) -> None:
        raise SystemError("the instance went away")


@pytest.fixture
def emulators(clean_emulators: Emulators) -> Iterator[Emulators]:
    wiring.reset()
    yield clean_emulators
    wiring.reset()


@pytest.fixture
def store(emulators: Emulators) -> Iterator[FirestoreReportStore]:
    client = firestore.Client(project=emulators.project)
    yield FirestoreReportStore(client)
    client.close()


def blob_store(emulators: Emulators, kind: type[GcsBlobStore] = GcsBlobStore) -> GcsBlobStore:
    client = storage.Client(project=emulators.project)
    signing = signing_credentials_from_file(str(emulators.signing_key_path))
    return kind(client.bucket(emulators.bucket), signing)


def objects(emulators: Emulators, prefix: str) -> dict[str, str]:
    """The bucket's objects under ``prefix`` with their content types, as listed."""
    client = storage.Client(project=emulators.project)
    try:
        return {b.name: b.content_type for b in client.list_blobs(emulators.bucket, prefix=prefix)}
    finally:
        client.close()


def two_photos() -> tuple[SafeFile, ...]:
    uploads = [
        Upload("IMG_0001.jpg", phone_photo((30, 120, 200))),
        Upload("IMG_0002.jpg", phone_photo((200, 30, 30))),
    ]
    return evidence.safe_files(uploads, settings(), wiring.malware_scanner())


def submit(store: FirestoreReportStore, blobs: GcsBlobStore, files: tuple[SafeFile, ...]) -> str:
    result = submit_report(
        a_draft(),
        an_identity(),
        client_id="integration-test",
        idempotency_key=None,
        store=store,
        # Published, and kept in the outbox until route settles it: each test delivers
        # the stored entry itself (as the sweeper's republish would reach route).
        publisher=wiring.publisher(),
        clock=wiring.clock(),
        settings=settings(),
        files=files,
        blobs=blobs,
    )
    return result.report_id


def push(message: OutboxMessage) -> int:
    """Deliver an outbox entry to the route function as its push subscription would
    (what the sweeper's republish leads to)."""
    app = functions_framework.create_app(target="route", source=ROUTE, signature_type="cloudevent")
    client: FlaskClient = app.test_client()
    body = {
        "message": {
            "data": base64.b64encode(json.dumps(dict(message.data)).encode()).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.id,
            "publishTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        },
        "subscription": f"projects/{settings().project}/subscriptions/route",
    }
    return client.post("/", json=body).status_code


def pending(store: FirestoreReportStore, outbox_id: str) -> OutboxMessage:
    entry = store.pending_outbox_entry(outbox_id)
    assert entry is not None, outbox_id
    return entry


def fetched(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # the emulator, 127.0.0.1
        data: bytes = response.read()
    return data


# --- the tests ------------------------------------------------------------------------


def test_two_photos_end_as_four_objects_under_the_report_with_no_metadata(
    emulators: Emulators, store: FirestoreReportStore
) -> None:
    blobs = blob_store(emulators)
    files = two_photos()

    report_id = submit(store, blobs, files)

    report = store.get(report_id)
    assert report is not None and len(report.attachments) == 2
    promoted = objects(emulators, f"reports/{report_id}/")
    assert promoted == {
        **{f"reports/{report_id}/{a.id}": "image/jpeg" for a in report.attachments},
        **{f"reports/{report_id}/{a.id}.thumb.webp": "image/webp" for a in report.attachments},
    }
    # The lifecycle deletes what is staged; the report needs none of it.
    for name in objects(emulators, "uploads/"):
        blobs.delete(name)
    for attachment, file in zip(report.attachments, files, strict=True):
        signed = evidence.file_url(report_id, attachment.id, blobs, settings())
        data = fetched(signed.url)
        assert data == file.data
        assert not Image.open(io.BytesIO(data)).getexif()  # no GPS, no maker
        thumb = evidence.file_url(report_id, attachment.id, blobs, settings(), thumbnail=True)
        assert fetched(thumb.url) == file.thumbnail


def test_the_route_function_promotes_the_files_of_a_function_that_died_after_its_commit(
    emulators: Emulators, store: FirestoreReportStore
) -> None:
    report_id = submit(store, blob_store(emulators, CrashBeforePromotion), two_photos())
    assert objects(emulators, "reports/") == {}
    assert len(objects(emulators, f"uploads/reports/{report_id}/")) == 4
    submitted = pending(store, f"{report_id}.1")  # as stored in Firestore's outbox
    report = store.get(report_id)
    assert report is not None
    assert submitted.data["attachment_ids"] == [a.id for a in report.attachments]

    assert push(submitted) in (200, 204)

    assert len(objects(emulators, f"reports/{report_id}/")) == 4
    routed = store.get(report_id)
    assert routed is not None and routed.state is State.DISPOSITIONED
    # Delivered again (Pub/Sub is at least once): acknowledged, nothing copied twice.
    assert push(submitted) in (200, 204)
    assert len(objects(emulators, f"reports/{report_id}/")) == 4


def routed_report(store: FirestoreReportStore, emulators: Emulators) -> Report:
    report_id = submit(store, blob_store(emulators), ())
    assert push(pending(store, f"{report_id}.1")) in (200, 204)
    report = store.get(report_id)
    assert report is not None and report.state is State.DISPOSITIONED
    return report


def test_a_follow_ups_files_are_promoted_by_their_files_added_message(
    emulators: Emulators, store: FirestoreReportStore
) -> None:
    report = routed_report(store, emulators)
    assert report.agency_id is not None
    crashing = blob_store(emulators, CrashBeforePromotion)
    ports = dataclasses.replace(wiring.agency_ports(), blobs_factory=lambda: crashing)
    [photo] = two_photos()[:1]

    acted = agency.take_action(
        report.id,
        Caller(report.agency_id, Role.AGENCY_ADMIN),
        AgencyCommand(Action.FOLLOW_UP, message="Sudah ditambal, lihat fotonya."),
        ports,
        files=(photo,),
    )

    [added] = acted.report.attachments
    assert objects(emulators, "reports/") == {}
    outbox_id = f"{report.id}.{acted.change.event.seq}.files"
    files_added = pending(store, outbox_id)
    assert files_added.attributes["ce-type"] == FILES_ADDED
    assert files_added.data["attachment_ids"] == [added.id]

    assert push(files_added) in (200, 204)

    assert set(objects(emulators, f"reports/{report.id}/")) == {
        f"reports/{report.id}/{added.id}",
        f"reports/{report.id}/{added.id}.thumb.webp",
    }
    assert store.pending_outbox_entry(outbox_id) is None  # settled: the sweeper stops
    after = store.get(report.id)
    assert after is not None and after.last_seq == acted.report.last_seq  # nothing else
