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
from typing import TYPE_CHECKING, Any

from google.api_core.exceptions import NotFound

from shared.ports import ObjectNotFound, StoredObject

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud.storage import Bucket

# What google-cloud-storage falls back to for an object stored without a type.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class GcsBlobStore:
    def __init__(self, bucket: Bucket, signing_credentials: Credentials) -> None:
        self._bucket = bucket
        self._signing_credentials = signing_credentials

    def put(self, name: str, data: bytes, content_type: str) -> None:
        self._bucket.blob(name).upload_from_string(data, content_type=content_type)

    def get(self, name: str) -> StoredObject:
        blob = self._bucket.blob(name)
        try:
            data = blob.download_as_bytes()
        except NotFound:
            raise ObjectNotFound(name) from None
        # download_as_bytes reloads the object's metadata with the content.
        return StoredObject(name, blob.content_type or DEFAULT_CONTENT_TYPE, data)

    def delete(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self._bucket.blob(name).delete()

    def signed_get_url(self, name: str, expires_in: dt.timedelta) -> str:
        return self._signed_url(name, "GET", expires_in)

    def signed_put_url(self, name: str, content_type: str, expires_in: dt.timedelta) -> str:
        # The content type is signed: a PUT with any other Content-Type is refused.
        return self._signed_url(name, "PUT", expires_in, content_type=content_type)

    def _signed_url(self, name: str, method: str, expires_in: dt.timedelta, **extra: Any) -> str:
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
