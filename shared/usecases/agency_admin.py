"""Running an agency from the console: where it is told, its webhook secret, its API keys.

Who may do what (the same agency tree as :mod:`shared.usecases.agency`):

- the national admin runs every agency;
- an agency admin runs its own agency and every agency or unit below it
  (:func:`managed_agencies`);
- a unit officer runs nothing (:class:`NotAllowed`).

An agency outside the admin's reach answers :class:`NotFound`, exactly like an unknown
one, and so does a key of such an agency. A refused form raises :class:`Invalid` with a
code per field (the pages say each in both languages). Every change commits with its
change-log entry (``channels.updated``, ``webhook.secret_rotated``, ``api_key.issued``,
``api_key.revoked``); a test delivery changes nothing but is recorded too
(``webhook.tested``). Entries never hold a secret, a key or a webhook URL (a URL may
carry the agency's own token in its path): only that the URL changed.

The functions:

- :func:`channels` / :func:`update_channels`: ``agencies/{id}.notification``, which notify
  and the hourly digest read. A webhook is https; plain http only to a loopback host and
  only where ``webhook_loopback_http`` is on (the local stack's receiver).
- :func:`test_webhook`: a signed Standard Webhooks ``webhook.ping`` POSTed at once through
  the same sender notify uses; the answer (status, outcome) is returned and recorded.
- :func:`rotate_secret`: a new ``whsec_`` secret, returned to be shown once; the one it
  replaces still signs beside it for ``webhook_secret_overlap_hours`` (24 by default), so
  the agency's receiver verifies either while it switches (the ``webhook-signature``
  header then holds both signatures).
- :func:`api_keys`, :func:`issue_api_key` (the key is returned once, stored only as its
  SHA-256), :func:`revoke_api_key`: a role up to the admin's own. They take
  :class:`~shared.ports.ApiKeyPorts` (``AgencyAdminPorts.keys``), so
  ``python -m tools.api_keys`` calls them too, as ``system``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from pydantic import ValidationError

from shared.adapters.webhooks import new_secret
from shared.domain import staff as staff_rules
from shared.domain.report import Role
from shared.ports import (
    AgencyAdminPorts,
    AgencyChannel,
    ApiKeyPorts,
    ApiKeyRecord,
    AuditEntry,
    ChannelChoice,
    SendResult,
)
from shared.reference import MAX_AGENCY_EMAILS, Notification, Reference, is_email
from shared.usecases.agency import API_KEY_PREFIX, STAFF_ROLES, Caller, key_hash

WEBHOOK_URL_MAX = 500
EMAIL_MAX = 254
LABEL_MAX = 80
PING = "webhook.ping"
_LOOPBACK_NAMES = frozenset({"localhost"})


class NotAllowed(Exception):
    """The caller may not do this at all (an officer; a role above the caller's own)."""


class NotFound(Exception):
    """No such agency or key within the caller's reach (told apart from neither)."""


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one line of the addresses (1-based, blank lines counted, as
    the admin sees them): ``email-invalid``, or ``email-duplicate`` of line ``same_as``."""

    line: int
    code: str
    same_as: int | None = None


class Invalid(Exception):
    """A form refused: field name -> problem code (and, for ``emails``, what is wrong
    with which line); nothing changed."""

    def __init__(self, problems: Mapping[str, str], lines: Sequence[LineProblem] = ()) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)
        self.lines = tuple(lines)


# --- who runs what --------------------------------------------------------------------


def managed_agencies(caller: Caller, reference: Reference) -> frozenset[str]:
    """The agencies ``caller`` runs: every one (national admin), its own and those below
    it (agency admin), none (anyone else)."""
    if caller.role is Role.NATIONAL_ADMIN:
        return frozenset(agency.id for agency in reference.agencies)
    if caller.role is Role.AGENCY_ADMIN and reference.has_agency(caller.agency_id):
        return reference.descendants(caller.agency_id)
    return frozenset()


def _require_managed(caller: Caller, agency_id: str, reference: Reference) -> None:
    if not caller.is_admin:
        raise NotAllowed
    if agency_id not in managed_agencies(caller, reference):
        raise NotFound


def assignable_roles(caller: Caller) -> tuple[Role, ...]:
    """The roles ``caller`` may give a key, as it may give an account
    (shared.domain.staff.may_grant): its own and those below it, highest first."""
    return tuple(
        role for role in staff_rules.STAFF_ROLES if staff_rules.may_grant(caller.role, role)
    )


def _entry(
    caller: Caller,
    at: dt.datetime,
    kind: str,
    agency_id: str,
    target: str,
    details: Mapping[str, str] | None = None,
) -> AuditEntry:
    return AuditEntry(
        at=at,
        agency_id=agency_id,
        actor_id=caller.actor_id,
        actor_name=caller.key_label,
        kind=kind,
        target=target,
        details=dict(details or {}),
    )


# --- channels -------------------------------------------------------------------------


def channels(caller: Caller, agency_id: str, ports: AgencyAdminPorts) -> AgencyChannel:
    """The agency's channels as notify reads them (the secret's presence, never shown)."""
    _require_managed(caller, agency_id, ports.reference)
    found = ports.store.agency_channel(agency_id)
    if found is None:
        raise NotFound
    return found


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_internal(host: str) -> bool:
    """A host that is not on the public internet: the platform's own (the metadata
    server, ``*.internal``), or a private, link-local or reserved address. The test
    delivery POSTs from inside the deployment, so an admin must not aim it there."""
    name = host.lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith((".internal", ".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def _webhook_problem(url: str, loopback_http: bool) -> str | None:
    if len(url) > WEBHOOK_URL_MAX:
        return "webhook-too-long"
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "webhook-invalid"
    if loopback_http and _is_loopback(host):
        return None  # the local stack's receiver
    if _is_internal(host):
        return "webhook-not-public"
    return None if parts.scheme == "https" else "webhook-not-https"


def _refused_by_reference(**field: str) -> bool:
    """Whether the reference files' own check refuses this one field."""
    try:
        Notification.model_validate(field)
    except ValidationError:
        return True
    return False


