"""Copy the bundled reference data into Firestore, once.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.seed

The first seed creates the agencies (``agencies/{id}``) and routing rules
(``routing_rules/{id}``) of the bundled files that are missing, once the result passes
the files' own checks, and marks ``reference_meta/current`` seeded at version 1. From
then on Firestore holds the running reference and the national admin maintains it in
the console (shared.adapters.firestore_reference): a later seed writes no agency and no
rule, so it never overwrites, restores or adds back anything edited there, nor an
agency's channels. Categories stay bundled with the code; ``categories/{id}`` is a
copy, rewritten (``merge=True``) each time. Writes go in batches of at most 500
(Firestore's limit).

Every stored agency also gets a webhook signing secret (Standard Webhooks
``whsec_...``) in ``agency_secrets/{id}``: never in the committed files, never in the
agency document the agency API lists, created only where none exists, so re-seeding
keeps the secrets agencies already verify with. It is sealed with the signing public
keyset (shared/adapters/signing_secrets.py: ``LAPOR_SIGNING_PUBLIC_KEYSET`` or its
``_FILE``), so seeding needs that keyset and never the private one.

``LAPOR_DEMO_WEBHOOK_URL`` (local demos only): agencies with neither a webhook nor an
e-mail address in the reference files get this one when they are created; ``{agency_id}``
in it is replaced by the agency's id (``http://127.0.0.1:8090/hooks/{agency_id}`` for
``python -m tools.webhook_receiver``). The agencies with an address stay e-mail-only, as
most local offices are, so the demo shows both channels. (An agency keeps the URL it
was created with: after changing ``LAPOR_RECEIVER_PORT``, start from empty data.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.ports import Sealer

BATCH_LIMIT = 500
AGENCY_SECRETS = "agency_secrets"  # shared.adapters.firestore reads it; kept import-free here
DEMO_WEBHOOK_URL_ENV = "LAPOR_DEMO_WEBHOOK_URL"


def _agency_document(agency: Any, demo_webhook_url: str | None) -> dict[str, Any]:
    """The new agency's document: its reference fields and its bundled channels (the
    demo receiver's URL for one with neither a webhook nor an address)."""
    from shared.adapters.firestore_reference import agency_to_doc

    notification = agency.notification.model_dump(mode="json")
    if demo_webhook_url and not notification["webhook_url"] and not notification["emails"]:
        notification["webhook_url"] = demo_webhook_url.replace("{agency_id}", agency.id)
    return {**agency_to_doc(agency), "notification": notification}


def _stored_ids(client: Any, collection: str) -> set[str]:
    return {snap.id for snap in client.collection(collection).select([]).stream()}


def seed_reference(
    client: Any,
    reference: Any | None = None,
    demo_webhook_url: str | None = None,
    signing_sealer: Sealer | None = None,
) -> dict[str, int]:
    """The first time, create the agencies and rules of ``reference`` (default: the
    bundled files) that Firestore lacks and mark the reference seeded; every time,
    rewrite the categories' copy and create missing webhook secrets. Returns the
    documents written per collection. Raises ReferenceDataError, writing nothing, when
    what is stored with the additions fails the checks."""
    from shared.adapters.firestore_reference import CURRENT, REFERENCE_META, ROUTING_RULES

    if reference is None:
        from shared.reference import load_reference

        reference = load_reference()
    meta = client.collection(REFERENCE_META).document(CURRENT)
    snap = meta.get()
    seeded = bool(snap.exists and (snap.to_dict() or {}).get("seeded"))
    writes = [] if seeded else _first_copy(client, reference, demo_webhook_url)
    writes += [("categories", c.id, c.model_dump(mode="json"), False) for c in reference.categories]
    counts = {"agencies": 0, ROUTING_RULES: 0, "categories": 0}
    for start in range(0, len(writes), BATCH_LIMIT):
        batch = client.batch()
        for collection, doc_id, data, create_only in writes[start : start + BATCH_LIMIT]:
            ref = client.collection(collection).document(doc_id)
            if create_only:  # fails the batch rather than overwrite one made meanwhile
                batch.create(ref, data)
            else:
                batch.set(ref, data, merge=True)
            counts[collection] += 1
        batch.commit()
    if not seeded:
        from google.cloud import firestore

        meta.set(
            {
                "version": firestore.Increment(1),
                "seeded": True,
                "updated_at": dt.datetime.now(dt.UTC),
            },
            merge=True,
        )
    ensure_agency_secrets(client, sorted(_stored_ids(client, "agencies")), signing_sealer)
    return counts


