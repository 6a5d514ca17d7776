"""An agency's casework on Firestore: the CaseworkStore port.

Layout:

- ``reports/{id}/staff_notes/{auto id}``: internal notes, apart from the report document
  and its timeline, so nothing that reads the report for the reporter, the public or a
  webhook can come across one;
- ``reports/{id}``: ``assignee_id``, ``assignee_name`` and ``priority``, updated alone in
  a transaction with their change-log entry (no event: the timeline is the reporter's
  too, and nothing the reporter sees changes);
- ``agencies/{agency id}/response_templates/{id}``: the agency's response templates.

Every change that is recorded writes its ``audit_log`` entry in the same commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import (
    AGENCIES,
    REPORTS,
    SCHEMA_VERSION,
    StoreStats,
    _check_version,
    _ts,
    _utc,
    report_from_doc,
)
from shared.adapters.firestore_audit import audit_ref
from shared.adapters.firestore_outage import translates_outages
from shared.domain.casework import Assignment, ResponseTemplate, StaffNote
from shared.domain.report import Report
from shared.ports import AuditEntry, ReportNotFound, TemplateNotFound

STAFF_NOTES = "staff_notes"
RESPONSE_TEMPLATES = "response_templates"
IN_LIMIT = 30  # values in one Firestore "in" filter

Doc = dict[str, Any]


def note_to_doc(note: StaffNote) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "report_id": note.report_id,
        "author_id": note.author_id,
        "author_name": note.author_name,
        "agency_id": note.agency_id,
        "text": note.text,
        "at": _ts(note.at),
    }


def note_from_doc(note_id: str, doc: Mapping[str, Any]) -> StaffNote:
    _check_version(doc, f"{STAFF_NOTES}/{note_id}")
    return StaffNote(
        id=note_id,
        report_id=str(doc["report_id"]),
        author_id=str(doc["author_id"]),
        author_name=str(doc.get("author_name", "")),
        agency_id=str(doc["agency_id"]),
        text=str(doc["text"]),
        at=_utc(doc["at"]),
    )


def template_to_doc(template: ResponseTemplate) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "agency_id": template.agency_id,
        "title": template.title,
        "body": template.body,
        "operations": list(template.operations),
        "updated_at": _ts(template.updated_at),
        "updated_by": template.updated_by,
    }


def template_from_doc(template_id: str, doc: Mapping[str, Any]) -> ResponseTemplate:
    _check_version(doc, f"{RESPONSE_TEMPLATES}/{template_id}")
    return ResponseTemplate(
        id=template_id,
        agency_id=str(doc["agency_id"]),
        title=str(doc["title"]),
        body=str(doc["body"]),
        operations=tuple(str(op) for op in doc.get("operations") or ()),
        updated_at=_utc(doc["updated_at"]),
        updated_by=str(doc.get("updated_by", "")),
    )


def latest_notes_query(notes: Any, limit: int) -> Any:
    """A report's newest notes; the automatic index on ``at`` serves it."""
    return notes.order_by("at", direction=firestore.Query.DESCENDING).limit(limit)


def agency_templates_query(group: Any, agency_ids: Sequence[str]) -> Any:
    """The templates of these agencies (at most 30), over every agency's collection:
    the collection-group index on ``agency_id`` (infra/firestore_indexes.json) serves it."""
    return group.where(filter=FieldFilter("agency_id", "in", list(agency_ids)))


