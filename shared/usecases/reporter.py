"""The reporter acting on their own report: reply, answer a hold, confirm, reopen, rate.

Only the holder of the reporter token may act; the token is an HMAC of the report id,
so checking it costs no read and writes nothing. A wrong token on a confidential report
is answered like an unknown code (the report's existence is private too). Every action
goes through :func:`shared.usecases.act.act`; answering a hold sends the report back to
verification and emits a fresh ``report.submitted`` so routing runs again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.config import Settings
from shared.domain.report import TRANSITIONS, Action, Actor, Command, Role, State
from shared.domain.tracking import normalize_tracking_code
from shared.ports import BlobStore, Clock, Publisher, ReportNotFound, ReportStore
from shared.reference import Reference
from shared.tokens import is_reporter_token
from shared.usecases import evidence
from shared.usecases.act import Acted, AlreadyTaken, act, action_key, replay
from shared.usecases.outbox import publish_committed

if TYPE_CHECKING:
    from shared.domain.attachments import SafeFile

log = logging.getLogger(__name__)

TEXT_MAX = 5000
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]


# --- what the reporter sends (the API's bodies and the pages' forms) --------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    EXAMPLE: ClassVar[dict[str, object]] = {}


class MessageIn(_Body):
    """A reply to a follow-up, or the answer to a request for more information."""

    message: Text
    EXAMPLE: ClassVar[dict[str, object]] = {
        "message": "Lubangnya tepat di depan Pasar Cipanas, sisi kiri dari arah Puncak."
    }


class ReasonIn(_Body):
    """Why the reporter reopens a resolved report."""

    reason: Text
    EXAMPLE: ClassVar[dict[str, object]] = {
        "reason": "Lubang baru ditimbun tanah; setelah hujan berlubang lagi."
    }


class ConfirmIn(_Body):
    """Confirming needs no text."""

    EXAMPLE: ClassVar[dict[str, object]] = {}


class EraseContactIn(_Body):
    """Erasing the reporter's identity and contact details needs no text: the page asks
    for a confirmation first; the API's POST is the request itself."""

    EXAMPLE: ClassVar[dict[str, object]] = {}


class RatingIn(_Body):
    """How the reporter rates the handling, 1 (poor) to 5 (very good)."""

    rating: int = Field(ge=1, le=5, strict=False)
    EXAMPLE: ClassVar[dict[str, object]] = {"rating": 5}


@dataclass(frozen=True)
class Operation:
    action: Action
    body: type[_Body]


# URL segment -> what it does. The pages post the same names.
OPERATIONS: Mapping[str, Operation] = {
    "reply": Operation(Action.REPORTER_REPLY, MessageIn),
    "answer": Operation(Action.ANSWER_HOLD, MessageIn),
    "confirm": Operation(Action.CONFIRM, ConfirmIn),
    "reopen": Operation(Action.REOPEN, ReasonIn),
    "rating": Operation(Action.RATE, RatingIn),
    # Possible in every state (no transition): the tracking page offers it apart, behind
    # a confirmation page (shared/web/citizen_pages.py), never among the actions above.
    "erase-contact": Operation(Action.ERASE_CONTACT, EraseContactIn),
}
BY_ACTION: Mapping[Action, str] = {op.action: name for name, op in OPERATIONS.items()}


def available(report_state: str, rated: bool) -> list[str]:
    """The operations the reporter may take now, in a stable order (for the page)."""
    state = State(report_state)
    names = []
    for name, op in OPERATIONS.items():
        if (state, op.action) not in TRANSITIONS:
            continue
        if op.action is Action.RATE and rated:
            continue
        names.append(name)
    return names


# --- acting ---------------------------------------------------------------------------


class TokenRejected(Exception):
    """The token is missing or not this report's. ``hide``: answer as if unknown."""

    def __init__(self, hide: bool) -> None:
        super().__init__("reporter token required")
        self.hide = hide


def reporter_act(
    code_text: str,
    token: str | None,
    operation: str,
    data: Mapping[str, object],
    *,
    store: ReportStore,
    clock: Clock,
    settings: Settings,
    reference: Reference,
    publisher: Publisher | None = None,
    files: Sequence[SafeFile] = (),
    blobs: BlobStore | None = None,
    idempotency_key: str | None = None,
) -> Acted:
    """Apply one reporter operation. Raises InvalidTrackingCode, ReportNotFound,
    TokenRejected, pydantic's ValidationError (``data`` is checked only once the token
    is: a stranger learns nothing from validation) or a LifecycleError; in each case
    nothing is written. ``reference``: the running one (who is told of an answer).
    ``files``: what a reply or an answer brings (already safe:
    shared.usecases.evidence.safe_files), staged in ``blobs`` only once the token and
    the text are accepted, promoted right after the commit. ``idempotency_key``: a
    retry with it answers the first attempt's event (``Acted.replayed``)."""
    op = OPERATIONS[operation]
    code = normalize_tracking_code(code_text)
    report = store.find_by_tracking_code(code)
    if report is None:
        raise ReportNotFound(code)
    if not is_reporter_token(settings.token_secret, report.id, token):
        raise TokenRejected(hide=report.confidential)
    fields = op.body.model_validate(dict(data)).model_dump()
    attachments = evidence.stage_for_action(report.id, op.action, files, blobs)
    command = Command(
        action=op.action,
        actor=Actor(Role.REPORTER, "reporter"),
        message=fields.get("message"),
        reason=fields.get("reason"),
        rating=fields.get("rating"),
        attachments=attachments,
    )
    key = None
    if idempotency_key is not None:
        asked = {
            "report": report.id,
            "action": op.action.value,
            **fields,
            "files": [hashlib.sha256(f.data).hexdigest() for f in files],
        }
        key = action_key(settings, f"reporter:{report.id}", idempotency_key, asked)
    # The handling agency is told, and answering a hold sends the report back to
    # routing: act derives both from the event.
    try:
        change = act(
            report.id,
            command,
            store=store,
            clock=clock,
            settings=settings,
            reference=reference,
            key=key,
        )
    except AlreadyTaken as taken:
        return replay(taken, store)
    if blobs is not None:
        evidence.promote_after_commit(report.id, attachments, blobs)
    published = publish_committed(publisher, change.outbox, store)
    log.info(
        "reporter action",
        extra={"tracking_code": code, "action": op.action.value, "seq": change.event.seq},
    )
    return Acted(change.report, change, published)
