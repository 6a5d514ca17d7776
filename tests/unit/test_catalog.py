"""The citizen site's catalog follows the running reference: an agency the national
admin added is offered on the form, accepted when a report names it and named on the
tracking page; the catalog is built once per reference."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Request, Response
from werkzeug.test import EnvironBuilder

from shared.config import Settings
from shared.ports import FixedClock, SubmitPorts
from shared.reference import Agency, AgencyKind, Reference, load_reference
from shared.web import submit_app
from shared.web.catalog import catalog_of
from shared.web.openapi import form_example
from tests.fakes import InMemoryNotificationStore, InMemoryPublisher, InMemoryReportStore

BUNDLED = load_reference()
DISNAKER = Agency(
    id="disnaker-cianjur",
    name="Dinas Tenaga Kerja Kabupaten Cianjur",
    short_name="Disnaker Cianjur",
    kind=AgencyKind.AGENCY,
    parent="pemkab-cianjur",
    region="32.03",
    categories=("pelayanan-publik-lainnya.aparatur",),
)
SHOWN = "Disnaker Cianjur: Dinas Tenaga Kerja Kabupaten Cianjur"


def running() -> Reference:
    """The reference after the national admin added Disnaker Cianjur."""
    return BUNDLED.with_agencies_and_rules([*BUNDLED.agencies, DISNAKER], BUNDLED.routing_rules)


def test_the_catalog_is_built_once_per_reference_and_again_for_a_new_one() -> None:
    edited = running()

    assert catalog_of(BUNDLED) is catalog_of(BUNDLED)
    assert "disnaker-cianjur" not in catalog_of(BUNDLED).agency_names
    assert catalog_of(edited) is catalog_of(edited)
    assert catalog_of(edited).agency_name("disnaker-cianjur") == SHOWN
    # Regions and categories are the bundled ones either way.
    assert catalog_of(edited).regency_names == catalog_of(BUNDLED).regency_names


def test_units_are_not_offered_to_citizens() -> None:
    units = {a.id for a in BUNDLED.agencies if a.kind is AgencyKind.UNIT}

    assert units and not units & {o.value for o in catalog_of(BUNDLED).agencies}


def _ports(reference: Reference, store: InMemoryReportStore) -> SubmitPorts:
    return SubmitPorts(
        settings=Settings(token_secret="unit-test-secret-0123456789"),
        clock=FixedClock(dt.datetime(2025, 3, 4, 2, 0, tzinfo=dt.UTC)),
        reference_factory=lambda: reference,
        store_factory=lambda: store,
        publisher_factory=InMemoryPublisher,
        public_factory=_unused,
        preferences_factory=_unused,
        deliveries_factory=InMemoryNotificationStore,
    )


def _unused() -> Any:
    raise AssertionError("not needed here")


def _call(ports: SubmitPorts, path: str, method: str = "GET", **kwargs: Any) -> Response:
    request = Request(EnvironBuilder(path=path, method=method, **kwargs).get_environ())
    return submit_app.handle(request, lambda: ports)


def _naming_disnaker() -> dict[str, str]:
    return {
        **form_example(),
        "category": "pelayanan-publik-lainnya.aparatur",
        "target_agency_id": "disnaker-cianjur",
    }


def test_an_agency_of_the_running_reference_is_offered_accepted_and_named() -> None:
    store = InMemoryReportStore()
    ports = _ports(running(), store)

    form = _call(ports, "/").get_data(as_text=True)
    assert f'<option value="disnaker-cianjur">{SHOWN}</option>' in form

    sent = _call(ports, "/", "POST", data=_naming_disnaker())
    assert sent.status_code == 303, sent.get_data(as_text=True)
    [report] = store.reports.values()
    assert report.target_agency_id == "disnaker-cianjur"

    page = _call(ports, sent.headers["Location"]).get_data(as_text=True)
    assert re.search(r"<dd>\s*" + re.escape(SHOWN) + r"\s*</dd>", page)


def test_an_agency_the_running_reference_lacks_is_refused() -> None:
    store = InMemoryReportStore()
    ports = _ports(BUNDLED, store)

    assert "disnaker-cianjur" not in _call(ports, "/").get_data(as_text=True)
    refused = _call(ports, "/", "POST", data=_naming_disnaker())

    assert refused.status_code == 422
    assert 'href="#f-target_agency_id"' in refused.get_data(as_text=True)
    assert not store.reports


def test_the_catalog_offers_a_regencys_districts_and_villages_and_names_them() -> None:
    catalog = catalog_of(BUNDLED)
    options = catalog.place_options("32.03")
    assert len(options["districts"]) == 32
    assert ("32.03.11", "Cugenang") in options["districts"]
    assert set(options["villages"]) == {code for code, _ in options["districts"]}
    assert ("32.03.11.2001", "Sukamanah") in options["villages"]["32.03.11"]
    assert catalog.place_options("99.99") == {"districts": [], "villages": {}}
    assert catalog.place_label("32.03.11") == "Cugenang"
    assert catalog.place_label("32.03.11.2001") == "Sukamanah"
    assert catalog.place_label("32.03") == "Kabupaten Cianjur"
    assert catalog.place_label("32.03.99") == "32.03.99"
