"""Give reports that ended before the retention job existed what its query needs.

    python -m tools.backfill_retention [--page-size 200]

The retention job (shared/usecases/retention.py) finds the reports whose reporter's
identity it must erase by ``identity_held == true and ended_at < cutoff``. Every write
of a report stores both fields (shared.adapters.firestore.report_to_doc), so a running
report has them after its next action; a report that had already ended (closed or
archived) when they were introduced is never written again and would never be found.

Which documents: the ended reports, by an ``in`` query on ``state`` (Firestore's
automatic single-field index), page by page: one read per ended report, one write per
report that lacks the fields, nothing for the running ones. Each write is an update of
the two fields only, derived by the store's own mapping, with the document's update
time as a precondition: a report changed since it was read already has them.
Idempotent: a second run reads the ended reports again and writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from google.api_core.exceptions import FailedPrecondition, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import REPORTS, report_from_doc, report_to_doc
from shared.domain.report import TERMINAL_STATES

# What the retention job's query reads, as report_to_doc writes them.
_RETENTION_FIELDS = ("identity_held", "ended_at")


@dataclass
class Backfilled:
    read: int = 0
    written: int = 0
    changed_meanwhile: int = 0  # written by someone else since it was read: has them


def ended_reports_query(client: firestore.Client) -> firestore.Query:
    states = sorted(state.value for state in TERMINAL_STATES)
    return client.collection(REPORTS).where(filter=FieldFilter("state", "in", states))


def backfill(client: firestore.Client, *, page_size: int = 200) -> Backfilled:
    done = Backfilled()
    query = ended_reports_query(client).order_by("__name__").limit(page_size)
    last: firestore.DocumentSnapshot | None = None
    while True:
        page = list((query.start_after(last) if last is not None else query).stream())
        done.read += len(page)
        for snap in page:
            _fill(client, snap, done)
        if len(page) < page_size:
            return done
        last = page[-1]


def _fill(client: firestore.Client, snap: firestore.DocumentSnapshot, done: Backfilled) -> None:
    stored = snap.to_dict() or {}
    if all(name in stored for name in _RETENTION_FIELDS):
        return
    derived = report_to_doc(report_from_doc(snap.id, stored))
    fields = {name: derived[name] for name in _RETENTION_FIELDS}
    try:
        snap.reference.update(fields, option=client.write_option(last_update_time=snap.update_time))
    except (FailedPrecondition, NotFound):
        done.changed_meanwhile += 1
        return
    done.written += 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page-size", type=int, default=200)
    args = parser.parse_args(argv)
    from shared.config import settings

    client = firestore.Client(project=settings().project)
    done = backfill(client, page_size=args.page_size)
    print(
        f"read {done.read} ended reports: {done.written} given the retention fields, "
        f"{done.changed_meanwhile} changed meanwhile"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
