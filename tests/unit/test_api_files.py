"""The APIs' files without a server: links signed only for what the view lists, the
refusal's shape, and a number's error message off the rating field."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import BaseModel, StrictInt, ValidationError

from shared.config import Settings
from shared.domain.attachments import Refusal, RefusalCode
from shared.usecases.evidence import FilesRefused
from shared.web.api_files import files_refused, with_links
from shared.web.http import field_errors
from shared.web.schemas import AttachmentsIn, UploadIn
from tests.fakes import InMemoryBlobStore

pytestmark = pytest.mark.unit

SETTINGS = Settings(token_secret="x" * 32)


def shown(file_id: str, *, thumbnail: bool) -> dict[str, Any]:
    return {"id": file_id, "media_type": "image/jpeg", "has_thumbnail": thumbnail}


def test_each_listed_file_gets_its_links_and_their_expiry() -> None:
    blobs = InMemoryBlobStore()
    before = dt.datetime.now(dt.UTC)
    photo, pdf = with_links(
        "r1",
        [shown("f0000000001", thumbnail=True), shown("f0000000002", thumbnail=False)],
        lambda: blobs,
        SETTINGS,
    )
    assert "reports/r1/f0000000001" in photo["url"]
    assert "reports/r1/f0000000001.thumb.webp" in photo["thumbnail_url"]
    assert pdf["thumbnail_url"] is None and "reports/r1/f0000000002" in pdf["url"]
    expires = dt.datetime.fromisoformat(photo["url_expires_at"])
    assert before + dt.timedelta(seconds=299) <= expires <= before + dt.timedelta(seconds=301)
    assert blobs.objects == {}  # signing stores and reads nothing


def test_no_file_makes_no_blob_store() -> None:
    def unwired() -> InMemoryBlobStore:
        raise AssertionError("the blob store was made for nothing")

    assert with_links("r1", [], unwired, SETTINGS) == []


def test_a_refusal_lists_every_file_in_the_asked_language() -> None:
    refused = FilesRefused(
        [Refusal(RefusalCode.TOO_BIG, "a.jpg", "8 MB"), Refusal(RefusalCode.EMPTY, "b.pdf")]
    )
    response = files_refused(refused, "id", "berkas")
    body = json.loads(response.get_data())
    assert (response.status_code, body["type"]) == (422, "urn:lapor:problem:files-refused")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("berkas", "too_big"),
        ("berkas", "empty"),
    ]
    assert body["errors"][0]["message"] == "a.jpg: berkas terlalu besar (paling besar 8 MB)."
    assert response.headers["Content-Language"] == "id"


def test_a_number_off_the_rating_field_is_plainly_invalid() -> None:
    class Counted(BaseModel):
        rating: StrictInt
        size: StrictInt

    with pytest.raises(ValidationError) as invalid:
        Counted.model_validate({"rating": "x", "size": "x"})
    codes = {error.field: error.code for error in field_errors(invalid.value, "en")}
    assert codes == {"rating": "invalid_rating", "size": "invalid"}


@pytest.mark.parametrize(
    "attachments",
    [["u" + "0" * 32, "u" + "0" * 32], ["u" + "0" * 31], ["U" + "0" * 32], ["u" + "0" * 32] * 21],
)
def test_upload_ids_are_distinct_well_formed_and_few(attachments: list[str]) -> None:
    with pytest.raises(ValidationError):
        AttachmentsIn.model_validate({"attachments": attachments})


def test_an_upload_request_takes_only_the_types_a_report_takes() -> None:
    assert UploadIn.model_validate({"media_type": "image/heic", "size": 1}).name is None
    for media_type in ("image/gif", "image/svg+xml", "application/octet-stream"):
        with pytest.raises(ValidationError):
            UploadIn.model_validate({"media_type": media_type, "size": 1})
