"""Composing notification e-mail: one Jinja2 template per kind, both languages in it.

:func:`compose_email` turns a kind, the recipient's language and the kind's context
into an :class:`~shared.ports.OutgoingEmail` that any EmailSender can send:

- the subject and the HTML from the kind's template (``shared/notifications/templates/
  mail/<kind>.html``: its ``subject`` and ``body`` blocks, Bahasa Indonesia and
  English side by side), the plain text made from that same HTML (:func:`html_to_text`),
  so the two parts never say different things;
- one message to one address, or to all of an agency's addresses at once (To: lists
  them, so each sees who else was told);
- ``Message-ID: <hash@domain>`` from the notification id, the channel and the addresses:
  every attempt of one notification carries the same one, so a resend is recognisable
  (and a client shows it once);
- RFC 8058 one-click unsubscribe: ``List-Unsubscribe: <https://.../berhenti/<token>>``
  and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; the token is signed
  (shared.tokens) and names the recipient (:class:`MailRecipient`). The relay should
  DKIM-sign both headers, as the RFC asks. A message to several of an agency's
  addresses has none: one link cannot say which of them clicked, and one reader must
  not stop a colleague's mail; its footer says the agency's admin chooses the addresses;
- ``Auto-Submitted: auto-generated`` (RFC 3834), so out-of-office replies stay away.

The context of each kind is a pydantic model (:data:`CONTEXTS`) that forbids unknown
fields: a kind for an agency has no field for a reporter's name, e-mail or phone, and
one given anyway is refused, not silently dropped. A reporter's kind is never composed
for an agency's address, nor the other way round.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, StringConstraints

from shared.domain.report import ReportType
from shared.ports import OptOut, OptOutAudience, OutgoingEmail
from shared.tokens import agency_opt_out, reporter_opt_out, unsubscribe_token
from shared.web.i18n import Lang, format_date, format_number, t

if TYPE_CHECKING:
    from shared.config import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "notifications" / "templates" / "mail"
UNSUBSCRIBE_PATH = "/berhenti/"
ONE_CLICK = "List-Unsubscribe=One-Click"
TEXT_WIDTH = 72

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Link = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


# --- what each kind needs ---------------------------------------------------------------


class _Context(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReporterContext(_Context):
    """Every reporter's message: which report, and the private link to it."""

    tracking_code: Text
    title: Text
    private_link: Link  # /lacak/<code>?token=...: the reporter's own page


class HoldContext(ReporterContext):
    reason: Text  # what the agency asks
    agency_name: Text | None = None
    answer_by: dt.date | None = None  # unanswered until then, the report may be archived


class AgencyMessageContext(ReporterContext):
    """A follow-up or the resolution: the agency's own words."""

    agency_name: Text
    message: Text
    confirm_by: dt.date | None = None  # resolved: closed by itself after this day


class ArchivedContext(ReporterContext):
    reason: Text | None = None


class AgencyContext(_Context):
    """Every agency's message about a report. Nothing of the reporter: no slot for it."""

    agency_name: Text  # the recipient agency or unit
    tracking_code: Text
    title: Text
    report_link: Link | None = None  # the report where the agency's staff open it


class NewReportContext(AgencyContext):
    """Dispositioned to the agency, or forwarded to the unit."""

    report_type: ReportType  # the template labels it
    category: Text  # the category's label
    description: Text
    region: Text | None = None  # where it happened, labelled
    due_on: dt.date | None = None  # the follow-up's deadline
    from_agency_name: Text | None = None  # forwarded: the agency that forwarded it


class ReturnedContext(AgencyContext):
    """Bukan Wewenang, or queued: the admin must route it."""

    from_agency_name: Text | None = None  # who said it is not theirs
    reason: Text | None = None


class ReporterWordsContext(AgencyContext):
    """The reporter replied, or answered a hold: their words, never their identity."""

    message: Text


class ReopenedContext(AgencyContext):
    reason: Text


class EscalatedContext(AgencyContext):
    tier: Text  # the tier's id (escalation.toml)
    clock: Annotated[str, StringConstraints(pattern=r"^(verify|resolve)$")]
    due_on: dt.date
    overdue_working_days: int  # 0 or less: a reminder before the deadline
    handling_agency_name: Text | None = None  # the report may be another agency's
    dossier_url: Link | None = None  # the Ombudsman's tier


class DailyContext(_Context):
    """The day's own figures of the agency (the nation's for the national admin)."""

    agency_name: Text
    day: dt.date
    received: int
    followed_up: int
    resolved: int
    overdue_now: int
    figures_link: Link


class DigestItem(_Context):
    kind: Literal[
        "report.dispositioned",
        "report.forwarded",
        "report.returned",
        "report.reporter_replied",
        "report.hold_answered",
        "report.reopened",
        "report.escalated",
    ]
    tracking_code: Text
    title: Text
    report_link: Link | None = None