@translates_outages
class FirestoreCaseworkStore:
    def __init__(self, client: firestore.Client, stats: StoreStats | None = None) -> None:
        self._client = client
        self._reports = client.collection(REPORTS)
        self._agencies = client.collection(AGENCIES)
        self.stats = stats or StoreStats()

    # --- notes ----------------------------------------------------------------------

    def _notes(self, report_id: str) -> Any:
        return self._reports.document(report_id).collection(STAFF_NOTES)

    def add_note(self, note: StaffNote) -> StaffNote:
        ref = self._notes(note.report_id).document()
        self.stats.add(commits=1)
        ref.create(note_to_doc(note))
        self.stats.add(writes=1)
        return dataclasses.replace(note, id=ref.id)

    def notes(self, report_id: str, limit: int) -> list[StaffNote]:
        docs = list(latest_notes_query(self._notes(report_id), limit).stream())
        self.stats.add(reads=max(1, len(docs)))
        return [note_from_doc(doc.id, doc.to_dict() or {}) for doc in reversed(docs)]

    # --- assignment -----------------------------------------------------------------

    def assign(
        self, report_id: str, decide: Callable[[Report], tuple[Assignment, AuditEntry]]
    ) -> Report:
        ref = self._reports.document(report_id)

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> Report:
            snap = ref.get(transaction=transaction)
            self.stats.add(reads=1)
            if not snap.exists:
                raise ReportNotFound(report_id)
            report = report_from_doc(report_id, snap.to_dict() or {})
            assignment, entry = decide(report)
            transaction.update(
                ref,
                {
                    "assignee_id": assignment.assignee_id,
                    "assignee_name": assignment.assignee_name,
                    "priority": assignment.priority.value,
                },
            )
            transaction.create(*audit_ref(self._client, entry))
            return dataclasses.replace(
                report,
                assignee_id=assignment.assignee_id,
                assignee_name=assignment.assignee_name,
                priority=assignment.priority,
            )

        self.stats.add(commits=1)
        assigned: Report = run(self._client.transaction())
        self.stats.add(writes=2)
        return assigned

    # --- response templates ---------------------------------------------------------

    def _templates(self, agency_id: str) -> Any:
        return self._agencies.document(agency_id).collection(RESPONSE_TEMPLATES)

    def templates(self, agency_ids: Sequence[str]) -> list[ResponseTemplate]:
        """One collection-group query per 30 agencies (a unit's chain up to the nation
        is five): a report page pays one read for its templates, not one per agency."""
        group = self._client.collection_group(RESPONSE_TEMPLATES)
        wanted = list(dict.fromkeys(agency_ids))
        found: list[ResponseTemplate] = []
        for part in (wanted[i : i + IN_LIMIT] for i in range(0, len(wanted), IN_LIMIT)):
            docs = list(agency_templates_query(group, part).stream())
            self.stats.add(reads=max(1, len(docs)))
            found += [template_from_doc(doc.id, doc.to_dict() or {}) for doc in docs]
        return sorted(found, key=lambda t: (t.title.casefold(), t.id))

    def template(self, agency_id: str, template_id: str) -> ResponseTemplate | None:
        snap = self._templates(agency_id).document(template_id).get()
        self.stats.add(reads=1)
        return template_from_doc(template_id, snap.to_dict() or {}) if snap.exists else None

    def save_template(self, template: ResponseTemplate, entry: AuditEntry, *, new: bool) -> None:
        ref = self._templates(template.agency_id).document(template.id)
        batch = self._client.batch()
        if new:
            batch.create(ref, template_to_doc(template))
        else:
            batch.update(ref, template_to_doc(template))
        batch.create(*audit_ref(self._client, entry))
        self._commit(batch, template.id)

    def delete_template(self, agency_id: str, template_id: str, entry: AuditEntry) -> None:
        batch = self._client.batch()
        batch.delete(
            self._templates(agency_id).document(template_id),
            option=self._client.write_option(exists=True),
        )
        batch.create(*audit_ref(self._client, entry))
        self._commit(batch, template_id, deletes=1)

    def _commit(self, batch: Any, template_id: str, deletes: int = 0) -> None:
        self.stats.add(commits=1)
        try:
            batch.commit()
        except NotFound:
            raise TemplateNotFound(template_id) from None
        self.stats.add(writes=2, deletes=deletes)


COMPOSITE_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = ()
SINGLE_FIELD_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "the response templates of a chain of agencies",
        lambda client: agency_templates_query(
            client.collection_group(RESPONSE_TEMPLATES), ["a", "b"]
        ),
    ),
    (
        "a report's newest staff notes",
        lambda client: latest_notes_query(
            client.collection(REPORTS).document("r").collection(STAFF_NOTES), 20
        ),
    ),
)
