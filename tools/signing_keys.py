"""Make the keyset pair that seals the agencies' webhook signing secrets in production.

    python -m tools.signing_keys /secure/dir
    cd /secure/dir
    gcloud secrets versions add lapor-signing-public-keyset \
        --data-file=signing-public-keyset.json
    gcloud secrets versions add lapor-signing-private-keyset \
        --data-file=signing-private-keyset.json
    shred -u signing-private-keyset.json

Terraform creates the two secrets and mounts them into notify and the console only
(infra/main.tf); it never holds their values. Seeding agencies (``python -m tools.seed
--allow-production``) needs the public keyset only (``LAPOR_SIGNING_PUBLIC_KEYSET_FILE``).
How to rotate: docs/secrets.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.adapters.crypto import write_local_keysets

PRIVATE, PUBLIC = "signing-private-keyset.json", "signing-public-keyset.json"


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
