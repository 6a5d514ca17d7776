"""Personal data sealed at rest: the Sealer port on Tink's hybrid encryption (HPKE,
RFC 9180: X25519, HKDF-SHA256, AES-256-GCM).

Why hybrid and not a shared AEAD key: the public submit function must write a
reporter's identity it can never read back. With HPKE it holds only the public
keyset, which encrypts; the private keyset, which decrypts, goes only to the
functions that must read identities (notify, agency, console). Each value is sealed
with a fresh key (Tink's envelope), and the document's path is the HPKE context info,
so a ciphertext moved to another document does not open.

Keysets are Tink JSON keysets in files. Locally the stack writes a cleartext pair
(``write_local_keysets``); in production the private keyset is meant to be stored
encrypted under a Cloud KMS key that only the reading service accounts may use.

Tink (and its protobuf tables) is imported on first use, not with this module: a
request that touches no identity never pays for it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from shared.ports import SealedDataUnreadable

if TYPE_CHECKING:
    from tink import hybrid

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


def sealer_from_files(public_path: str, private_path: str = "") -> TinkSealer:
    """The sealer of a public keyset file, and of the private one when this function
    may read personal data (no private path: it seals and never opens)."""
    if not public_path:
        raise RuntimeError("LAPOR_IDENTITY_PUBLIC_KEYSET_FILE is not set: no key to seal with")
    return sealer_from_keysets(
        Path(public_path).read_text(encoding="utf-8"),
        Path(private_path).read_text(encoding="utf-8") if private_path else "",
    )


def sealer_from_keysets(public: str, private: str = "") -> TinkSealer:
    """The sealer of a public Tink JSON keyset, opening too with a private one."""
    _tink_hybrid()
    import tink
    from tink import hybrid, secret_key_access

    public_handle = tink.json_proto_keyset_format.parse_without_secret(public)
    decrypt = None
    if private:
        private_handle = tink.json_proto_keyset_format.parse(private, secret_key_access.TOKEN)
        decrypt = private_handle.primitive(hybrid.HybridDecrypt)
    return TinkSealer(public_handle.primitive(hybrid.HybridEncrypt), decrypt)


def sealer_from_settings() -> TinkSealer:
    """The sealer of this instance's settings: the keysets themselves when set
    (LAPOR_IDENTITY_*_KEYSET, from Secret Manager), else their files
    (LAPOR_IDENTITY_*_KEYSET_FILE, the local stack)."""
    from shared.config import settings

    current = settings()
    if current.identity_public_keyset:
        return sealer_from_keysets(current.identity_public_keyset, current.identity_private_keyset)
    return sealer_from_files(
        current.identity_public_keyset_file, current.identity_private_keyset_file
    )
