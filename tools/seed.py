"""Load the reference data (agencies, categories) into Firestore, idempotently.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.seed

Documents are ``agencies/{id}`` and ``categories/{id}``, written with ``merge=True`` in
batches of at most 500 writes (Firestore's limit), so seeding twice changes nothing
and fields written at run time (counters, say) survive a re-seed.

Every agency also gets a webhook signing secret (Standard Webhooks ``whsec_...``) in
``agency_secrets/{id}``: never in the committed files, never in the agency document
the agency API lists, created only where none exists, so re-seeding keeps the
secrets agencies already verify with.

``LAPOR_DEMO_WEBHOOK_URL`` (local demos only): agencies with neither a webhook nor an
e-mail address in the reference files get this one; ``{agency_id}`` in it is replaced
by the agency's id (``http://127.0.0.1:8090/hooks/{agency_id}`` for ``python -m
tools.webhook_receiver``). The agencies with an address stay e-mail-only, as most
local offices are, so the demo shows both channels.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

BATCH_LIMIT = 500
AGENCY_SECRETS = "agency_secrets"  # shared.adapters.firestore reads it; kept import-free here
DEMO_WEBHOOK_URL_ENV = "LAPOR_DEMO_WEBHOOK_URL"


class _Record(Protocol):
    @property
    def id(self) -> str: ...

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


def _documents(
    collection: str, records: Iterable[_Record]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for record in records:
        yield collection, str(record.id), record.model_dump(mode="json")


def _with_demo_webhook(
    documents: Iterable[tuple[str, str, dict[str, Any]]], demo_webhook_url: str | None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for collection, doc_id, data in documents:
        notification = data.get("notification")
        if (
            demo_webhook_url
            and collection == "agencies"
            and isinstance(notification, dict)
            and not notification.get("webhook_url")
            and not notification.get("email")
        ):
            url = demo_webhook_url.replace("{agency_id}", doc_id)
            data = {**data, "notification": {**notification, "webhook_url": url}}
        yield collection, doc_id, data


def seed_reference(
    client: Any, reference: Any | None = None, demo_webhook_url: str | None = None
) -> dict[str, int]:
    """Write ``reference`` (default: ``shared.reference.load_reference()``) and the
    missing webhook secrets; return the reference documents written per collection."""
    if reference is None:
        from shared.reference import load_reference

        reference = load_reference()
    documents = list(
        _with_demo_webhook(
            [
                *_documents("agencies", reference.agencies),
                *_documents("categories", reference.categories),
            ],
            demo_webhook_url,
        )
    )
    counts: dict[str, int] = {"agencies": 0, "categories": 0}
    for start in range(0, len(documents), BATCH_LIMIT):
        batch = client.batch()
        for collection, doc_id, data in documents[start : start + BATCH_LIMIT]:
            batch.set(client.collection(collection).document(doc_id), data, merge=True)
            counts[collection] += 1
        batch.commit()
    ensure_agency_secrets(client, [str(a.id) for a in reference.agencies])
    return counts


def ensure_agency_secrets(client: Any, agency_ids: Sequence[str]) -> int:
    """Create a webhook signing secret for each agency that has none; return how many.

    An existing secret is never replaced (agencies verify with it); rotating one is a
    deliberate act, not a side effect of seeding. ``create`` makes a concurrent seeder
    fail rather than overwrite: run it again and it finds the secret.
    """
    import datetime as dt

    from shared.adapters.webhooks import new_secret

    collection = client.collection(AGENCY_SECRETS)
    refs = [collection.document(agency_id) for agency_id in agency_ids]
    existing = {snap.id for snap in client.get_all(refs) if snap.exists} if refs else set()
    missing = [ref for ref in refs if ref.id not in existing]
    now = dt.datetime.now(dt.UTC)
    for start in range(0, len(missing), BATCH_LIMIT):
        batch = client.batch()
        for ref in missing[start : start + BATCH_LIMIT]:
            batch.create(
                ref, {"schema_version": 1, "webhook_secret": new_secret(), "created_at": now}
            )
        batch.commit()
    return len(missing)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def emulator_client(firestore_host: str, project: str) -> Any:
    """A Firestore client bound to the emulator at ``firestore_host``.

    The client reads FIRESTORE_EMULATOR_HOST only while it is built, so the variable
    is set for that moment rather than for the whole process.
    """
    from google.cloud import firestore

    with _environment(FIRESTORE_EMULATOR_HOST=firestore_host):
        return firestore.Client(project=project)


def seed_emulator(
    firestore_host: str, project: str, demo_webhook_url: str | None = None
) -> dict[str, int]:
    """Seed the emulator; ``demo_webhook_url`` defaults to $LAPOR_DEMO_WEBHOOK_URL."""
    client = emulator_client(firestore_host, project)
    try:
        return seed_reference(
            client, demo_webhook_url=demo_webhook_url or os.environ.get(DEMO_WEBHOOK_URL_ENV)
        )
    finally:
        client.close()


def command_line_client(tool: str, allow_production: bool) -> Any | None:
    """The Firestore client a command-line tool writes with: the emulator's when
    FIRESTORE_EMULATOR_HOST is set, a real project's only with --allow-production.
    None (after saying why) when it must not write."""
    if not os.environ.get("FIRESTORE_EMULATOR_HOST") and not allow_production:
        print(
            f"lapor {tool}: FIRESTORE_EMULATOR_HOST is not set; refusing to write to a real "
            "project (pass --allow-production to mean it).",
            file=sys.stderr,
        )
        return None
    from google.cloud import firestore

    project = os.environ.get("LAPOR_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    return firestore.Client(project=project)


def main(argv: Sequence[str]) -> int:
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    client = command_line_client("seed", "--allow-production" in argv)
    if client is None:
        return 2
    try:
        # The demo URL only where an emulator is the target: never point a real
        # project's agencies at a local receiver.
        demo_url = os.environ.get(DEMO_WEBHOOK_URL_ENV) if host else None
        counts = seed_reference(client, demo_webhook_url=demo_url)
    finally:
        client.close()
    print("seeded " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
