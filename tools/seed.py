"""Load the reference data (agencies, categories) into Firestore, idempotently.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.seed

Documents are ``agencies/{id}`` and ``categories/{id}``, written with ``merge=True`` in
batches of at most 500 writes (Firestore's limit), so seeding twice changes nothing
and fields written at run time (counters, say) survive a re-seed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

BATCH_LIMIT = 500


class _Record(Protocol):
    @property
    def id(self) -> str: ...

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


def _documents(
    collection: str, records: Iterable[_Record]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for record in records:
        yield collection, str(record.id), record.model_dump(mode="json")


def seed_reference(client: Any, reference: Any | None = None) -> dict[str, int]:
    """Write ``reference`` (default: ``shared.reference.load_reference()``); return counts."""
    if reference is None:
        from shared.reference import load_reference

        reference = load_reference()
    documents = [
        *_documents("agencies", reference.agencies),
        *_documents("categories", reference.categories),
    ]
    counts: dict[str, int] = {"agencies": 0, "categories": 0}
    for start in range(0, len(documents), BATCH_LIMIT):
        batch = client.batch()
        for collection, doc_id, data in documents[start : start + BATCH_LIMIT]:
            batch.set(client.collection(collection).document(doc_id), data, merge=True)
            counts[collection] += 1
        batch.commit()
    return counts


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


def seed_emulator(firestore_host: str, project: str) -> dict[str, int]:
    client = emulator_client(firestore_host, project)
    try:
        return seed_reference(client)
    finally:
        client.close()


def main(argv: Sequence[str]) -> int:
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not host and "--allow-production" not in argv:
        print(
            "lapor seed: FIRESTORE_EMULATOR_HOST is not set; refusing to write to a real "
            "project (pass --allow-production to mean it).",
            file=sys.stderr,
        )
        return 2
    from google.cloud import firestore

    project = os.environ.get("LAPOR_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    client = firestore.Client(project=project)
    try:
        counts = seed_reference(client)
    finally:
        client.close()
    print("seeded " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
