"""A report's timeline as an export anyone can verify (docs/timeline-integrity.md).

The export discloses, for each event, exactly the fields the asker's view of the
report shows (shared.domain.privacy decides, as for the tracking page), each with its
field salt; every other field goes as its commitment only. So the public export of a
public report lets anyone check the whole chain without learning, or being able to
confirm a guess of, what the public view leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import Settings
from shared.domain import chain
from shared.domain.privacy import view
from shared.domain.report import TimelineEvent
from shared.ports import ReportStore
from shared.usecases.track import find_for_asker

PROCEDURE = "docs/timeline-integrity.md"
# What a view's timeline entry shows of the event's ``data``, by the entry's key.
_ROUTING_DATA = ("method", "agency_id", "rule_id", "confidence")


def disclosed_fields(event: TimelineEvent, shown: Mapping[str, Any]) -> set[str]:
    """The chain fields (shared.domain.chain.event_fields) a view's entry ``shown`` of
    ``event`` reveals, so the export discloses what the view shows and nothing more."""
    names = {name for name in shown if name not in ("seq", "data", "routing")}
    if "data" in shown:
        names |= {f"data.{key}" for key in event.data}
    routing = shown.get("routing")
    if routing is not None:
        names |= {f"data.{key}" for key in _ROUTING_DATA if key in event.data}
        if routing.get("admin_agency_id") is not None:
            names.add("actor_id")
    return names


def export_timeline(
    code_text: str, token: str | None, *, store: ReportStore, settings: Settings
) -> dict[str, Any] | None:
    """The verifiable export of a report's timeline as its asker may see it: the
    reporter (with the report's token) or the public; None when they may not know the
    report exists. Raises InvalidTrackingCode for text that cannot be a code."""
    found = find_for_asker(code_text, token, store=store, settings=settings)
    if found is None:
        return None
    report, audience = found
    events = sorted(store.timeline(report.id), key=lambda event: event.seq)
    shown = view(report, events, audience)
    if shown is None:
        return None
    entries = dict(zip((e.seq for e in events), shown["timeline"], strict=True))
    exported = chain.export(events, lambda event: disclosed_fields(event, entries[event.seq]))
    return {
        "tracking_code": report.tracking_code,
        "audience": audience.value,
        "procedure": PROCEDURE,
        "canonical_form": "RFC 8785 (JCS)",
        "hash": "sha256",
        "head": chain.verify(exported).head,
        "events": exported,
    }
