"""Personal data sealed at rest: the Sealer port on Tink's hybrid encryption (HPKE,
RFC 9180: X25519, HKDF-SHA256, AES-256-GCM).

Why hybrid and not a shared AEAD key: the public submit function must write a
reporter's identity it can never read back. With HPKE it holds only the public
keyset, which encrypts; the private keyset, which decrypts, goes only to the
functions that must read identities (notify, agency, console). Each value is sealed
with a fresh key (Tink's envelope), and the document's path is the HPKE context info,
so a ciphertext moved to another document does not open.

Keysets are Tink JSON keysets. Locally the stack writes a cleartext pair in files
(``write_local_keysets``). In production they come from Secret Manager, and the
private one is stored there encrypted under a Cloud KMS key (Tink's encrypted keyset
format, ``LAPOR_IDENTITY_KMS_KEY_URI``) that only the reading functions' service
accounts may use to decrypt: a copy of the secret alone opens nothing.

Tink (and its protobuf tables) is imported on first use, not with this module: a
request that touches no identity never pays for it.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from shared.ports import SealedDataUnreadable

if TYPE_CHECKING:
    from tink import aead, hybrid

    from shared.config import Settings

_registered = threading.Lock()
_is_registered = False


def _tink_hybrid() -> None:
    """Register Tink's hybrid key managers once per process (idempotent, but not free)."""
    global _is_registered
    with _registered:
        if not _is_registered:
            from tink import hybrid

            hybrid.register()
            _is_registered = True


class TinkSealer:
    """Seals with a public keyset; opens only when built with the private one too."""

    def __init__(self, encrypt: hybrid.HybridEncrypt, decrypt: hybrid.HybridDecrypt | None) -> None:
        self._encrypt = encrypt
        self._decrypt = decrypt

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        sealed: bytes = self._encrypt.encrypt(plaintext, context)
        return sealed

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        import tink

        if self._decrypt is None:
            raise SealedDataUnreadable("this instance holds no key that opens personal data")
        try:
            opened: bytes = self._decrypt.decrypt(ciphertext, context)
        except tink.TinkError as exc:
            raise SealedDataUnreadable("sealed value does not open with this key") from exc
        return opened


def new_keysets() -> tuple[str, str]:
    """A fresh (private, public) pair of Tink JSON keysets for identities."""
    _tink_hybrid()
    import tink
    from tink import hybrid, secret_key_access

    private = tink.new_keyset_handle(
        hybrid.hybrid_key_templates.DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM
    )
    return (
        tink.json_proto_keyset_format.serialize(private, secret_key_access.TOKEN),
        tink.json_proto_keyset_format.serialize_without_secret(private.public_keyset_handle()),
    )


def write_local_keysets(private_path: Path, public_path: Path) -> None:
    """Write a cleartext keyset pair for the local stack and tests, unless one is there."""
    if private_path.exists() and public_path.exists():
        return
    private, public = new_keysets()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_text(private, encoding="utf-8")
    private_path.chmod(0o600)
    public_path.write_text(public, encoding="utf-8")


def given_or_file(value: str, path: str) -> str:
    """A secret as deployed (the value itself, from Secret Manager) or as the local stack
    keeps it (the file at ``path``); empty when neither is set."""
    return value or (Path(path).read_text(encoding="utf-8") if path else "")


def sealer_from_files(public_path: str, private_path: str = "") -> TinkSealer:
    """The sealer of a public keyset file, and of the private one when this function
    may read personal data (no private path: it seals and never opens)."""
    if not public_path:
        raise RuntimeError("LAPOR_IDENTITY_PUBLIC_KEYSET_FILE is not set: no key to seal with")
    return sealer_from_keysets(given_or_file("", public_path), given_or_file("", private_path))


def sealer_from_keysets(
    public: str, private: str = "", keyset_key: aead.Aead | None = None
) -> TinkSealer:
    """The sealer of a public Tink JSON keyset, opening too with a private one: in
    clear, or encrypted under ``keyset_key`` (the Cloud KMS key, :func:`kms_keyset_key`)."""
    _tink_hybrid()
    import tink
    from tink import hybrid, secret_key_access

    public_handle = tink.json_proto_keyset_format.parse_without_secret(public)
    decrypt = None
    if private and keyset_key is not None:
        try:
            private_handle = tink.json_proto_keyset_format.parse_encrypted(
                private, keyset_key, KEYSET_ASSOCIATED_DATA
            )
        except tink.TinkError as exc:
            raise SealedDataUnreadable("the private keyset does not open with its key") from exc
        decrypt = private_handle.primitive(hybrid.HybridDecrypt)
    elif private:
        private_handle = tink.json_proto_keyset_format.parse(private, secret_key_access.TOKEN)
        decrypt = private_handle.primitive(hybrid.HybridDecrypt)
    return TinkSealer(public_handle.primitive(hybrid.HybridEncrypt), decrypt)


