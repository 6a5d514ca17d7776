"""An agency's own casework around a report, for its staff only: internal notes, who
handles it and how urgent it is, and the agency's reusable response texts. No I/O.

None of it is part of the report's lifecycle: nothing here makes a timeline event, and
nothing here is ever shown to the reporter, the public or in a webhook (a note lives
apart from the report; assignment and priority are left out of every privacy view).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.domain.report import Priority

MAX_NOTE = 2000
MAX_TEMPLATE_TITLE = 120
MAX_TEMPLATE_BODY = 5000
MAX_TEMPLATES = 100  # per agency: a list an admin can still read through

# The agency actions whose form has a text a template can fill (the agency API's and
# the console's operation names): the message of a follow-up or a resolution, the
# reason of the others.
TEMPLATE_OPERATIONS: tuple[str, ...] = (
    "follow-up",
    "resolve",
    "hold",
    "not-our-authority",
    "archive",
    "mark-supervisory",
)


class CaseworkInvalid(ValueError):
    """What was typed cannot be saved; ``field`` names the form field, ``code`` the rule."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class StaffNote:
    """A note a staff member left on a report for the other staff who see it."""

    id: str
    report_id: str
    author_id: str  # "staff:<account id>"
    author_name: str
    agency_id: str  # the author's agency
    text: str
    at: dt.datetime


@dataclass(frozen=True)
class Assignment:
    """Who handles a report in its agency (nobody: both None) and how urgent it is."""

    assignee_id: str | None
    assignee_name: str | None
    priority: Priority


@dataclass(frozen=True)
class ResponseTemplate:
    """A reusable text of an agency, offered in the forms of the ``operations`` named."""

    id: str
    agency_id: str
    title: str
    body: str
    operations: tuple[str, ...]
    updated_at: dt.datetime
    updated_by: str  # the name of who saved it last


def _clean(text: str) -> str:
    """Typed text as kept: line endings made one kind, outer blank space dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def note_text(text: str) -> str:
    cleaned = _clean(text)
    if not cleaned:
        raise CaseworkInvalid("note", "required", "a note needs some text")
    if len(cleaned) > MAX_NOTE:
        raise CaseworkInvalid("note", "too_long", f"a note has at most {MAX_NOTE} characters")
    return cleaned


def priority_of(value: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise CaseworkInvalid("priority", "unknown", f"unknown priority {value!r}") from None


def template_fields(
    title: str, body: str, operations: tuple[str, ...] | list[str]
) -> tuple[str, str, tuple[str, ...]]:
    """A template's title, body and operations as kept, or CaseworkInvalid."""
    title = " ".join(title.split())
    body = _clean(body)
    if not title:
        raise CaseworkInvalid("title", "required", "a template needs a title")
    if len(title) > MAX_TEMPLATE_TITLE:
        raise CaseworkInvalid(
            "title", "too_long", f"a title has at most {MAX_TEMPLATE_TITLE} characters"
        )
    if not body:
        raise CaseworkInvalid("body", "required", "a template needs a text")
    if len(body) > MAX_TEMPLATE_BODY:
        raise CaseworkInvalid(
            "body", "too_long", f"a text has at most {MAX_TEMPLATE_BODY} characters"
        )
    unknown = set(operations) - set(TEMPLATE_OPERATIONS)
    if unknown:
        raise CaseworkInvalid("operations", "unknown", f"unknown actions {sorted(unknown)}")
    if not operations:
        raise CaseworkInvalid("operations", "required", "pick at least one action")
    # In the one order the forms show them, each once.
    return title, body, tuple(op for op in TEMPLATE_OPERATIONS if op in operations)
