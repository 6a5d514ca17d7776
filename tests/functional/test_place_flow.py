"""A report's finer place through the submit function's API and the route function,
against the real emulators: the district, village, address and point are stored as
given, a point far from the chosen regency is refused with nothing written, and a road
report from Cugenang is routed by its district rule to the UPTD that keeps its roads.
"""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient
from google.cloud import firestore

from shared.web.schemas import REPORT_EXAMPLE
from tests.functional.support import counts
from tests.functional.test_route_function import route_app, route_pending

CUGENANG = {
    "district_code": "32.03.11",
    "village_code": "32.03.11.2001",
    "address": "Jalan Raya Cugenang, depan SDN Sukamanah 1",
    "latitude": -6.7803,
    "longitude": 107.0497,
}


def body(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(REPORT_EXAMPLE)
    data.update(changes)
    return data


def test_a_cugenang_road_report_keeps_its_place_and_reaches_the_northern_uptd(
    app: FlaskClient, db: firestore.Client
) -> None:
    route = route_app()

    response = app.post("/api/v1/reports", json=body(**CUGENANG))
    assert response.status_code == 201, response.get_json()
    route_pending(route)

    [doc] = [d.to_dict() or {} for d in db.collection("reports").stream()]
    assert (doc["district_code"], doc["village_code"]) == ("32.03.11", "32.03.11.2001")
    assert doc["address"] == CUGENANG["address"]
    assert doc["point"] == {"latitude": -6.7803, "longitude": 107.0497}
    assert (doc["agency_id"], doc["unit_id"], doc["routing_rule_id"]) == (
        "dpupr-cianjur",
        "uptd-jalan-cianjur-utara",
        "cugenang-jalan",
    )


def test_a_point_in_jakarta_for_a_cianjur_report_is_refused_and_nothing_is_written(
    app: FlaskClient, db: firestore.Client
) -> None:
    before = counts(db)

    response = app.post(
        "/api/v1/reports",
        json=body(**{**CUGENANG, "latitude": -6.1754, "longitude": 106.8272}),
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "field": "longitude",
            "code": "point_outside_regency",
            "message": "The point lies outside the chosen regency or city.",
        }
    ]
    assert counts(db) == before
