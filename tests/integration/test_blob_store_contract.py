"""The reports' file store: its fake held to the Cloud Storage adapter (the same
assertions, the adapter on fake-gcs-server), then what only the adapter can show: its
signed URLs work over HTTP, and their expiry is signed into them.

fake-gcs-server checks neither signatures nor expiry (measured, docs/storage.md), so a
signed URL is not fetched after it expired here: the test verifies instead that the URL
carries the expiry asked for, from now, and that the signature over it verifies with
the signing key, which is what Cloud Storage enforces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.cloud.storage import Client

from shared.adapters.storage import GcsBlobStore, signing_credentials_from_file
from shared.ports import ObjectNotFound, ObjectTooLarge
from tests.fakes import InMemoryBlobStore
from tools.stack import Emulators

PHOTO = b"\xff\xd8\xff\xe0 not really a JPEG"
FIVE_MINUTES = dt.timedelta(minutes=5)


@pytest.fixture
def gcs_store(clean_emulators: Emulators) -> Iterator[GcsBlobStore]:
    client = Client(project=clean_emulators.project)
    signing = signing_credentials_from_file(str(clean_emulators.signing_key_path))
    yield GcsBlobStore(client.bucket(clean_emulators.bucket), signing)
    client.close()


@pytest.fixture(params=["fake", "gcs"])
def store(request: pytest.FixtureRequest) -> Any:  # a BlobStore
    if request.param == "fake":
        return InMemoryBlobStore()
    return request.getfixturevalue("gcs_store")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# --- the contract ---------------------------------------------------------------------


def test_a_stored_file_comes_back_with_its_content_type(store: Any) -> None:
    store.put("reports/r1/a.jpg", PHOTO, "image/jpeg")

    got = store.get("reports/r1/a.jpg")

    assert (got.name, got.content_type, got.data) == ("reports/r1/a.jpg", "image/jpeg", PHOTO)


def test_storing_under_the_same_name_replaces_the_file(store: Any) -> None:
    store.put("reports/r1/a", PHOTO, "image/jpeg")
    store.put("reports/r1/a", b"%PDF-1.7", "application/pdf")

    got = store.get("reports/r1/a")

    assert (got.content_type, got.data) == ("application/pdf", b"%PDF-1.7")


def test_a_missing_file_is_not_found(store: Any) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("reports/none/a.jpg")


def test_a_deleted_file_is_gone_and_deleting_it_again_is_no_error(store: Any) -> None:
    store.put("reports/r1/a.jpg", PHOTO, "image/jpeg")

    store.delete("reports/r1/a.jpg")
    store.delete("reports/r1/a.jpg")

    with pytest.raises(ObjectNotFound):
        store.get("reports/r1/a.jpg")


def test_a_copy_keeps_the_content_type_and_leaves_the_source(store: Any) -> None:
    store.put("uploads/r1/f1", PHOTO, "image/jpeg")

    store.copy("uploads/r1/f1", "reports/r1/f1")

    got = store.get("reports/r1/f1")
    assert (got.name, got.content_type, got.data) == ("reports/r1/f1", "image/jpeg", PHOTO)
    assert store.get("uploads/r1/f1").data == PHOTO


def test_a_copy_replaces_the_target(store: Any) -> None:
    store.put("uploads/r1/f1", b"%PDF-1.7", "application/pdf")
    store.put("reports/r1/f1", PHOTO, "image/jpeg")

    store.copy("uploads/r1/f1", "reports/r1/f1")

    got = store.get("reports/r1/f1")
    assert (got.content_type, got.data) == ("application/pdf", b"%PDF-1.7")


def test_copying_a_missing_file_is_not_found_and_makes_nothing(store: Any) -> None:
    with pytest.raises(ObjectNotFound):
        store.copy("uploads/none/f1", "reports/none/f1")

    assert not store.exists("reports/none/f1")


def test_a_file_exists_once_stored_and_not_after_its_deletion(store: Any) -> None:
    assert not store.exists("reports/r1/a.jpg")
    store.put("reports/r1/a.jpg", PHOTO, "image/jpeg")
    assert store.exists("reports/r1/a.jpg")

    store.delete("reports/r1/a.jpg")

    assert not store.exists("reports/r1/a.jpg")


def test_a_size_limited_get_reads_a_file_up_to_the_limit(store: Any) -> None:
    store.put("uploads/raw/u1", PHOTO, "image/jpeg")

    got = store.get("uploads/raw/u1", max_bytes=len(PHOTO))

    assert (got.content_type, got.data) == ("image/jpeg", PHOTO)


def test_a_size_limited_get_refuses_a_larger_file_before_downloading_it(store: Any) -> None:
    store.put("uploads/raw/u1", PHOTO, "image/jpeg")
    before = store.stats.snapshot()

    with pytest.raises(ObjectTooLarge) as refused:
        store.get("uploads/raw/u1", max_bytes=len(PHOTO) - 1)

    assert (refused.value.size, refused.value.max_bytes) == (len(PHOTO), len(PHOTO) - 1)
    assert store.stats.since(before).gets == 0


def test_a_size_limited_get_of_a_missing_file_is_not_found(store: Any) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("uploads/raw/none", max_bytes=1000)


def test_every_operation_is_counted(store: Any) -> None:
    store.put("uploads/r1/f1", PHOTO, "image/jpeg")
    store.copy("uploads/r1/f1", "reports/r1/f1")
    store.exists("reports/r1/f1")
    store.get("reports/r1/f1")
    store.get("reports/r1/f1", max_bytes=1000)
    store.signed_get_url("reports/r1/f1", FIVE_MINUTES)
    store.delete("uploads/r1/f1")

    stats = store.stats
    assert (stats.puts, stats.copies, stats.lookups, stats.gets, stats.signs, stats.deletes) == (
        1,
        1,
        2,
        2,
        1,
        1,
    )
    assert stats.storage_requests == 7


def test_a_signed_get_url_names_the_object_and_expires_when_asked(store: Any) -> None:
    url = store.signed_get_url("reports/r1/foto 1.jpg", FIVE_MINUTES)

    assert urlsplit(url).path.endswith("/reports/r1/foto%201.jpg")
    query = query_of(url)
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "300"
    assert query["X-Goog-SignedHeaders"] == "host"


def test_a_signed_put_url_is_bound_to_its_content_type(store: Any) -> None:
    upload = store.signed_put_url("uploads/u1", "image/png", FIVE_MINUTES)

    assert urlsplit(upload.url).path.endswith("/uploads/u1")
    assert query_of(upload.url)["X-Goog-SignedHeaders"] == "content-type;host"
    assert query_of(upload.url)["X-Goog-Expires"] == "300"
    assert upload.headers == {"Content-Type": "image/png"}


def test_a_size_limited_signed_put_url_signs_the_length_range_the_client_sends(
    store: Any,
) -> None:
    upload = store.signed_put_url("uploads/raw/u1", "image/jpeg", FIVE_MINUTES, max_bytes=5000)

    signed = query_of(upload.url)["X-Goog-SignedHeaders"]
    assert signed == "content-type;host;x-goog-content-length-range"
    assert upload.headers == {
        "Content-Type": "image/jpeg",
        "x-goog-content-length-range": "0,5000",
    }


# --- the adapter on the emulator ------------------------------------------------------


def fetch(url: str, method: str = "GET", data: bytes | None = None, **headers: str) -> bytes:
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def test_a_signed_get_url_downloads_the_file(gcs_store: GcsBlobStore) -> None:
    gcs_store.put("reports/r1/a.jpg", PHOTO, "image/jpeg")

    assert fetch(gcs_store.signed_get_url("reports/r1/a.jpg", FIVE_MINUTES)) == PHOTO


def test_a_signed_put_url_uploads_the_file_with_its_content_type(
    gcs_store: GcsBlobStore,
) -> None:
    upload = gcs_store.signed_put_url("uploads/u1", "image/png", FIVE_MINUTES, max_bytes=100)

    fetch(upload.url, "PUT", b"\x89PNG data", **upload.headers)

    got = gcs_store.get("uploads/u1")
    assert (got.content_type, got.data) == ("image/png", b"\x89PNG data")


def test_the_length_range_is_signed_with_the_signing_key(
    gcs_store: GcsBlobStore, clean_emulators: Emulators
) -> None:
    # fake-gcs-server enforces neither the signature nor the range (docs/storage.md):
    # Cloud Storage refuses a PUT whose headers differ from the signed ones, so a
    # signature that verifies only with "0,5000" binds the client to that limit.
    upload = gcs_store.signed_put_url("uploads/raw/u1", "image/jpeg", FIVE_MINUTES, max_bytes=5000)

    public_key = signing_public_key(clean_emulators)
    signature = bytes.fromhex(query_of(upload.url)["X-Goog-Signature"])
    signed = v4_string_to_sign(upload.url, "PUT", upload.headers)
    public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    larger = {**upload.headers, "x-goog-content-length-range": "0,50000000"}
    with pytest.raises(InvalidSignature):
        public_key.verify(
            signature,
            v4_string_to_sign(upload.url, "PUT", larger),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )


def test_the_expiry_is_signed_from_now_with_the_signing_key(
    gcs_store: GcsBlobStore, clean_emulators: Emulators
) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    url = gcs_store.signed_get_url("reports/r1/a.jpg", dt.timedelta(seconds=30))
    after = dt.datetime.now(dt.UTC)

    query = query_of(url)
    signed_at = dt.datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert before <= signed_at <= after
    assert query["X-Goog-Expires"] == "30"
    public_key = signing_public_key(clean_emulators)
    signature = bytes.fromhex(query["X-Goog-Signature"])
    public_key.verify(signature, v4_string_to_sign(url), padding.PKCS1v15(), hashes.SHA256())
    longer = url.replace("X-Goog-Expires=30", "X-Goog-Expires=3000")
    with pytest.raises(InvalidSignature):  # the expiry is part of what is signed
        public_key.verify(signature, v4_string_to_sign(longer), padding.PKCS1v15(), hashes.SHA256())


def test_resetting_the_emulators_empties_the_bucket(
    gcs_store: GcsBlobStore, clean_emulators: Emulators
) -> None:
    gcs_store.put("reports/r1/a.jpg", PHOTO, "image/jpeg")

    clean_emulators.reset()

    with pytest.raises(ObjectNotFound):
        gcs_store.get("reports/r1/a.jpg")


def signing_public_key(emulators: Emulators) -> rsa.RSAPublicKey:
    info = json.loads(emulators.signing_key_path.read_text(encoding="utf-8"))
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key()


def v4_string_to_sign(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> bytes:
    """Cloud Storage's V4 string to sign for a request to ``url`` sending ``headers``
    (besides host, which every signed URL signs)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "X-Goog-Signature"]
    canonical_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(query))
    sent = sorted(
        {"host": parts.netloc, **{k.lower(): v for k, v in (headers or {}).items()}}.items()
    )
    canonical_request = "\n".join(
        [
            method,
            quote(unquote(parts.path), safe="/~"),
            canonical_query,
            "".join(f"{name}:{value}\n" for name, value in sent),
            ";".join(name for name, _ in sent),
            "UNSIGNED-PAYLOAD",
        ]
    )
    values = dict(query)
    scope = values["X-Goog-Credential"].split("/", 1)[1]
    return "\n".join(
        [
            "GOOG4-RSA-SHA256",
            values["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    ).encode()