class DigestContext(_Context):
    """One hour's notifications of an agency that asked for a digest."""

    agency_name: Text
    items: tuple[DigestItem, ...]


class StaffLinkContext(_Context):
    """A one-time link for a staff member: the invitation to the console, or a new
    password. The link carries its token; it is composed in notify, never stored."""

    name: Text  # the staff member's
    agency_name: Text
    role: Literal["national_admin", "agency_admin", "unit_officer"]  # the template labels it
    link: Link
    valid_days: int | None = None  # how long the link works: days (an invitation)
    valid_minutes: int | None = None  # or minutes (a password reset)


MailAudience = OptOutAudience | Literal["staff"]


@dataclass(frozen=True)
class KindSpec:
    audience: MailAudience
    context: type[_Context]


REPORTER_KINDS: Mapping[str, type[_Context]] = {
    "report.accepted": ReporterContext,
    "report.on_hold": HoldContext,
    "report.followed_up": AgencyMessageContext,
    "report.resolved": AgencyMessageContext,
    "report.closed": ReporterContext,
    "report.archived": ArchivedContext,
    "link.resend": ReporterContext,
}
AGENCY_KINDS: Mapping[str, type[_Context]] = {
    "report.dispositioned": NewReportContext,
    "report.forwarded": NewReportContext,
    "report.returned": ReturnedContext,
    "report.reporter_replied": ReporterWordsContext,
    "report.hold_answered": ReporterWordsContext,
    "report.reopened": ReopenedContext,
    "report.escalated": EscalatedContext,
    "report.daily": DailyContext,
    "agency.digest": DigestContext,
}
# A staff member's own mail: no unsubscribe (it is sent only when they or their admin
# ask for it), and nothing of any report.
STAFF_KINDS: Mapping[str, type[_Context]] = {
    "staff.invitation": StaffLinkContext,
    "staff.password_reset": StaffLinkContext,
}
KINDS: Mapping[str, KindSpec] = {
    **{kind: KindSpec("reporter", model) for kind, model in REPORTER_KINDS.items()},
    **{kind: KindSpec("agency", model) for kind, model in AGENCY_KINDS.items()},
    **{kind: KindSpec("staff", model) for kind, model in STAFF_KINDS.items()},
}
CONTEXTS: Mapping[str, type[_Context]] = {kind: spec.context for kind, spec in KINDS.items()}


# --- the recipient ---------------------------------------------------------------------


@dataclass(frozen=True)
class MailRecipient:
    """An address and whom its unsubscribe link stops (check ``opt_out`` with
    ContactPreferences.is_opted_out before sending)."""

    address: str
    opt_out: OptOut

    @classmethod
    def reporter(cls, address: str, report_id: str) -> MailRecipient:
        return cls(address, reporter_opt_out(report_id, "email"))

    @classmethod
    def agency(cls, address: str, agency_id: str, secret: str) -> MailRecipient:
        return cls(address, agency_opt_out(secret, agency_id, address))


# --- composing -------------------------------------------------------------------------


def message_id(notification_id: str, addresses: tuple[str, ...], domain: str) -> str:
    """``<hash@domain>``: the same for every attempt of this notification to these
    addresses (in any order)."""
    to = ",".join(sorted(address.strip().lower() for address in addresses))
    seed = f"{notification_id}\x00email\x00{to}"
    return f"<{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{domain}>"


def unsubscribe_url(settings: Settings, who: OptOut) -> str:
    base = settings.public_base_url.rstrip("/")
    if not base:
        raise ValueError("LAPOR_PUBLIC_BASE_URL must be set: every e-mail links to /berhenti/")
    return base + UNSUBSCRIBE_PATH + unsubscribe_token(settings.token_secret, who)


