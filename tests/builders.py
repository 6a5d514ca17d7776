"""Sample domain objects for tests and benchmarks: one of each, changed where it matters.

A test that cares about a field passes it explicitly, so the default values below never
carry a test's meaning; change them and only tests that do not care should notice.
"""

from __future__ import annotations

import datetime as dt

from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Region, ReportDraft, ReportType

CIANJUR = Region("32", "32.03")


def a_draft(
    *,
    type: ReportType = ReportType.COMPLAINT,
    title: str = "Jalan berlubang di depan pasar",
    description: str = "Lubang besar di depan pasar membahayakan pengendara motor setiap malam.",
    category: str = "infrastruktur.jalan",
    region: Region = CIANJUR,
    incident_date: dt.date | None = None,
    target_agency_id: str | None = None,
    anonymous: bool = False,
    confidential: bool = False,
) -> ReportDraft:
    """A citizen's road complaint in Cianjur, named to nobody, neither anonymous nor
    confidential."""
    return ReportDraft(
        type=type,
        title=title,
        description=description,
        category=category,
        region=region,
        incident_date=incident_date,
        target_agency_id=target_agency_id,
        anonymous=anonymous,
        confidential=confidential,
    )


def an_identity(
    *,
    name: str | None = "Siti Aminah",
    email: str | None = "siti@example.id",
    phone: str | None = "+6281234567890",
) -> ReporterIdentity:
    """A reporter who gave a name, an e-mail address and a phone number."""
    return ReporterIdentity(name=name, email=email, phone=phone)
