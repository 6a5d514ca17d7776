"""Make the keyset pair that seals reporters' identities in production.

    python -m tools.identity_keys /secure/dir
    cd /secure/dir
    gcloud secrets versions add lapor-identity-public-keyset \
        --data-file=identity-public-keyset.json
    gcloud secrets versions add lapor-identity-private-keyset \
        --data-file=identity-private-keyset.json
    shred -u identity-private-keyset.json

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

from shared.adapters.crypto import write_local_keysets

PRIVATE, PUBLIC = "identity-private-keyset.json", "identity-public-keyset.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where to write the two keyset files")
    args = parser.parse_args(argv)
    private, public = args.directory / PRIVATE, args.directory / PUBLIC
    if private.exists() or public.exists():
        print(f"refusing to overwrite a keyset in {args.directory}", file=sys.stderr)
        return 1
    write_local_keysets(private, public)  # the private one readable by its owner only
    print(f"wrote {public} and {private} (mode 0600)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
