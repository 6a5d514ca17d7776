"""Typed settings, read once per instance from the environment.

Every knob an agency might publish differently (deadlines, limits, local days off)
is here, so a deployment changes configuration, not code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from shared.domain.calendar import WorkingCalendar
from shared.domain.escalation import Tier, check_tiers
from shared.domain.report import DeadlinePolicy, ReportType

TOKEN_SECRET_MIN_LENGTH = 16


class MissingSecret(RuntimeError):
    """A function reads a secret it is not given (deployed, each secret is mounted only
    into the functions whose code reads it)."""


# The escalation tiers a deployment starts from; LAPOR_ESCALATION_TIERS (JSON) replaces them.
ESCALATION_TIERS_FILE = Path(__file__).resolve().parent / "reference" / "escalation.toml"


@lru_cache(maxsize=1)
def _bundled_escalation_tiers() -> tuple[dict[str, Any], ...]:
    """The bundled tiers as plain tables, read once per instance; Settings validates them."""
    with ESCALATION_TIERS_FILE.open("rb") as handle:
        return tuple(tomllib.load(handle).get("tier", ()))


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = "lapor-local"
    timezone: str = "Asia/Jakarta"
    # Keys every HMAC the app hands out or stores (reporter tokens, links, pseudonyms);
    # in production it comes from Secret Manager, mounted only into the functions that
    # use it (docs/secrets.md). Read it as ``token_secret``: unset, that raises.
    token_secret_value: str = Field(default="", alias="token_secret", repr=False)
    topic_report_submitted: str = "report-submitted"
    verify_days: int = Field(default=3, ge=1)
    aspiration_days: int = Field(default=5, ge=1)
    information_request_days: int = Field(default=5, ge=1)
    complaint_days: int = Field(default=14, ge=1)
    supervisory_complaint_days: int = Field(default=60, ge=1)
    auto_close_days: int = Field(default=10, ge=1)
    hold_silence_days: int = Field(default=10, ge=1)
    escalation_tiers: tuple[Tier, ...] = Field(
        default_factory=_bundled_escalation_tiers, validate_default=True
    )
    local_days_off: tuple[dt.date, ...] = ()
    # Accepted submissions per client per window. Generous: many Indonesian phones
    # share one carrier-grade NAT address.
    rate_limit_submits: int = Field(default=20, ge=1)
    rate_limit_window_s: int = Field(default=3600, ge=1)
    # How many proxies in front of us append to X-Forwarded-For (1 on Cloud Functions).
    trusted_proxy_hops: int = Field(default=0, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    # One Firestore call, its retries included: past it the request answers 503 with
    # Retry-After instead of waiting out the library's 60-300 s (firestore_outage.py).
    firestore_timeout_s: float = Field(default=10.0, gt=0)
    # One agency webhook POST, connect to last byte; a slower answer is retried later.
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # An agency admin may set a plain-HTTP webhook on a loopback host (127.0.0.1, ::1,
    # localhost) only where this is on: the local stack, whose receiver listens there.
    # Everywhere else a webhook is https.
    webhook_loopback_http: bool = False
    # After the console rotates an agency's signing secret, the previous one still
    # signs beside it this long, so the agency's receiver can switch over.
    webhook_secret_overlap_hours: int = Field(default=24, ge=1, le=24 * 7)
    # The agencies' webhook signing secrets are sealed at rest (shared/adapters/
    # signing_secrets.py, docs/secrets.md) as identities are, with a keyset pair of their
    # own: the console seals with the public one; notify (which signs every webhook) and
    # the console (its test ping) open with the private one. The keysets themselves
    # (deployed, from Secret Manager) or their files (the local stack).
    signing_public_keyset_file: str = ""
    signing_private_keyset_file: str = ""
    signing_public_keyset: str = ""
    signing_private_keyset: str = ""
    public_base_url: str = ""
    # Routing: where dispositions are announced, and how sure the keyword classifier
    # must be to route on its own (below it, the report waits in the admin queue).
    topic_agency_notifications: str = "agency-notifications"
    # Where what the reporter is told (e-mail, SMS) is announced.
    topic_reporter_notifications: str = "reporter-notifications"
    route_auto_threshold: float = Field(default=0.75, ge=0, le=1)
    # The outbox sweeper republishes entries still pending this long after their commit
    # (longer than a healthy publish plus a route takes), at most this many per run.
    outbox_sweep_age_s: int = Field(default=120, ge=0)
    outbox_sweep_limit: int = Field(default=500, ge=1)
    # The public dashboard ranks an agency only with at least this many reports in the
    # period shown: a share of three reports would mislead. Below it, listed unranked.
    public_min_reports: int = Field(default=10, ge=1)
    # Reports per page of the public list (/laporan).
    public_list_page_size: int = Field(default=20, ge=1, le=100)
    # The daily escalation run: reports per page of its due-reports query, and the
    # agency (in shared/reference/agencies.toml) that receives Ombudsman referrals.
    escalation_page_size: int = Field(default=200, ge=1, le=1000)
    ombudsman_agency_id: str = "ombudsman-ri"
    # Retention (docs/personal-data.md): a reporter's identity and contact details are
    # erased this many days after the report ended (closed or archived) by the daily
    # retention job, at most this many reports a run (the next run takes the rest).
    identity_retention_days: int = Field(default=365, ge=1)
    retention_run_limit: int = Field(default=2000, ge=1)
    # The agency API's base URL, for links in notifications (the Ombudsman's dossier).
    agency_url: str = ""
    # E-mail goes through an SMTP relay (shared/adapters/smtp.py): the host (none set:
    # no e-mail can be sent), submission port 587 with STARTTLS, AUTH when a user name
    # is set. The password comes from Secret Manager in production.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    # A CA certificate (PEM) to trust for the relay besides the system's: the local
    # stack's mail sink signs its own. Empty: the system's trust store only.
    smtp_ca_file: str = ""
    # One SMTP conversation's socket timeout (connect, and each reply after it).
    mail_timeout_s: float = Field(default=10.0, gt=0)
    # From: of every message; its domain also names the Message-IDs.
    mail_from: str = "Lapor <noreply@lapor.invalid>"
    # The published figures' counters: documents per day and scope, so one busy scope
    # (a regency's unrouted reports, a large agency) is not written more than about once
    # a second per document (Firestore's sustained rate for one document).
    figure_shards: int = Field(default=4, ge=1, le=100)
    # SMS goes through Infobip's SMS API (shared/adapters/sms.py): the account's base
    # URL (none set: no SMS can be sent; locally, tools/sms_sink.py), its API key (from
    # Secret Manager in production), the registered sender ID, and one request's
    # timeout, connect to last byte.
    sms_base_url: str = ""
    sms_api_key: SecretStr = SecretStr("")
    sms_sender: str = Field(default="LAPOR", min_length=3, max_length=14)
    sms_timeout_s: float = Field(default=10.0, gt=0)
    # "Lost your link?": requests per client per window (claimed like the submissions'
    # slots, no read on the way in), links sent again per report per day (Asia/Jakarta),
    # and the least time its answer takes, so that a match (which writes and publishes)
    # answers no later than a mismatch.
    lost_link_client_limit: int = Field(default=10, ge=1)
    lost_link_window_s: int = Field(default=3600, ge=1)
    lost_link_report_daily_limit: int = Field(default=3, ge=1, le=99)
    lost_link_min_response_s: float = Field(default=1.0, ge=0)
    # The agencies and routing rules the national admin edits in the console: how long
    # an instance serves the reference it built before it reads the version document
    # again (one read; everything only when the version changed). 0: every use.
    reference_refresh_s: float = Field(default=60.0, ge=0)
    # The staff console (functions/console): its public base URL (for the links in
    # invitation and password-reset e-mails), how long a session lives without a
    # request and at most, and whether its cookies drop ``Secure`` and the
    # ``__Host-`` prefix: only for plain-HTTP loopback (the local stack and the tests),
    # where a browser would refuse a Secure cookie.
    console_url: str = ""
    console_idle_minutes: int = Field(default=30, ge=1)
    console_absolute_hours: int = Field(default=12, ge=1)
    console_insecure_cookies: bool = False
    # "Forgot your password?" answers no sooner than this, known address or not.
    console_reset_min_response_s: float = Field(default=1.0, ge=0)
    # Staff sign-in (shared/usecases/staff.py): how long an invitation and a password
    # reset link stay usable, and how many sign-ins and reset requests one client may
    # make per window (past it: "try again later", before any account is looked up).
    staff_invitation_days: int = Field(default=7, ge=1)
    staff_reset_minutes: int = Field(default=60, ge=5)
    staff_client_limit: int = Field(default=30, ge=1)
    staff_client_window_s: int = Field(default=900, ge=1)
    # The Argon2id cost of a staff password hash: passes over memory (KiB). The defaults
    # are argon2-cffi's (RFC 9106's second recommendation, 3 passes over 64 MiB); a hash
    # made with other figures is redone at its owner's next sign-in.
    staff_hash_time_cost: int = Field(default=3, ge=1)
    staff_hash_memory_kib: int = Field(default=65536, ge=8192)
    # A report's attachments (shared.domain.attachments). The form posts them through
    # the submit function, whose request may not exceed 32 MiB on Cloud Functions: the
    # total stays well under it, and 5 photos of a phone's usual 2-4 MB take about two
    # minutes on a slow (2 Mbit/s) connection.
    attachment_max_count: int = Field(default=5, ge=1, le=20)
    attachment_max_file_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024)
    attachment_max_total_bytes: int = Field(
        default=20 * 1024 * 1024, ge=64 * 1024, le=30 * 1024 * 1024
    )
    # Decoded pixels of one photo (a 48 MP phone sensor fits; a decompression bomb does
    # not: 50 MP of RGBA is 200 MB of memory), and the stored photo's long side.
    attachment_max_pixels: int = Field(default=50_000_000, ge=1_000_000)
    attachment_max_long_side_px: int = Field(default=4096, ge=640)
    attachment_thumbnail_px: int = Field(default=320, ge=64, le=1024)
    # The malware scanner plugged in (shared/adapters/scanning.py); "none" scans nothing.
    attachment_scanner: Literal["none"] = "none"
    # The reports' files (shared/adapters/storage.py): the private bucket's name (set by
    # Terraform; locally the stack's, in fake-gcs-server), and a service-account key
    # file (JSON) to sign URLs with. No key file: URLs are signed through the IAM
    # signBlob API as the function's own service account, as deployed; the local stack
    # writes a generated key, as the emulator has no IAM.
    attachments_bucket: str = ""
    storage_signing_key_file: str = ""
    # How long a signed link to a file lives (shared.usecases.evidence.file_url): every
    # page link asks our route again, which checks who asks, so it can be short.
    attachment_url_ttl_s: int = Field(default=300, ge=30, le=3600)
    # How long a client's signed PUT of a direct upload lives (a slow phone's 8 MB).
    upload_url_ttl_s: int = Field(default=900, ge=60, le=3600)
    # Reporters' identities sealed at rest (shared/adapters/crypto.py): Tink JSON
    # keysets, as files (the local stack) or as the keysets themselves (deployed: from
    # Secret Manager, mounted only into the functions that hold identities).
    identity_public_keyset_file: str = ""
    identity_private_keyset_file: str = ""
    identity_public_keyset: str = ""
    identity_private_keyset: str = ""
    # Keys the digests of reporters' contacts kept beside the seal (shared.domain.contact),
    # so submit matches "Lost your link?" without opening identities: the key itself
    # (deployed, from Secret Manager) or a file (the local stack).
    contact_hash_key: str = ""
    contact_hash_key_file: str = ""
    # Deployed, the private identity keyset is stored encrypted under this Cloud KMS key
    # (gcp-kms://projects/.../cryptoKeys/...), opened through KMS by the functions that
    # hold it; unset (the local stack, tests), the keyset is in clear.
    identity_kms_key_uri: str = ""
    # Staff TOTP secrets sealed at rest (shared/adapters/firestore_staff.py): a Tink AEAD
    # keyset only the console holds (deployed, from Secret Manager) or a file (locally).
    totp_keyset: str = ""
    totp_keyset_file: str = ""

    @field_validator("local_days_off", mode="before")
    @classmethod
    def _split_dates(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _check_attachment_sizes(self) -> Settings:
        if self.attachment_max_file_bytes > self.attachment_max_total_bytes:
            raise ValueError(
                "LAPOR_ATTACHMENT_MAX_FILE_BYTES cannot exceed LAPOR_ATTACHMENT_MAX_TOTAL_BYTES"
            )
        return self

    @field_validator("token_secret_value")
    @classmethod
    def _check_token_secret(cls, value: str) -> str:
        if 0 < len(value) < TOKEN_SECRET_MIN_LENGTH:
            raise ValueError(
                f"LAPOR_TOKEN_SECRET needs at least {TOKEN_SECRET_MIN_LENGTH} characters"
            )
        return value

    @property
    def token_secret(self) -> str:
        """The token secret; a function not given it fails here, at its first use,
        rather than signing with an empty key."""
        value = self.token_secret_value
        if not value:
            raise MissingSecret(
                "LAPOR_TOKEN_SECRET is not set: this function is not given the token "
                "secret (infra/main.tf function_specs, docs/secrets.md)"
            )
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address or not address.rpartition("@")[2]:
            raise ValueError("LAPOR_MAIL_FROM needs an address: Name <user@domain>")
        return value

    @property
    def mail_from_address(self) -> str:
        """The bare address of ``mail_from`` (the SMTP envelope sender)."""
        return parseaddr(self.mail_from)[1]

    @property
    def mail_domain(self) -> str:
        return self.mail_from_address.rpartition("@")[2]

    @field_validator("escalation_tiers", mode="before")
    @classmethod
    def _parse_tiers(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("escalation_tiers")
    @classmethod
    def _check_tiers(cls, value: tuple[Tier, ...]) -> tuple[Tier, ...]:
        return check_tiers(value)

    @classmethod
    def environment_names(cls) -> dict[str, str]:
        """Each setting's environment variable -> the name Settings takes it by."""
        names = (field.alias or name for name, field in cls.model_fields.items())
        return {f"LAPOR_{name.upper()}": name for name in names}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {
            name: env[variable]
            for variable, name in cls.environment_names().items()
            if variable in env
        }
        values.setdefault("project", env.get("GOOGLE_CLOUD_PROJECT", "lapor-local"))
        return cls.model_validate(values)

    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(
            verify_days=self.verify_days,
            resolve_days={
                ReportType.ASPIRATION: self.aspiration_days,
                ReportType.INFORMATION_REQUEST: self.information_request_days,
                ReportType.COMPLAINT: self.complaint_days,
                ReportType.SUPERVISORY_COMPLAINT: self.supervisory_complaint_days,
            },
            auto_close_days=self.auto_close_days,
            hold_silence_days=self.hold_silence_days,
            tiers=self.escalation_tiers,
        )

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.local_days_off, self.timezone)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The instance's settings; tests that change the environment call cache_clear()."""
    return Settings.from_env()
