"""The citizen site names the agencies the national admin maintains: on the seeded
emulators, an agency created through the console's use case is offered on the form
once the reference is re-checked, a report naming it is accepted and routed to it, and
the tracking page shows its name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.domain.report import Role
from shared.usecases.agency import Caller
from shared.usecases.reference_admin import AgencyForm, save_agency
from tests.functional.test_route_function import route_app, route_pending
from tests.functional.test_submit_form import fields
from tools.stack import Emulators

SHOWN = "Disnaker Cianjur: Dinas Tenaga Kerja Kabupaten Cianjur"
OPTION = f'<option value="disnaker-cianjur">{SHOWN}</option>'


@pytest.fixture
def site(seeded_emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    """The submit function on the seeded emulators; every use re-checks the reference's
    version (the default is once a minute), so the test need not wait for it."""
    monkeypatch.setenv("LAPOR_REFERENCE_REFRESH_S", "0")
    wiring.reset()
    yield functions_framework.create_app(
        target="submit", source="functions/submit/main.py"
    ).test_client()
    wiring.reset()


def add_disnaker() -> None:
    """The national admin creates Disnaker Cianjur, as the console's /instansi does."""
    save_agency(
        AgencyForm(
            id="disnaker-cianjur",
            name="Dinas Tenaga Kerja Kabupaten Cianjur",
            short_name="Disnaker Cianjur",
            kind="agency",
            parent="pemkab-cianjur",
            region="32.03",
            categories=("pelayanan-publik-lainnya.aparatur",),
        ),
        creating=True,
        caller=Caller("nasional", Role.NATIONAL_ADMIN, "Admin Nasional", "staff:test"),
        store=wiring.reference_admin_store(),
        base=wiring.reference(),
        now=dt.datetime.now(dt.UTC),
    )


def test_an_agency_added_in_the_console_is_chosen_on_the_form_routed_and_named(
    site: FlaskClient, db: firestore.Client
) -> None:
    assert OPTION not in site.get("/").get_data(as_text=True)

    add_disnaker()

    form = site.get("/").get_data(as_text=True)
    assert OPTION in form
    sent = site.post(
        "/",
        data=fields(
            category="pelayanan-publik-lainnya.aparatur", target_agency_id="disnaker-cianjur"
        ),
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)

    route_pending(route_app())
    [report] = [d.to_dict() or {} for d in db.collection("reports").stream()]
    assert report["target_agency_id"] == "disnaker-cianjur"
    assert (report["agency_id"], report["routing_method"]) == ("disnaker-cianjur", "named")

    page = site.get(sent.headers["Location"]).get_data(as_text=True)
    # Both the agency that holds it and the one the reporter asked for, by name.
    assert len(re.findall(r"<dd>\s*" + re.escape(SHOWN) + r"\s*</dd>", page)) == 2
    assert "<dd>disnaker-cianjur</dd>" not in page


def test_a_report_naming_an_agency_not_yet_added_is_refused(
    site: FlaskClient, db: firestore.Client
) -> None:
    refused = site.post(
        "/",
        data=fields(
            category="pelayanan-publik-lainnya.aparatur", target_agency_id="disnaker-cianjur"
        ),
    )

    assert refused.status_code == 422
    assert 'href="#f-target_agency_id"' in refused.get_data(as_text=True)
    assert not list(db.collection("reports").stream())