def _email_problems(lines: Sequence[str]) -> tuple[tuple[str, ...], list[LineProblem]]:
    """The addresses on ``lines`` (lower-cased; blank lines skipped) and what is wrong
    with which line: not an address, or one already named on an earlier line."""
    addresses: list[str] = []
    first_line: dict[str, int] = {}
    wrong: list[LineProblem] = []
    for number, line in enumerate(lines, start=1):
        address = line.strip().lower()
        if not address:
            continue
        if len(address) > EMAIL_MAX or not is_email(address):
            wrong.append(LineProblem(number, "email-invalid"))
        elif address in first_line:
            wrong.append(LineProblem(number, "email-duplicate", same_as=first_line[address]))
        else:
            first_line[address] = number
            addresses.append(address)
    return tuple(addresses), wrong


def validate_channels(
    webhook_url: str, emails: Sequence[str], digest: bool, *, loopback_http: bool
) -> ChannelChoice:
    """The choice a form sent, checked as the reference files' notification is (an
    http(s) URL with no credentials or query string; e-mail addresses, one per line, no
    line twice, at most MAX_AGENCY_EMAILS; a digest only of e-mail) and, on top, https
    only; :class:`Invalid` otherwise, naming each wrong line."""
    url = webhook_url.strip()
    addresses, wrong_lines = _email_problems(emails)
    problems: dict[str, str] = {}
    if url:
        problem = _webhook_problem(url, loopback_http)
        if problem is None and _refused_by_reference(webhook_url=url):
            problem = "webhook-invalid"  # a user name, a password or a query string
        if problem:
            problems["webhook_url"] = problem
    if wrong_lines:
        problems["emails"] = "emails-invalid"
    elif len(addresses) > MAX_AGENCY_EMAILS:
        problems["emails"] = "emails-too-many"
    if digest and not addresses and not wrong_lines:
        problems["digest"] = "digest-needs-email"
    if problems:
        raise Invalid(problems, wrong_lines)
    return ChannelChoice(webhook_url=url or None, emails=addresses, digest=digest)


def _changes(before: AgencyChannel, after: ChannelChoice) -> dict[str, str]:
    """What changed, for the change log: never the URL itself."""
    details: dict[str, str] = {}
    if before.webhook_url != after.webhook_url:
        if after.webhook_url is None:
            details["webhook"] = "removed"
        else:
            details["webhook"] = "set" if before.webhook_url is None else "changed"
    if before.emails != after.emails:
        details["emails"] = ", ".join(after.emails) or "removed"
    if before.digest != after.digest:
        details["digest"] = "hourly" if after.digest else "immediate"
    return details


def update_channels(
    caller: Caller,
    agency_id: str,
    *,
    webhook_url: str,
    emails: Sequence[str],
    digest: bool,
    ports: AgencyAdminPorts,
) -> ChannelChoice:
    """Set where the agency is told (``emails``: the addresses, one per line as typed);
    a choice that changes nothing records nothing."""
    before = channels(caller, agency_id, ports)
    choice = validate_channels(
        webhook_url, emails, digest, loopback_http=ports.settings.webhook_loopback_http
    )
    details = _changes(before, choice)
    if details:
        entry = _entry(caller, ports.clock.now(), "channels.updated", agency_id, agency_id, details)
        ports.store.save_channels(agency_id, choice, entry)
    return choice


@dataclass(frozen=True)
class WebhookTest:
    at: dt.datetime
    result: SendResult
    signatures: int  # 2 while a rotated secret still signs beside the new one


