"""Make the keyset pair that seals reporters' identities in production.

    python -m tools.identity_keys /secure/dir
    cd /secure/dir
    gcloud secrets versions add lapor-identity-public-keyset \
        --data-file=identity-public-keyset.json
    gcloud secrets versions add lapor-identity-private-keyset \
        --data-file=identity-private-keyset.json
    shred -u identity-private-keyset.json

In production, wrap the private keyset under the Cloud KMS key Terraform makes
(infra/kms.tf, output ``identity_kms_key_uri``): the file written is then Tink's
encrypted keyset, which opens only through that key, and only the reading functions'
service accounts may decrypt with it (this needs the caller's own credentials with
encrypt rights on the key, e.g. ``gcloud auth application-default login``):

    python -m tools.identity_keys /secure/dir --kms-key-uri gcp-kms://projects/...

Terraform creates the two secrets and mounts them into the functions that seal or open
identities (infra/main.tf); it never holds their values. The private keyset opens every
identity sealed with its public half: keep it nowhere but Secret Manager, and rotate by
adding a new pair only together with re-sealing (docs/personal-data.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shared.adapters.crypto import (
    kms_keyset_key,
    new_keysets,
    wrap_private_keyset,
    write_local_keysets,
)

if TYPE_CHECKING:
    from tink.aead import Aead

PRIVATE, PUBLIC = "identity-private-keyset.json", "identity-public-keyset.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where to write the two keyset files")
    parser.add_argument(
        "--kms-key-uri",
        default="",
        help="wrap the private keyset under this Cloud KMS key (gcp-kms://projects/...)",
    )
    args = parser.parse_args(argv)
    private, public = args.directory / PRIVATE, args.directory / PUBLIC
    if private.exists() or public.exists():
        print(f"refusing to overwrite a keyset in {args.directory}", file=sys.stderr)
        return 1
    if not args.kms_key_uri:
        write_local_keysets(private, public)  # the private one readable by its owner only
        print(f"wrote {public} and {private} (mode 0600)")
        return 0
    # Wrapped in memory: the cleartext private keyset never touches the disk.
    clear, public_keyset = new_keysets()
    args.directory.mkdir(parents=True, exist_ok=True)
    private.touch(mode=0o600)
    private.write_text(wrap_private_keyset(clear, keyset_key(args)), encoding="utf-8")
    public.write_text(public_keyset, encoding="utf-8")
    print(f"wrote {public} and {private}, wrapped under {args.kms_key_uri} (mode 0600)")
    return 0


def keyset_key(args: argparse.Namespace) -> Aead:
    """The KMS key that wraps the private keyset (tests stand a local AEAD in for it)."""
    return kms_keyset_key(args.kms_key_uri)


if __name__ == "__main__":
    raise SystemExit(main())
