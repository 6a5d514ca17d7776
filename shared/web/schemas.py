"""The shapes citizens send, validated at the edge with pydantic v2.

Every field is bounded; unknown fields are refused; codes must exist in the
reference data. Error ``type`` values are stable codes (``too_short``,
``unknown_category``, ...) that :mod:`shared.web.i18n` turns into Bahasa Indonesia
or English, so the API and the form speak the same language about the same error.
Cross-field rules (regency inside the province, district inside the regency and village
inside the district, a point that can lie in the regency, contact details unless
anonymous)
are field validators that read the fields validated before them, so one request
gets every error at once, each on its own field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from shared.domain.geo import in_indonesia, is_valid
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import GeoPoint, Region, ReportDraft, ReportType
from shared.usecases.lost_link import Contact
from shared.web.catalog import Catalog

TITLE_MIN, TITLE_MAX = 10, 150
DESCRIPTION_MIN, DESCRIPTION_MAX = 30, 5000
NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MAX = 20
ADDRESS_MAX = 200
EARLIEST_INCIDENT = dt.date(2000, 1, 1)
TIMEZONE = ZoneInfo("Asia/Jakarta")

# Control characters other than tab and newlines never belong in a report.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# Indonesian numbers: +62 / 62 / 0, then an area or mobile prefix (not 0), 7 to 12 digits.
_PHONE = re.compile(r"^(?:\+62|62|0)([1-9]\d{6,11})$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")

ReportTypeIn = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]


def _err(code: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(code, message, ctx or None)


def _catalog(info: ValidationInfo) -> Catalog:
    """The running reference's catalog, which the caller hands in the context
    (``context={"catalog": catalog_of(reference)}``): a report is checked against the
    agencies that run now, never the bundled ones."""
    context = info.context or {}
    found = context.get("catalog") if isinstance(context, dict) else None
    if not isinstance(found, Catalog):
        raise TypeError("ReportIn is validated with context={'catalog': catalog_of(reference)}")
    return found


def _today(info: ValidationInfo) -> dt.date:
    context = info.context or {}
    found = context.get("today") if isinstance(context, dict) else None
    return found if isinstance(found, dt.date) else dt.datetime.now(TIMEZONE).date()


def _again(error: ErrorDetails) -> InitErrorDetails:
    """An error caught from an inner validation, re-raisable with others (same type and ctx)."""
    return {
        "type": PydanticCustomError(
            error["type"], error["msg"].replace("{", "(").replace("}", ")"), error.get("ctx")
        ),
        "loc": tuple(error["loc"]),
        "input": error.get("input"),
    }


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _clean_text(value: str) -> str:
    if _CONTROL.search(value):
        raise _err("invalid_text", "text contains control characters")
    return value


def normalize_phone(value: str) -> str:
    """``0812-3456-7890`` → ``+6281234567890``, or ValueError."""
    compact = _PHONE_SEPARATORS.sub("", value)
    match = _PHONE.fullmatch(compact)
    if not match:
        raise ValueError(value)
    return f"+62{match.group(1)}"


def parse_contact(text: str) -> Contact:
    """What "Lost your link?" was given: an e-mail address, or an Indonesian phone
    number normalised as the form stores it; ValueError for neither."""
    value = text.strip()
    if "@" in value:
        if len(value) > EMAIL_MAX or not _EMAIL.fullmatch(value):
            raise ValueError("not an email address")
        return Contact("email", value)
    if len(value) > PHONE_MAX:
        raise ValueError("not a phone number")
    return Contact("sms", normalize_phone(value))


# The one example of a valid report: in the JSON Schema, the OpenAPI document and tests.
REPORT_EXAMPLE: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Jalan berlubang di Jalan Raya Cianjur",
    "description": (
        "Sudah tiga bulan jalan di depan pasar berlubang besar dan membahayakan "
        "pengendara motor, terutama saat hujan."
    ),
    "category": "infrastruktur.jalan",
    "province_code": "32",
    "regency_code": "32.03",
    "incident_date": "2025-01-15",
    "anonymous": False,
    "confidential": False,
    "reporter": {
        "name": "Siti Rahayu",
        "email": "siti@contoh.id",
        "phone": "0812-3456-7890",
    },
}


class ReporterIn(BaseModel):
    """How to reach the reporter. Stored apart from the report; never published."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=NAME_MAX, examples=["Siti Rahayu"])
    email: str | None = Field(default=None, max_length=EMAIL_MAX, examples=["siti@contoh.id"])
    phone: str | None = Field(
        default=None,
        max_length=PHONE_MAX,
        description="Indonesian number: +62…, 62… or 0…; stored as +62…",
        examples=["0812-3456-7890"],
    )

    @field_validator("name", "email", "phone", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_to_none(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _clean_text(value) if value is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _EMAIL.fullmatch(value):
            raise _err("invalid_email", "not an email address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_phone(value)
        except ValueError:
            raise _err("invalid_phone", "not an Indonesian phone number") from None


class ReportIn(BaseModel):
    """A report as a citizen submits it, through the form or ``POST /api/v1/reports``."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        title="ReportIn",
        json_schema_extra={"examples": [REPORT_EXAMPLE]},
    )

    type: ReportTypeIn = Field(
        description="pengaduan (complaint), aspirasi (aspiration), permintaan_informasi"
    )
    title: str = Field(min_length=TITLE_MIN, max_length=TITLE_MAX)
    description: str = Field(min_length=DESCRIPTION_MIN, max_length=DESCRIPTION_MAX)
    category: Code = Field(description="A category id from the reference data")
    province_code: str = Field(max_length=2, description="Kemendagri province code, e.g. 32")
    regency_code: str | None = Field(
        default=None,
        max_length=5,
        description="Kemendagri regency/city code inside the province, e.g. 32.03",
    )
    district_code: str | None = Field(
        default=None,
        max_length=8,
        description="Kemendagri district (kecamatan) code inside the regency, e.g. 32.03.11",
    )
    village_code: str | None = Field(
        default=None,
        max_length=13,
        description="Kemendagri village (desa/kelurahan) code inside the district, "
        "e.g. 32.03.11.2001; needs district_code",
    )
    address: str | None = Field(
        default=None,
        max_length=ADDRESS_MAX,
        description="Street, landmark (optional); shown to the agency, never published",
    )
    latitude: float | None = Field(
        default=None,
        description="WGS84 degrees, with longitude; must plausibly lie in the regency",
        examples=[-6.8167],
    )
    longitude: float | None = Field(
        default=None,
        validate_default=True,
        description="WGS84 degrees, with latitude",
        examples=[107.0667],
    )
    incident_date: dt.date | None = Field(default=None, description="Not in the future")
    target_agency_id: str | None = Field(
        default=None, max_length=80, description="Send straight to this agency (optional)"
    )
    anonymous: bool = Field(default=False, description="Hide the reporter's identity")
    confidential: bool = Field(default=False, description="Keep the report off public pages")
    show_attachments: bool = Field(
        default=False, description="Show the files on the public page (a public report only)"
    )
    reporter: ReporterIn | None = Field(
        default=None,
        validate_default=True,
        description="Required (a name and an email or phone) unless anonymous",
    )

    @field_validator(
        "regency_code",
        "district_code",
        "village_code",
        "address",
        "latitude",
        "longitude",
        "incident_date",
        "target_agency_id",
        "reporter",
        mode="before",
    )
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_to_none(value)

    @field_validator("title", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean_text(value)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return _clean_text(value) if value is not None else None

    @field_validator("category")
    @classmethod
    def _category(cls, value: str, info: ValidationInfo) -> str:
        if value not in _catalog(info).category_names:
            raise _err("unknown_category", "unknown category")
        return value

    @field_validator("province_code")
    @classmethod
    def _province(cls, value: str, info: ValidationInfo) -> str:
        if value not in _catalog(info).province_names:
            raise _err("unknown_province", "unknown province")
        return value

    @field_validator("regency_code")
    @classmethod
    def _regency(cls, value: str | None, info: ValidationInfo) -> str | None:
        known = _catalog(info)
        province = info.data.get("province_code")
        if value is None:
            # Where the reference lists regencies for the province, the report must
            # name one: routing rules are per regency.
            if province and known.regencies.get(province):
                raise _err("regency_required", "choose a regency or city")
            return None
        if value not in known.regency_province:
            raise _err("unknown_regency", "unknown regency or city")
        if province and known.regency_province[value] != province:
            raise _err("regency_not_in_province", "regency is not in the province")
        return value

    @field_validator("district_code")
    @classmethod
    def _district(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        known = _catalog(info)
        if value.count(".") != 2 or not known.has_place(value):
            raise _err("unknown_district", "unknown district")
        regency = info.data.get("regency_code")
        if regency and not known.is_within(value, regency):
            raise _err("district_not_in_regency", "district is not in the regency")
        return value

    @field_validator("village_code")
    @classmethod
    def _village(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        known = _catalog(info)
        if value.count(".") != 3 or not known.has_place(value):
            raise _err("unknown_village", "unknown village")
        district = info.data.get("district_code")
        if district is None and "district_code" in info.data:
            raise _err("district_required", "a village needs its district")
        if district and not known.is_within(value, district):
            raise _err("village_not_in_district", "village is not in the district")
        return value

    @field_validator("latitude")
    @classmethod
    def _latitude(cls, value: float | None) -> float | None:
        if value is not None and not is_valid(GeoPoint(value, 0.0)):
            raise _err("invalid_coordinate", "not a WGS84 latitude")
        return value

    @field_validator("longitude")
    @classmethod
    def _point(cls, value: float | None, info: ValidationInfo) -> float | None:
        # Checked here, the last of the two, so that the point is judged whole.
        if value is not None and not is_valid(GeoPoint(0.0, value)):
            raise _err("invalid_coordinate", "not a WGS84 longitude")
        if "latitude" not in info.data:  # the latitude failed: that error says enough
            return value
        latitude = info.data["latitude"]
        if (latitude is None) != (value is None):
            raise _err("point_incomplete", "give both latitude and longitude, or neither")
        if latitude is None or value is None:
            return value
        point = GeoPoint(latitude, value)
        if not in_indonesia(point):
            raise _err("point_outside_indonesia", "the point is outside Indonesia")
        regency = info.data.get("regency_code")
        if regency and _catalog(info).point_plausible(point, regency) is False:
            raise _err("point_outside_regency", "the point is outside the regency")
        return value

    @field_validator("incident_date")
    @classmethod
    def _incident_date(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if value is None:
            return None
        if value > _today(info):
            raise _err("future_date", "the incident date is in the future")
        if value < EARLIEST_INCIDENT:
            raise _err("date_too_old", "the incident date is too old", min=str(EARLIEST_INCIDENT))
        return value

    @field_validator("target_agency_id")
    @classmethod
    def _agency(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value not in _catalog(info).agency_names:
            raise _err("unknown_agency", "unknown agency")
        return value

    @field_validator("reporter", mode="wrap")
    @classmethod
    def _contact(
        cls, value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> ReporterIn | None:
        # Wrapped so that a malformed email and a missing name are reported together.
        errors: list[InitErrorDetails] = []
        result: ReporterIn | None = None
        try:
            result = handler(value)
        except ValidationError as invalid:
            errors = [_again(error) for error in invalid.errors()]
        if info.data.get("anonymous", False):
            if errors:
                raise ValidationError.from_exception_data("ReporterIn", errors)
            return result
        raw: dict[str, Any] = value if isinstance(value, dict) else {}
        failed = {error["loc"][0] for error in errors if error["loc"]}

        def given(name: str) -> bool:
            if result is not None:
                return bool(getattr(result, name))
            return name in failed or bool(str(raw.get(name) or "").strip())

        if not given("name"):
            errors.append(
                {
                    "type": _err("name_required", "a name is required"),
                    "loc": ("name",),
                    "input": None,
                }
            )
        if not (given("email") or given("phone")):
            errors.append(
                {
                    "type": _err("contact_required", "an email or phone is required"),
                    "loc": ("email",),
                    "input": None,
                }
            )
        if errors:
            raise ValidationError.from_exception_data("ReporterIn", errors)
        return result

    def to_domain(self) -> tuple[ReportDraft, ReporterIdentity]:
        draft = ReportDraft(
            type=ReportType(self.type),
            title=self.title,
            description=self.description,
            category=self.category,
            region=Region(
                self.province_code, self.regency_code, self.district_code, self.village_code
            ),
            incident_date=self.incident_date,
            target_agency_id=self.target_agency_id,
            anonymous=self.anonymous,
            confidential=self.confidential,
            address=self.address,
            point=(
                GeoPoint(self.latitude, self.longitude)
                if self.latitude is not None and self.longitude is not None
                else None
            ),
            show_attachments=self.show_attachments,
        )
        contact = self.reporter or ReporterIn()
        return draft, ReporterIdentity(contact.name, contact.email, contact.phone)


class SubmittedOut(BaseModel):
    """What ``POST /api/v1/reports`` answers: keep ``reporter_token`` secret."""

    tracking_code: str = Field(examples=["K7M-2XQ-9RJ"])
    reporter_token: str = Field(description="Secret: shows private details and lets you act")
    tracking_url: str = Field(description="Private link for the reporter (holds the token)")
    status: str = Field(examples=["submitted"])
    status_label: str = Field(examples=["Belum Terverifikasi"])


class TimelineEventOut(BaseModel):
    seq: int
    action: str
    action_label: str = Field(description="A disposition's says how it was routed")
    at: dt.datetime
    actor_role: str
    from_state: str | None
    to_state: str
    message: str | None = None
    reason: str | None = Field(default=None, description="Reporter only")


class ReporterOut(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class ReportOut(BaseModel):
    """A report as its asker may see it: the public view, or the reporter's with the token."""

    audience: Literal["public", "reporter"]
    tracking_code: str
    type: str
    title: str
    description: str
    category: str
    province_code: str
    regency_code: str | None
    incident_date: dt.date | None
    anonymous: bool
    confidential: bool
    state: str
    status_label: str
    submitted_at: dt.datetime
    verify_due: dt.date
    resolve_due: dt.date | None = Field(description="None until the report is dispositioned")
    clock_due: dt.date | None = Field(
        default=None,
        description="Due date of the clock of the current state (verification while "
        "submitted, resolution while dispositioned or in progress); None when none runs",
    )
    overdue: bool = Field(description="The current state's clock ran out before today")
    age_working_days: int = Field(description="Working days since submission (to the end)")
    updated_at: dt.datetime
    auto_close_due: dt.date | None = None
    agency_id: str | None
    target_agency_id: str | None = Field(default=None, description="Reporter only")
    rating: int | None = None
    place: PlaceOut
    attachments: list[AttachmentOut] = Field(
        description="The reporter's always; the public's only on a public report whose "
        "reporter chose to show them (else empty)"
    )
    show_attachments: bool | None = Field(
        default=None, description="Reporter only: whether the public may see the files"
    )
    timeline: list[TimelineEventOut]
    reporter: ReporterOut | None = Field(default=None, description="Reporter only")
    contact_erased: Literal["reporter", "retention"] | None = Field(
        default=None,
        description="Reporter only: the name and contact details were erased, at the "
        "reporter's request or after the retention period; null while they are held",
    )


class FieldErrorOut(BaseModel):
    field: str = Field(examples=["title"])
    code: str = Field(examples=["too_short"])
    message: str = Field(examples=["Minimal 10 karakter."])


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(examples=["urn:lapor:problem:validation"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldErrorOut] | None = Field(default=None, description="One entry per field")


# --- the APIs' files and place (shared/web/reporter_api.py, shared/web/agency_app.py) ---

# What a client may declare it will PUT; what the file is, is judged from its bytes.
UploadMediaType = Literal[
    "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf"
]
UPLOAD_MEDIA_TYPES: tuple[str, ...] = get_args(UploadMediaType)
UPLOAD_NAME_MAX = 255
UPLOAD_EXAMPLE: dict[str, Any] = {
    "name": "jalan.jpg",
    "media_type": "image/jpeg",
    "size": 2_400_000,
}


# An upload's id as POST /api/v1/uploads gives it (shared.usecases.evidence.upload_slot).
UPLOAD_ID_PATTERN = r"^u[0-9a-f]{32}$"
# No deployment takes more files per request (Settings.attachment_max_count is at most
# this); the configured count is enforced with the files' own refusal (too_many).
UPLOADS_MAX = 20
UploadId = Annotated[str, StringConstraints(pattern=UPLOAD_ID_PATTERN)]


def _distinct_uploads(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise _err("duplicate_upload", "the same upload is named more than once")
    return value


# The files a report or an action names: each uploaded beforehand, named once.
UploadIds = Annotated[
    list[UploadId],
    Field(
        max_length=UPLOADS_MAX,
        description="upload_id of each file PUT through POST /api/v1/uploads, in order",
    ),
    AfterValidator(_distinct_uploads),
]


class AttachmentsIn(BaseModel):
    """The files an API action names, beside the action's own fields."""

    model_config = ConfigDict(extra="ignore")

    attachments: UploadIds = Field(default_factory=list)


class ApiReportIn(ReportIn):
    """A report through ``POST /api/v1/reports`` as JSON: ReportIn, and the files
    uploaded beforehand through ``POST /api/v1/uploads`` (their ids)."""

    model_config = ConfigDict(title="ApiReportIn", json_schema_extra={"examples": [REPORT_EXAMPLE]})

    attachments: UploadIds = Field(default_factory=list)


class UploadIn(BaseModel):
    """Ask for a signed URL to PUT one file to storage (``POST /api/v1/uploads``)."""

    model_config = ConfigDict(
        extra="forbid", title="UploadIn", json_schema_extra={"examples": [UPLOAD_EXAMPLE]}
    )

    name: str | None = Field(
        default=None,
        max_length=UPLOAD_NAME_MAX,
        description="The file's name on the device, for messages about it; never stored",
    )
    media_type: UploadMediaType = Field(
        description="The Content-Type the PUT must send. A file is judged by its bytes "
        "when the report is submitted, not by this"
    )
    size: StrictInt = Field(
        ge=1,
        description="Bytes; storage refuses a larger PUT, and more than the per-file "
        "limit is refused here (422 files-refused)",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _clean_text(value) if value is not None else None


class UploadOut(BaseModel):
    """Where to PUT the file: send exactly ``headers``, before ``expires_at``; then name
    ``upload_id`` in the report's (or the action's) ``attachments``."""

    upload_id: str = Field(examples=["u3f9c2a7d1e4b8a6c0f5d2e9b7a1c3e8"])
    upload_url: str
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="Part of the signature: send each as given")
    expires_at: dt.datetime
    max_bytes: int = Field(description="The most the PUT may carry")


class PlaceOut(BaseModel):
    """Where it happened. The public sees no address and the point rounded to 3
    decimals (about 110 m); the reporter and the agency see it exactly."""

    district_code: str | None = Field(description="Kemendagri district (kecamatan) code")
    village_code: str | None = Field(description="Kemendagri village (desa/kelurahan) code")
    address: str | None = Field(description="Free text or landmark; never public")
    latitude: float | None = Field(description="WGS84 degrees")
    longitude: float | None = Field(description="WGS84 degrees")
    precision: Literal["exact", "rounded"]


class AttachmentOut(BaseModel):
    """One file of a report, with short-lived signed links to it (GET them as they are)."""

    id: str = Field(examples=["f1a2b3c4d5e"])
    media_type: Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
    size: int = Field(description="Bytes as stored (an image re-encoded without metadata)")
    width: int
    height: int
    pages: int
    has_thumbnail: bool
    added_by: Literal["reporter", "agency"]
    added_seq: int = Field(description="The timeline event that added it (1: the submission)")
    file_name: str = Field(examples=["lampiran-f1a2b3c4d5e.jpg"])
    url: str = Field(description="Signed GET of the file, valid until url_expires_at")
    thumbnail_url: str | None = Field(description="Signed GET of a 320 px WebP (images)")
    url_expires_at: dt.datetime
