"""The AnchorStore port on Firestore: the daily anchor of the timelines.

Reads the reports changed since a moment (``updated_at >=``, the field's automatic
single-field index; only the three fields the anchor needs are fetched), a confidential
report's first chained event through the report store (the only code that touches a
report's events), and writes the anchor under ``daily_figures/{day}/exports``
(shared.usecases.anchor gives the layout). Shares the report store's operation count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import (
    DAILY_FIGURES,
    FIGURE_EXPORTS,
    REPORTS,
    TIMELINE_HEAD,
    FirestoreReportStore,
    _day,
    _ts,
)
from shared.adapters.firestore_outage import translates_outages
from shared.ports import ChangedTimeline
from shared.usecases.anchor import ANCHOR, page_name

CHANGED_FIELDS = ["tracking_code", "confidential", TIMELINE_HEAD]


@translates_outages
class FirestoreAnchorStore:
    def __init__(self, client: firestore.Client, reports: FirestoreReportStore) -> None:
        self._client = client
        self._reports = client.collection(REPORTS)
        self._days = client.collection(DAILY_FIGURES)
        self._report_store = reports
        self.stats = reports.stats

    def changed_since(self, moment: dt.datetime) -> list[ChangedTimeline]:
        docs = list(changed_since_query(self._reports, moment).stream())
        self.stats.add(reads=max(1, len(docs)))
        changed = []
        for doc in docs:
            data = doc.to_dict() or {}
            head = data.get(TIMELINE_HEAD)
            changed.append(
                ChangedTimeline(
                    report_id=doc.id,
                    tracking_code=str(data["tracking_code"]),
                    # A report without the flag is treated as confidential: never listed by code.
                    confidential=data.get("confidential") is not False,
                    head=str(head) if head else None,
                )
            )
        return changed

    def first_chained_hash(self, report_id: str) -> str | None:
        return self._report_store.first_chained_hash(report_id)

    def _exports(self, day: dt.date) -> Any:
        return self._days.document(_day(day)).collection(FIGURE_EXPORTS)

    def anchor_header(self, day: dt.date) -> Mapping[str, Any] | None:
        snap = self._exports(day).document(ANCHOR).get()
        self.stats.add(reads=1)
        return (snap.to_dict() or {}) if snap.exists else None

    def save_anchor(
        self, day: dt.date, header: Mapping[str, Any], pages: Sequence[Mapping[str, Any]]
    ) -> bool:
        exports = self._exports(day)
        root = str(header["root"])
        # One page per commit: a page may be near 1 MiB, a commit's limit is 10 MiB.
        for number, page in enumerate(pages, start=1):
            self.stats.add(commits=1)
            exports.document(page_name(root, number)).set(dict(page))
            self.stats.add(writes=1)
        self.stats.add(commits=1)
        try:
            exports.document(ANCHOR).create(dict(header))
        except AlreadyExists:
            return False
        self.stats.add(writes=1)
        return True


def changed_since_query(reports: Any, moment: dt.datetime) -> Any:
    """The reports whose last event is at or after ``moment`` (``updated_at``: the
    automatic single-field index), only the fields the anchor needs."""
    query = reports.where(filter=FieldFilter("updated_at", ">=", _ts(moment)))
    return query.select(CHANGED_FIELDS)


SINGLE_FIELD_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "timeline anchor: the reports changed since a moment",
        lambda client: changed_since_query(
            client.collection(REPORTS), dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        ),
    ),
)