def test_webhook(caller: Caller, agency_id: str, ports: AgencyAdminPorts) -> WebhookTest:
    """POST a signed ping to the agency's webhook now, and record how it answered.
    Invalid when there is no webhook or no secret to sign with."""
    channel = channels(caller, agency_id, ports)
    now = ports.clock.now()
    if channel.webhook_url is None:
        raise Invalid({"webhook_url": "no-webhook"})
    signing = channel.signing_secrets(now)
    if not signing:
        raise Invalid({"secret": "no-secret"})
    message_id = f"ping.{agency_id}.{secrets.token_hex(8)}"
    payload = {
        "type": PING,
        "agency_id": agency_id,
        "notification_id": message_id,
        "sent_at": now.isoformat(),
    }
    result = ports.sender.send(channel.webhook_url, signing, message_id, payload, now)
    details = {"outcome": result.outcome.value, "signatures": str(len(signing))}
    if result.status_code is not None:
        details["status_code"] = str(result.status_code)
    ports.audit.record(_entry(caller, now, "webhook.tested", agency_id, agency_id, details))
    return WebhookTest(now, result, len(signing))


@dataclass(frozen=True)
class RotatedSecret:
    secret: str  # shown once, on the page that answers the rotation
    previous_until: dt.datetime | None  # when the replaced one stops signing (None: none)


def rotate_secret(caller: Caller, agency_id: str, ports: AgencyAdminPorts) -> RotatedSecret:
    """A new signing secret for the agency; the current one keeps signing beside it for
    ``webhook_secret_overlap_hours``."""
    before = channels(caller, agency_id, ports)
    now = ports.clock.now()
    until = now + dt.timedelta(hours=ports.settings.webhook_secret_overlap_hours)
    secret = new_secret()
    details = {"previous_valid_until": until.isoformat()} if before.secret else {}
    entry = _entry(caller, now, "webhook.secret_rotated", agency_id, agency_id, details)
    ports.store.rotate_secret(agency_id, secret, until, entry)
    return RotatedSecret(secret, until if before.secret else None)


# --- API keys -------------------------------------------------------------------------


def new_api_key() -> str:
    """``lpr_`` and 32 random bytes (urlsafe base64): 256 bits, so an unsalted SHA-256
    is a safe way to store it (shared.usecases.agency.key_hash)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_keys(caller: Caller, agency_id: str | None, ports: ApiKeyPorts) -> list[ApiKeyRecord]:
    """The keys of ``agency_id`` and the agencies below it (None: of every agency the
    caller runs), revoked ones too, newest first."""
    if not caller.is_admin:
        raise NotAllowed
    if agency_id is None:
        if caller.role is Role.NATIONAL_ADMIN:
            return ports.store.api_keys(None)
        return ports.store.api_keys(sorted(managed_agencies(caller, ports.reference)))
    _require_managed(caller, agency_id, ports.reference)
    return ports.store.api_keys(sorted(ports.reference.descendants(agency_id)))


@dataclass(frozen=True)
class IssuedKey:
    key: str  # shown once, on the page that answers the POST; stored only as its hash
    record: ApiKeyRecord


def issue_api_key(
    caller: Caller, agency_id: str, role: Role | str, label: str, ports: ApiKeyPorts
) -> IssuedKey:
    """A new key for ``agency_id`` with ``role`` (the caller's own or below)."""
    _require_managed(caller, agency_id, ports.reference)
    problems: dict[str, str] = {}
    try:
        wanted = Role(role)
    except ValueError:
        wanted = Role.REPORTER  # refused just below
    if wanted not in STAFF_ROLES:
        problems["role"] = "role-invalid"
    elif wanted not in assignable_roles(caller):
        raise NotAllowed
    name = " ".join(label.split())
    if not name or len(name) > LABEL_MAX:
        problems["label"] = "label-invalid"
    if problems:
        raise Invalid(problems)
    now = ports.clock.now()
    key = new_api_key()
    record = ApiKeyRecord(
        key_hash=key_hash(key),
        agency_id=agency_id,
        role=wanted,
        label=name,
        created_at=now,
        created_by=caller.key_label,
    )
    details = {"role": wanted.value, "label": name}
    entry = _entry(caller, now, "api_key.issued", agency_id, record.key_hash, details)
    ports.store.create_api_key(record, entry)
    return IssuedKey(key, record)


def revoke_api_key(caller: Caller, key_id: str, ports: ApiKeyPorts) -> ApiKeyRecord:
    """Revoke the key whose hash is ``key_id``; revoking a revoked key changes nothing.
    Returns the key as it is now."""
    if not caller.is_admin:
        raise NotAllowed
    record = ports.store.api_key(key_id) if len(key_id) == 64 else None
    if record is None or record.agency_id not in managed_agencies(caller, ports.reference):
        raise NotFound
    if record.revoked:
        return record
    now = ports.clock.now()
    entry = _entry(
        caller, now, "api_key.revoked", record.agency_id, record.key_hash, {"label": record.label}
    )
    ports.store.revoke_api_key(record.key_hash, now, entry)
    return replace(record, revoked=True, revoked_at=now)