# What the KMS-encrypted private keyset is bound to: a wrapped keyset of another
# purpose (a signing keyset, say) does not open as this one.
KEYSET_ASSOCIATED_DATA = b"lapor identity private keyset"


def kms_keyset_key(key_uri: str) -> aead.Aead:
    """The Cloud KMS key ``gcp-kms://projects/.../cryptoKeys/...`` as a Tink AEAD: each
    use is one call to Cloud KMS, made with the function's service account (which
    must hold roles/cloudkms.cryptoKeyDecrypter on that key, infra/kms.tf). The KMS
    client library is imported here only."""
    from tink.integration import gcpkms

    return gcpkms.GcpKmsClient(key_uri, None).get_aead(key_uri)


def wrap_private_keyset(private: str, keyset_key: aead.Aead) -> str:
    """A cleartext private keyset (Tink JSON) as Tink's encrypted keyset under
    ``keyset_key``: what goes into Secret Manager when a KMS key is used."""
    _tink_hybrid()
    import tink
    from tink import secret_key_access

    handle = tink.json_proto_keyset_format.parse(private, secret_key_access.TOKEN)
    return str(
        tink.json_proto_keyset_format.serialize_encrypted(
            handle, keyset_key, KEYSET_ASSOCIATED_DATA
        )
    )


def sealer_from_settings() -> TinkSealer:
    """The sealer of this instance's settings: the keysets themselves when set
    (LAPOR_IDENTITY_*_KEYSET, from Secret Manager), else their files
    (LAPOR_IDENTITY_*_KEYSET_FILE, the local stack)."""
    from shared.config import settings

    current = settings()
    if current.identity_public_keyset:
        private = current.identity_private_keyset
        # Only a function that holds the private keyset calls Cloud KMS (and may).
        keyset_key = (
            kms_keyset_key(current.identity_kms_key_uri)
            if private and current.identity_kms_key_uri
            else None
        )
        return sealer_from_keysets(current.identity_public_keyset, private, keyset_key)
    return sealer_from_files(
        current.identity_public_keyset_file, current.identity_private_keyset_file
    )


def write_local_contact_key(path: Path) -> None:
    """Write a random key for contact digests (shared.domain.contact) for the local
    stack and tests, unless one is there: kept with the data, as the digests are."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_hex(32), encoding="utf-8")
    path.chmod(0o600)


def contact_key_from_settings() -> bytes:
    """The key of this instance's contact digests: LAPOR_CONTACT_HASH_KEY (deployed,
    from Secret Manager) or the file LAPOR_CONTACT_HASH_KEY_FILE (the local stack).
    Its own key, not the token secret: a leaked token secret must not let anyone test
    phone numbers against the digests."""
    from shared.config import settings

    current = settings()
    key = given_or_file(current.contact_hash_key, current.contact_hash_key_file).strip()
    if len(key) < 32:
        raise RuntimeError("LAPOR_CONTACT_HASH_KEY(_FILE) is not set to a key of 32+ characters")
    return key.encode()


# --- staff TOTP secrets: a symmetric keyset only the console holds ------------------------
#
# Only the console both writes (enrolment) and reads (a code checked) a TOTP secret, so a
# symmetric AEAD is enough: no other function holds its keyset. The document's path is
# the associated data, so a value copied to another account does not open.


class TinkAeadSealer:
    """The Sealer of a Tink AEAD keyset: seals and opens alike."""

    def __init__(self, primitive: aead.Aead) -> None:
        self._aead = primitive

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        sealed: bytes = self._aead.encrypt(plaintext, context)
        return sealed

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        import tink

        try:
            opened: bytes = self._aead.decrypt(ciphertext, context)
        except tink.TinkError as exc:
            raise SealedDataUnreadable("sealed value does not open with this key") from exc
        return opened


def new_totp_keyset() -> str:
    """A fresh AES-256-GCM Tink JSON keyset for staff TOTP secrets."""
    import tink
    from tink import aead, secret_key_access

    aead.register()
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    return str(tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN))


def write_local_totp_keyset(path: Path) -> None:
    """Write a cleartext TOTP keyset for the local stack and tests, unless one is there."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(new_totp_keyset(), encoding="utf-8")


def totp_sealer_from_settings(current: Settings | None = None) -> TinkAeadSealer | None:
    """The sealer of staff TOTP secrets: LAPOR_TOTP_KEYSET (deployed, the console only)
    or the file LAPOR_TOTP_KEYSET_FILE (the local stack); None where neither is set.
    ``current``: these settings rather than the instance's (the staff tool's)."""
    from shared.config import settings

    current = current or settings()
    keyset = given_or_file(current.totp_keyset, current.totp_keyset_file)
    if not keyset:
        return None
    import tink
    from tink import aead, secret_key_access

    aead.register()
    handle = tink.json_proto_keyset_format.parse(keyset, secret_key_access.TOKEN)
    return TinkAeadSealer(handle.primitive(aead.Aead))
