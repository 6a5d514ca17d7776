"""The daily anchor of the timelines, stored beside the day's figures and served at
``/data/jangkar/<day>.json`` (shared.domain.anchor says what it holds and why).

The report function runs it right after the day's figures, for the same day D. Each
event sets its report's ``updated_at`` to the event's time, so the reports whose
timeline changed on D or since are those with ``updated_at`` at or after midnight of D
(in the settings' time zone): one query on that field's automatic single-field index,
with no upper bound, so a report that changed on D and again before the run is anchored
with its newest head rather than left out (its event of D is in the chain before it).

What one run for day D costs:

- the stored header (1 read): present, this is a re-run, and the anchor as first
  published stands (a later run would see fewer reports, those changed since having left
  the window), so nothing is written;
- else the changed reports (a read each; an empty answer is billed one read) and, for
  each confidential one, its first chained event (one read: its public id);
- writes: one page per :data:`PAGE_SIZE` entries (at least one), then the header.

Layout: ``daily_figures/{D}/exports/timeline_anchor``, the header (the published
document without ``entries``, plus ``pages``), and ``timeline_anchor.<root>.1``,
``.2``..., each ``{day, page, entries}``: 5,000 entries of at most about 150 bytes each
keep a page well under Firestore's 1 MiB. Two runs at once (a retried schedule) each
write their own pages, named by their root, and create the header: the first to create
it wins, the other answers as a re-run, so a header never points at another run's pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain import anchor
from shared.ports import AnchorPorts, FiguresReader

log = logging.getLogger(__name__)

ANCHOR = "timeline_anchor"  # the header's export name; pages: page_name(root, n)
PAGE_SIZE = 5000
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AnchorResult:
    day: dt.date
    rerun: bool  # anchored already: that anchor stands, nothing written
    reports: int  # entries in the anchor
    root: str

    def as_json(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "day": self.day.isoformat()}


def page_name(root: str, number: int) -> str:
    return f"{ANCHOR}.{root}.{number}"


def anchor_day(day: dt.date, ports: AnchorPorts) -> AnchorResult:
    store = ports.anchors
    stored = store.anchor_header(day)
    if stored is not None:
        return _kept(day, stored)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(ports.settings.timezone))
    heads = []
    for changed in store.changed_since(midnight):
        if changed.head is None:
            continue  # written before the chain: nothing to anchor
        first = store.first_chained_hash(changed.report_id) if changed.confidential else None
        public_id = anchor.public_id(changed.tracking_code, changed.confidential, first)
        if public_id is not None:
            heads.append(anchor.Head(public_id, changed.head))
    published = anchor.document(day, ports.clock.now(), heads)
    listed = published.pop("entries")
    chunks = [listed[i : i + PAGE_SIZE] for i in range(0, len(listed), PAGE_SIZE)] or [[]]
    pages = [
        {"schema_version": SCHEMA_VERSION, "day": day.isoformat(), "page": n, "entries": chunk}
        for n, chunk in enumerate(chunks, start=1)
    ]
    header = {"schema_version": SCHEMA_VERSION, **published, "pages": len(pages)}
    if not store.save_anchor(day, header, pages):
        # Another run anchored the day first: its anchor stands.
        return _kept(day, store.anchor_header(day) or header)
    result = AnchorResult(day, rerun=False, reports=len(listed), root=published["root"])
    log.info("timelines anchored", extra=result.as_json())
    return result


def _kept(day: dt.date, stored: Mapping[str, Any]) -> AnchorResult:
    return AnchorResult(day, rerun=True, reports=int(stored["count"]), root=str(stored["root"]))


def published_anchor(figures: FiguresReader, day: dt.date) -> dict[str, Any] | None:
    """The anchor of ``day`` as published (a read for the header and one per page), or
    None when that day has none."""
    header = figures.figures_export(day, ANCHOR)
    if header is None:
        return None
    listed: list[Any] = []
    for number in range(1, int(header["pages"]) + 1):
        page = figures.figures_export(day, page_name(str(header["root"]), number))
        if page is None:
            return None  # cannot be: the header is written last
        listed.extend(page["entries"])
    kept = {k: v for k, v in header.items() if k not in ("schema_version", "pages")}
    return {**kept, "entries": listed}