def compose_email(
    kind: str,
    language: Lang,
    context: Mapping[str, Any] | BaseModel,
    notification_id: str,
    recipient: MailRecipient | Sequence[MailRecipient],
    *,
    settings: Settings,
) -> OutgoingEmail:
    """The e-mail of notification ``notification_id`` to ``recipient``: one, or several
    of one agency (one message to them all, without an unsubscribe link).

    ``context`` is the kind's model (:data:`CONTEXTS`) or a mapping it validates;
    ValueError for an unknown kind, a context that does not fit (pydantic's
    ValidationError is one), a kind of the other audience, or no recipient.
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"no e-mail template for {kind!r}")
    recipients = (recipient,) if isinstance(recipient, MailRecipient) else tuple(recipient)
    if not recipients:
        raise ValueError(f"{kind!r} has no recipient")
    if any(one.opt_out.audience != spec.audience for one in recipients):
        raise ValueError(f"{kind!r} goes to the {spec.audience}, not to the other audience")
    if len({one.opt_out.owner for one in recipients}) > 1:
        raise ValueError("one message goes to the addresses of one agency only")
    addresses = tuple(one.address for one in recipients)
    link = unsubscribe_url(settings, recipients[0].opt_out) if len(recipients) == 1 else None
    email = _compose(kind, spec, language, context, notification_id, addresses, link, settings)
    if link is None:
        return email
    headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": ONE_CLICK}
    return replace(email, headers={**headers, **email.headers})


def compose_staff_email(
    kind: str,
    language: Lang,
    context: Mapping[str, Any] | BaseModel,
    notification_id: str,
    address: str,
    *,
    settings: Settings,
) -> OutgoingEmail:
    """A staff member's own e-mail (:data:`STAFF_KINDS`): as :func:`compose_email`, with
    no unsubscribe link (nobody is sent one unless they or their admin asked)."""
    spec = KINDS.get(kind)
    if spec is None or spec.audience != "staff":
        raise ValueError(f"{kind!r} is no staff member's e-mail")
    return _compose(kind, spec, language, context, notification_id, (address,), None, settings)


def _compose(
    kind: str,
    spec: KindSpec,
    language: Lang,
    context: Mapping[str, Any] | BaseModel,
    notification_id: str,
    addresses: tuple[str, ...],
    unsubscribe: str | None,
    settings: Settings,
) -> OutgoingEmail:
    given = context.model_dump() if isinstance(context, BaseModel) else dict(context)
    values = spec.context.model_validate(given)
    variables = {
        **dict(values),
        "lang": language,
        "audience": spec.audience,
        "unsubscribe_url": unsubscribe,
        "_": lambda key, **kw: t(key, language, **kw),
        "fdate": lambda day: format_date(day, language),
        "fnumber": lambda number: format_number(number, language),
    }
    template = _environment().get_template(f"{kind}.html")
    subject_block = template.blocks["subject"](template.new_context(variables))
    subject = Markup("".join(subject_block)).striptags()
    html = template.render(variables)
    return OutgoingEmail(
        recipients=addresses,
        subject=subject,
        text=html_to_text(html),
        html=html,
        message_id=message_id(notification_id, addresses, settings.mail_domain),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language},
    )


def _lines(value: str) -> Markup:
    """Someone's text as they wrote it: escaped, each line break kept."""
    return Markup("<br>\n").join(escape(line) for line in value.splitlines())


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value is escaped; the kinds' texts carry people's words
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lines"] = _lines
    return env


# --- the plain-text part ----------------------------------------------------------------

_BLOCKS = frozenset(
    {"p", "div", "h1", "h2", "h3", "ul", "ol", "li", "blockquote", "hr", "table", "tr"}
)
_HIDDEN = frozenset({"head", "style", "title", "script"})


class _TextMaker(HTMLParser):
    """The few elements the templates use, as plain text: paragraphs apart, line
    breaks kept, a link as ``text <url>`` (the bare URL when the text is the URL),
    ``- `` before list items, ``> `` before quoted lines, ``-- `` before the footer."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []  # (text, a list item)
        self._buffer: list[str] = []
        self._hidden = 0
        self._quote = 0
        self._item = False
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self._flush()
            if tag == "blockquote":
                self._quote += 1
            elif tag == "li":
                self._item = True
            elif tag == "hr":
                self.blocks.append(("-- ", False))
        elif tag == "br":
            self._buffer.append("\n")
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self._buffer)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden -= 1
        elif tag in _BLOCKS:
            self._flush()
            if tag == "blockquote":
                self._quote -= 1
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = " ".join("".join(self._buffer[start:]).split())
            if href and text != href:
                self._buffer.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._buffer.append(re.sub(r"\s+", " ", data))

    def _flush(self) -> None:
        text = "".join(self._buffer)
        self._buffer.clear()
        lines = [" ".join(line.split()) for line in text.split("\n")]
        if not any(lines):
            self._item = False
            return
        prefix = "> " * self._quote
        first = prefix + ("- " if self._item else "")
        rest = prefix + ("  " if self._item else "")
        wrapped: list[str] = []
        for index, line in enumerate(lines):
            wrapped.append(
                textwrap.fill(
                    line,
                    TEXT_WIDTH,
                    initial_indent=first if index == 0 else rest,
                    subsequent_indent=rest,
                    break_long_words=False,  # a URL stays whole
                    break_on_hyphens=False,
                )
                or rest.rstrip()
            )
        self.blocks.append(("\n".join(wrapped), self._item))
        self._item = False

    def text(self) -> str:
        self._flush()
        parts: list[str] = []
        for index, (block, item) in enumerate(self.blocks):
            if index:
                # The items of one list stay together; every other block stands apart.
                parts.append("\n" if item and self.blocks[index - 1][1] else "\n\n")
            parts.append(block)
        return "".join(parts) + "\n"


def html_to_text(html: str) -> str:
    """The plain-text alternative of a message's HTML (see :class:`_TextMaker`)."""
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    return maker.text()
