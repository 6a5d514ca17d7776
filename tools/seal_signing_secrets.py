"""Seal the agencies' webhook signing secrets still stored in clear.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.seal_signing_secrets
    LAPOR_SIGNING_PUBLIC_KEYSET_FILE=signing-public-keyset.json \\
        python -m tools.seal_signing_secrets --allow-production

Documents of ``agency_secrets`` written before sealing hold ``webhook_secret`` (and
``previous_secret``) in clear, readable by every function. This seals both with the
signing public keyset (the private one is not needed) and deletes the clear fields, in
one write per document. It reads only those documents (a query on the clear field,
served by its automatic single-field index: one read per document sealed), so it may be
run again at any time; a second run finds nothing (docs/secrets.md).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tools.seed import command_line_client


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    client = command_line_client("seal_signing_secrets", "--allow-production" in args)
    if client is None:
        return 2
    from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore

    store = FirestoreAgencyAdminStore(client)
    sealed = 0
    try:
        while found := store.seal_clear_secrets():
            sealed += found
    finally:
        client.close()
    print(f"sealed the signing secrets of {sealed} agencies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