_Write = tuple[str, str, dict[str, Any], bool]  # collection, id, data, create only


def _first_copy(client: Any, reference: Any, demo_webhook_url: str | None) -> list[_Write]:
    """The agencies and rules of ``reference`` not stored yet, once what is stored
    with them passes the checks (agency documents a test or an older seed left)."""
    from shared.adapters.firestore_reference import (
        ROUTING_RULES,
        agency_from_doc,
        rule_from_doc,
        rule_to_doc,
    )
    from shared.reference import ReferenceDataError

    stored_agencies = [
        agency_from_doc(s.to_dict() or {}) for s in client.collection("agencies").stream()
    ]
    stored_rules = [
        rule_from_doc(s.to_dict() or {}) for s in client.collection(ROUTING_RULES).stream()
    ]
    known_agencies = {a.id for a in stored_agencies}
    known_rules = {r.id for r in stored_rules}
    new_agencies = [a for a in reference.agencies if a.id not in known_agencies]
    new_rules = [r for r in reference.routing_rules if r.id not in known_rules]
    try:
        reference.with_agencies_and_rules(
            [*stored_agencies, *new_agencies], [*stored_rules, *new_rules]
        )
    except ValueError as invalid:  # pydantic's ValidationError is a ValueError
        raise ReferenceDataError(
            f"the stored reference with the bundled files is inconsistent: {invalid}"
        ) from None
    return [
        *(("agencies", a.id, _agency_document(a, demo_webhook_url), True) for a in new_agencies),
        *((ROUTING_RULES, r.id, rule_to_doc(r), True) for r in new_rules),
    ]


def ensure_agency_secrets(
    client: Any, agency_ids: Sequence[str], signing_sealer: Sealer | None = None
) -> int:
    """Create a webhook signing secret for each agency that has none, sealed with
    ``signing_sealer`` (default: the settings' signing keyset); return how many.

    An existing secret is never replaced (agencies verify with it); rotating one is a
    deliberate act, not a side effect of seeding. ``create`` makes a concurrent seeder
    fail rather than overwrite: run it again and it finds the secret.
    """
    import datetime as dt

    from shared.adapters.signing_secrets import seal_secret, signing_sealer_from_settings
    from shared.adapters.webhooks import new_secret

    collection = client.collection(AGENCY_SECRETS)
    refs = [collection.document(agency_id) for agency_id in agency_ids]
    existing = {snap.id for snap in client.get_all(refs) if snap.exists} if refs else set()
    missing = [ref for ref in refs if ref.id not in existing]
    if not missing:
        return 0
    sealer = signing_sealer or signing_sealer_from_settings()
    now = dt.datetime.now(dt.UTC)
    for start in range(0, len(missing), BATCH_LIMIT):
        batch = client.batch()
        for ref in missing[start : start + BATCH_LIMIT]:
            sealed = seal_secret(new_secret(), ref.id, sealer)
            batch.create(ref, {"schema_version": 1, "sealed_secret": sealed, "created_at": now})
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
    firestore_host: str,
    project: str,
    demo_webhook_url: str | None = None,
    signing_sealer: Sealer | None = None,
) -> dict[str, int]:
    """Seed the emulator; ``demo_webhook_url`` defaults to $LAPOR_DEMO_WEBHOOK_URL."""
    client = emulator_client(firestore_host, project)
    try:
        return seed_reference(
            client,
            demo_webhook_url=demo_webhook_url or os.environ.get(DEMO_WEBHOOK_URL_ENV),
            signing_sealer=signing_sealer,
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
