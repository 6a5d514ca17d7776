"""The reports' files in Cloud Storage (the BlobStore port) through google-cloud-storage.

The client finds the local emulator through STORAGE_EMULATOR_HOST by itself (and then
talks to it without credentials). Signed URLs are V4, signed by ``signing_credentials``:
with their private key when they hold one (a service-account key file: the local
stack's generated key), otherwise through the IAM signBlob API as the service account
they stand for (a Cloud Function's default credentials, which hold no key); that needs
``roles/iam.serviceAccountTokenCreator`` on itself (infra/storage.tf): a Cloud
Function's default credentials hold no private key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from google.api_core.exceptions import NotFound, PreconditionFailed

from shared.ports import ObjectNotFound, ObjectTooLarge, SignedUpload, StoredObject

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud.storage import Blob, Bucket

# What google-cloud-storage falls back to for an object stored without a type.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class BlobStats:
    """What a blob store asked of Cloud Storage, one count per request as it bills them.

    ``puts``: uploads; ``gets``: downloads; ``lookups``: metadata reads (``exists``, and
    the size check of a ``get`` with ``max_bytes``); ``copies``: server-side copies;
    ``deletes``: deletions (free, counted anyway); ``signs``: URLs signed (no storage
    request: a local signature, or one IAM signBlob call without a key file).
    """

    puts: int = 0
    gets: int = 0
    lookups: int = 0
    copies: int = 0
    deletes: int = 0
    signs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, counter: str) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def snapshot(self) -> BlobStats:
        with self._lock:
            return BlobStats(*(getattr(self, f.name) for f in _COUNTERS))

    def since(self, earlier: BlobStats) -> BlobStats:
        """The operations between ``earlier`` (a snapshot) and now."""
        now = self.snapshot()
        return BlobStats(*(getattr(now, f.name) - getattr(earlier, f.name) for f in _COUNTERS))

    @property
    def storage_requests(self) -> int:
        """Every request sent to Cloud Storage (signing sends none)."""
        return self.puts + self.gets + self.lookups + self.copies + self.deletes


_COUNTERS = [f for f in fields(BlobStats) if not f.name.startswith("_")]

# Cloud Storage refuses an upload whose length lies outside "min,max" (inclusive).
CONTENT_LENGTH_RANGE = "x-goog-content-length-range"


def upload_headers(content_type: str, max_bytes: int | None) -> dict[str, str]:
    """The headers a signed PUT is bound to, as the client must send them."""
    headers = {"Content-Type": content_type}
    if max_bytes is not None:
        headers[CONTENT_LENGTH_RANGE] = f"0,{max_bytes}"
    return headers


class GcsBlobStore:
    def __init__(self, bucket: Bucket, signing_credentials: Credentials) -> None:
        self._bucket = bucket
        self._signing_credentials = signing_credentials
        self.stats = BlobStats()

    def put(self, name: str, data: bytes, content_type: str) -> None:
        self.stats.add("puts")
        self._bucket.blob(name).upload_from_string(data, content_type=content_type)

    def get(self, name: str, max_bytes: int | None = None) -> StoredObject:
        if max_bytes is None:
            return self._download(self._bucket.blob(name))
        self.stats.add("lookups")
        blob = self._bucket.get_blob(name)
        if blob is None:
            raise ObjectNotFound(name)
        if (blob.size or 0) > max_bytes:
            raise ObjectTooLarge(name, blob.size or 0, max_bytes)
        try:
            # Only the generation just measured, not a larger one a client put since
            # (Cloud Storage enforces this; fake-gcs-server ignores it on downloads).
            return self._download(blob, if_generation_match=blob.generation)
        except PreconditionFailed:
            # A client replacing its upload while it is read: refused like a missing one.
            raise ObjectNotFound(name) from None

    def _download(self, blob: Blob, **precondition: Any) -> StoredObject:
        self.stats.add("gets")
        try:
            data = blob.download_as_bytes(**precondition)
        except NotFound:
            raise ObjectNotFound(blob.name) from None
        # download_as_bytes reloads the object's metadata with the content.
        return StoredObject(blob.name, blob.content_type or DEFAULT_CONTENT_TYPE, data)

    def copy(self, source: str, target: str) -> None:
        self.stats.add("copies")
        try:
            # Cloud Storage copies the metadata (content type included) with the bytes.
            self._bucket.copy_blob(self._bucket.blob(source), self._bucket, target)
        except NotFound:
            raise ObjectNotFound(source) from None

    def exists(self, name: str) -> bool:
        self.stats.add("lookups")
        return bool(self._bucket.blob(name).exists())

    def delete(self, name: str) -> None:
        self.stats.add("deletes")
        with contextlib.suppress(NotFound):
            self._bucket.blob(name).delete()

    def signed_get_url(self, name: str, expires_in: dt.timedelta) -> str:
        return self._signed_url(name, "GET", expires_in)

    def signed_put_url(
        self,
        name: str,
        content_type: str,
        expires_in: dt.timedelta,
        max_bytes: int | None = None,
    ) -> SignedUpload:
        # Signed headers bind the PUT: another Content-Type or a larger body is refused.
        headers = upload_headers(content_type, max_bytes)
        extra = {k: v for k, v in headers.items() if k != "Content-Type"}
        url = self._signed_url(
            name, "PUT", expires_in, content_type=content_type, headers=extra or None
        )
        return SignedUpload(url, headers)

    def _signed_url(self, name: str, method: str, expires_in: dt.timedelta, **extra: Any) -> str:
        self.stats.add("signs")
        return str(
            self._bucket.blob(name).generate_signed_url(
                version="v4",
                method=method,
                expiration=expires_in,
                **extra,
                **self._signer(),
            )
        )

    def _signer(self) -> dict[str, Any]:
        from google.auth.credentials import Signing

        credentials = self._signing_credentials
        if isinstance(credentials, Signing):
            return {"credentials": credentials}
        from google.auth.transport.requests import Request

        if not credentials.valid:
            credentials.refresh(Request())
        return {
            # Compute Engine's credentials learn their e-mail on refresh.
            "service_account_email": getattr(credentials, "service_account_email", None),
            "access_token": credentials.token,
        }


def signing_credentials_from_file(path: str) -> Credentials:
    """A service-account key file's credentials, used here only to sign URLs."""
    from google.oauth2 import service_account

    credentials: Credentials = service_account.Credentials.from_service_account_file(path)
    return credentials


if TYPE_CHECKING:
    from typing import cast

    from shared.ports import BlobStore

    _blob_store: BlobStore = GcsBlobStore(cast("Bucket", None), cast("Credentials", None))
