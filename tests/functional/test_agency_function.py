"""The agency function through functions-framework against the real emulators:
authentication, visibility, every action, refusals that change nothing, concurrency,
cursor paging, the overdue and escalated filters, and the Ombudsman dossier."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from shared.config import Settings
from shared.domain.privacy import ReporterIdentity
from shared.domain.report import Action, Actor, Command, Report, Role
from shared.ports import FixedClock, SystemClock
from shared.usecases.act import act
from shared.usecases.submit import submit_report
from tests.builders import a_draft, an_identity
from tests.fakes import InMemoryPublisher
from tools.api_keys import issue_key, revoke_key
from tools.stack import Emulators

SOURCE = "functions/agency/main.py"


@pytest.fixture
def app(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client = functions_framework.create_app(target="agency", source=SOURCE).test_client()
    yield client
    wiring.reset()


@pytest.fixture
def keys(db: firestore.Client) -> dict[str, str]:
    return {
        "national": issue_key(db, "nasional", "national_admin", "t"),
        "pemkab": issue_key(db, "pemkab-cianjur", "agency_admin", "t"),
        "dpupr": issue_key(db, "dpupr-cianjur", "agency_admin", "t"),
        "uptd": issue_key(db, "uptd-jalan-cianjur", "unit_officer", "t"),
        "dinkes": issue_key(db, "dinkes-cianjur", "agency_admin", "t"),
        "dinkes_officer": issue_key(db, "dinkes-cianjur", "unit_officer", "t"),
    }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_report(
    *,
    agency_id: str | None = "dpupr-cianjur",
    at: dt.datetime | None = None,
    anonymous: bool = False,
    rule_id: str | None = None,
    identity: ReporterIdentity | None = None,
) -> str:
    """A report submitted (at ``at``) and, when ``agency_id``, dispositioned to it."""
    settings = Settings.from_env()
    store = wiring.report_store()
    clock = FixedClock(at) if at else SystemClock()
    result = submit_report(
        a_draft(anonymous=anonymous),
        identity or an_identity(name="Siti Rahma"),
        client_id=uuid.uuid4().hex,
        idempotency_key=None,
        store=store,
        publisher=InMemoryPublisher(),
        clock=clock,
        settings=settings,
    )
    if agency_id:
        data: dict[str, str | int] = {"method": "rule"}
        if rule_id:
            data["rule_id"] = rule_id
        act(
            result.report_id,
            Command(
                Action.DISPOSITION,
                Actor(Role.SYSTEM, "system:route"),
                agency_id=agency_id,
                data=data,
            ),
            store=store,
            clock=clock,
            settings=settings,
        )
    return result.report_id


def post(app: FlaskClient, key: str, report_id: str, op: str, body: dict[str, Any]) -> Any:
    return app.post(f"/api/v1/reports/{report_id}/{op}", json=body, headers=auth(key))


def events(db: firestore.Client, report_id: str) -> list[dict[str, Any]]:
    ref = db.collection("reports").document(report_id).collection("events")
    return [d.to_dict() or {} for d in ref.order_by("seq").stream()]


def state(db: firestore.Client, report_id: str) -> str:
    return str((db.collection("reports").document(report_id).get().to_dict() or {})["state"])


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer lpr_nope", "Basic dXNlcjpwYXNz", "Bearer not-a-lapor-key"],
)
def test_missing_or_unknown_key_answers_401_with_www_authenticate(
    app: FlaskClient, keys: dict[str, str], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = app.get("/api/v1/inbox", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("query", "headers", "title"),
    [
        ("", {}, "Authentication required"),
        ("", {"Accept-Language": "en-US,en;q=0.9"}, "Authentication required"),
        ("", {"Accept-Language": "id-ID,id;q=0.9,en;q=0.8"}, "Autentikasi diperlukan"),
        ("?lang=id", {"Accept-Language": "en"}, "Autentikasi diperlukan"),
        ("?lang=en", {"Accept-Language": "id"}, "Authentication required"),
    ],
)
def test_problem_titles_are_english_unless_indonesian_is_asked_for(
    app: FlaskClient, query: str, headers: dict[str, str], title: str
) -> None:
    response = app.get(f"/api/v1/inbox{query}", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["title"] == title
    assert response.headers["Content-Language"] == ("id" if "diperlukan" in title else "en")


def test_refusals_of_body_and_lifecycle_are_titled_in_the_callers_language(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    headers = {**auth(keys["dpupr"]), "Accept-Language": "id"}
    path = f"/api/v1/reports/{report_id}"
    illegal = app.post(f"{path}/resolve", json={"message": "Selesai."}, headers=headers)
    assert (illegal.status_code, illegal.get_json()["title"]) == (409, "Transisi tidak diizinkan")
    invalid = app.post(f"{path}/follow-up", json={}, headers=headers)
    assert (invalid.status_code, invalid.get_json()["title"]) == (422, "Isian tidak valid")
    unknown = app.get("/api/v1/reports/doesnotexist?lang=en", headers=headers)
    assert (unknown.status_code, unknown.get_json()["title"]) == (404, "Not found")


def test_an_unknown_operation_or_method_is_refused_before_the_key_is_looked_at(
    app: FlaskClient,
) -> None:
    unknown = app.post("/api/v1/reports/any-id/delete", json={})
    assert unknown.status_code == 404
    assert unknown.mimetype == "application/problem+json"
    wrong = app.get("/api/v1/reports/any-id/resolve")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert wrong.headers["Cache-Control"] == "no-store"


def test_revoked_key_answers_401(app: FlaskClient, db: firestore.Client) -> None:
    key = issue_key(db, "dpupr-cianjur", "agency_admin", "soon revoked")
    assert app.get("/api/v1/inbox", headers=auth(key)).status_code == 200
    assert revoke_key(db, key)
    assert app.get("/api/v1/inbox", headers=auth(key)).status_code == 401


def test_keys_are_stored_only_as_their_hash(db: firestore.Client, keys: dict[str, str]) -> None:
    stored = [d.to_dict() or {} for d in db.collection("api_keys").stream()]
    assert len(stored) == len(keys)
    for doc in stored:
        assert not any(key in str(doc) for key in keys.values())


def test_openapi_needs_no_key_and_has_an_example_for_every_body(app: FlaskClient) -> None:
    doc = app.get("/openapi.json").get_json()
    posts = [p["post"] for path, p in doc["paths"].items() if "post" in p]
    assert len(posts) == 9  # the eight actions and the request for an upload URL
    for operation in posts:
        assert operation["requestBody"]["content"]["application/json"]["example"]


# --- visibility -----------------------------------------------------------------------


def test_another_agencys_report_answers_404_like_an_unknown_one(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    assert app.get(f"/api/v1/reports/{report_id}", headers=auth(keys["dpupr"])).status_code == 200
    refused = app.get(f"/api/v1/reports/{report_id}", headers=auth(keys["dinkes"]))
    unknown = app.get("/api/v1/reports/doesnotexist", headers=auth(keys["dinkes"]))
    assert refused.status_code == unknown.status_code == 404
    assert refused.get_json()["type"] == unknown.get_json()["type"]
    acted = post(app, keys["dinkes"], report_id, "follow-up", {"message": "bukan kami"})
    assert acted.status_code == 404


def test_parent_agency_and_national_admin_see_it_and_inboxes_hold_only_their_own(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    road = new_report(agency_id="dpupr-cianjur")
    health = new_report(agency_id="dinkes-cianjur")

    def ids(key: str) -> set[str]:
        response = app.get("/api/v1/inbox", headers=auth(key))
        assert response.status_code == 200
        return {item["id"] for item in response.get_json()["items"]}

    assert ids(keys["dpupr"]) == {road}
    assert ids(keys["dinkes"]) == {health}
    assert ids(keys["pemkab"]) == {road, health}
    assert ids(keys["national"]) == {road, health}
    assert ids(keys["uptd"]) == set()  # not forwarded to the unit yet


def test_anonymous_reporter_identity_is_hidden_from_agencies(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    named = new_report()
    anonymous = new_report(anonymous=True)
    shown = app.get(f"/api/v1/reports/{named}", headers=auth(keys["dpupr"])).get_json()
    assert shown["reporter"]["name"] == "Siti Rahma"
    hidden = app.get(f"/api/v1/reports/{anonymous}", headers=auth(keys["dpupr"]))
    assert "reporter" not in hidden.get_json()
    assert "Siti" not in hidden.get_data(as_text=True)
    listed = app.get("/api/v1/inbox", headers=auth(keys["dpupr"])).get_data(as_text=True)
    assert "Siti" not in listed


# --- actions --------------------------------------------------------------------------


def test_forward_follow_up_and_resolve_by_agency_then_unit(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    forwarded = post(app, keys["dpupr"], report_id, "forward", {"unit_id": "uptd-jalan-cianjur"})
    assert forwarded.status_code == 200, forwarded.get_json()
    assert forwarded.get_json()["report"]["unit_id"] == "uptd-jalan-cianjur"
    # The unit now sees it and writes the follow-up.
    followed = post(app, keys["uptd"], report_id, "follow-up", {"message": "Sudah ditinjau."})
    assert followed.status_code == 200
    assert followed.get_json()["event"]["seq"] == 4
    resolved = post(app, keys["uptd"], report_id, "resolve", {"message": "Sudah ditambal."})
    assert resolved.status_code == 200
    assert state(db, report_id) == "resolved"
    assert [e["action"] for e in events(db, report_id)] == [
        "submit", "disposition", "forward", "follow_up", "resolve",
    ]  # fmt: skip
    assert events(db, report_id)[-1]["actor_id"] == "uptd-jalan-cianjur"


def test_forward_to_a_unit_of_another_agency_is_refused_422(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    response = post(app, keys["dpupr"], report_id, "forward", {"unit_id": "puskesmas-cipanas"})
    assert response.status_code == 422
    assert len(events(db, report_id)) == 2


def test_verify_routes_a_submitted_report_national_any_regional_within(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    first, second = new_report(agency_id=None), new_report(agency_id=None)
    queue = app.get("/api/v1/inbox?queue=admin", headers=auth(keys["pemkab"])).get_json()
    assert {first, second} <= {item["id"] for item in queue["items"]}
    # A regency admin may route within its own tree only.
    outside = post(app, keys["pemkab"], first, "verify", {"agency_id": "dbmpr-jabar"})
    assert outside.status_code == 422
    inside = post(app, keys["pemkab"], first, "verify", {"agency_id": "dpupr-cianjur"})
    assert inside.status_code == 200
    anywhere = post(app, keys["national"], second, "verify", {"agency_id": "dbmpr-jabar"})
    assert anywhere.status_code == 200
    assert state(db, first) == state(db, second) == "dispositioned"
    # A dinas admin is not a regional admin: no queue, and the report is not its to see.
    third = new_report(agency_id=None)
    assert (
        post(app, keys["dpupr"], third, "verify", {"agency_id": "dpupr-cianjur"}).status_code == 404
    )


def test_hold_and_archive_by_admins(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id=None)
    held = post(app, keys["national"], report_id, "hold", {"reason": "Lokasi persisnya di mana?"})
    assert held.status_code == 200
    assert state(db, report_id) == "on_hold"
    archived = post(app, keys["national"], report_id, "archive", {"reason": "Tidak dijawab."})
    assert archived.status_code == 200
    assert state(db, report_id) == "archived"


def test_not_our_authority_returns_report_for_rerouting_and_counts_against_the_rule(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur", rule_id="jalan-cianjur")
    response = post(
        app, keys["dpupr"], report_id, "not-our-authority", {"reason": "Jalan provinsi."}
    )
    assert response.status_code == 200, response.get_json()
    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert doc["state"] == "submitted"
    assert doc["agency_id"] is None
    outbox = db.collection("outbox").document(f"{report_id}.3").get()
    assert outbox.exists
    message = outbox.to_dict() or {}
    assert message["topic"] == "report-submitted"
    assert message["data"]["report_id"] == report_id
    assert set(message["data"]) == {
        "report_id", "tracking_code", "type", "category", "province_code",
        "regency_code", "target_agency_id", "attachment_ids",
    }  # fmt: skip
    # The files stay where they are: only a submission announces files to promote.
    assert message["data"]["attachment_ids"] == []
    stats = db.collection("routing_stats").document("jalan-cianjur").get().to_dict() or {}
    assert stats["not_our_authority"] == 1
    # The agency no longer sees it.
    assert app.get(f"/api/v1/reports/{report_id}", headers=auth(keys["dpupr"])).status_code == 404


def test_unit_officer_may_not_answer_bukan_wewenang_403_and_nothing_changes(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    post(app, keys["dpupr"], report_id, "forward", {"unit_id": "uptd-jalan-cianjur"})
    response = post(app, keys["uptd"], report_id, "not-our-authority", {"reason": "Bukan kami."})
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("not_permitted")
    assert state(db, report_id) == "dispositioned"
    assert len(events(db, report_id)) == 3


def test_unit_officer_sees_only_what_was_forwarded_to_its_unit(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dinkes-cianjur")
    shown = app.get(f"/api/v1/reports/{report_id}", headers=auth(keys["dinkes_officer"]))
    assert shown.status_code == 404


def test_illegal_transition_answers_409_and_changes_nothing(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    before = db.collection("reports").document(report_id).get().to_dict()
    response = post(app, keys["dpupr"], report_id, "resolve", {"message": "Selesai."})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("illegal_transition")
    assert db.collection("reports").document(report_id).get().to_dict() == before
    assert len(events(db, report_id)) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "message"), ({"message": "   "}, "message"), ({"message": "ok", "x": 1}, "x")],
)
def test_invalid_body_answers_422_one_entry_per_field(
    app: FlaskClient, keys: dict[str, str], body: dict[str, Any], field: str
) -> None:
    report_id = new_report()
    response = post(app, keys["dpupr"], report_id, "follow-up", body)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_malformed_json_answers_400(app: FlaskClient, keys: dict[str, str]) -> None:
    report_id = new_report()
    response = app.post(
        f"/api/v1/reports/{report_id}/follow-up",
        data="{nope",
        content_type="application/json",
        headers=auth(keys["dpupr"]),
    )
    assert response.status_code == 400


def test_two_concurrent_actions_never_lose_an_update(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(agency_id="dpupr-cianjur")
    answers: list[int] = []
    start = threading.Barrier(2)

    def follow_up(text: str) -> None:
        start.wait()
        answers.append(
            post(app, keys["dpupr"], report_id, "follow-up", {"message": text}).status_code
        )

    threads = [threading.Thread(target=follow_up, args=(t,)) for t in ("pertama", "kedua")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timeline = events(db, report_id)
    succeeded = answers.count(200)
    assert succeeded >= 1
    assert sorted(answers) in ([200, 200], [200, 409])
    # Every success is on the timeline, numbered without gaps: no lost write.
    assert [e["seq"] for e in timeline] == list(range(1, 3 + succeeded))
    doc = db.collection("reports").document(report_id).get().to_dict() or {}
    assert doc["last_seq"] == 2 + succeeded


# --- paging and filters ---------------------------------------------------------------


def test_cursor_paging_walks_every_report_once(app: FlaskClient, keys: dict[str, str]) -> None:
    start = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    made = {new_report(at=start + dt.timedelta(minutes=i)) for i in range(7)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "/api/v1/inbox?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = app.get(query, headers=auth(keys["dpupr"])).get_json()
        pages += 1
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made


def test_status_filter(app: FlaskClient, keys: dict[str, str]) -> None:
    waiting = new_report()
    moving = new_report()
    post(app, keys["dpupr"], moving, "follow-up", {"message": "Sedang dikerjakan."})
    page = app.get("/api/v1/inbox?status=in_progress", headers=auth(keys["dpupr"])).get_json()
    assert [item["id"] for item in page["items"]] == [moving]
    page = app.get("/api/v1/inbox?status=dispositioned", headers=auth(keys["dpupr"])).get_json()
    assert [item["id"] for item in page["items"]] == [waiting]
    bad = app.get("/api/v1/inbox?status=nope", headers=auth(keys["dpupr"]))
    assert bad.status_code == 400


def test_overdue_filter_lists_only_reports_past_their_resolve_date(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    old = new_report(at=dt.datetime(2025, 1, 6, 3, 0, tzinfo=dt.UTC))  # due in January 2025
    fresh = new_report()  # due in a few weeks
    page = app.get("/api/v1/inbox?overdue=true", headers=auth(keys["dpupr"])).get_json()
    assert [item["id"] for item in page["items"]] == [old]
    everything = app.get("/api/v1/inbox", headers=auth(keys["dpupr"])).get_json()
    assert {item["id"] for item in everything["items"]} == {old, fresh}


def test_demo_keys_are_issued_once_and_work(
    app: FlaskClient, db: firestore.Client, tmp_path: Any
) -> None:
    from tools.api_keys import DEMO_KEYS, ensure_demo_keys

    path = tmp_path / ".lapor" / "demo-keys.json"
    first = ensure_demo_keys(db, path)
    assert set(first) == {name for name, *_ in DEMO_KEYS}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = ensure_demo_keys(db, path)
    assert again == first  # a restart keeps the same keys
    assert len(list(db.collection("api_keys").stream())) == len(DEMO_KEYS)
    key = first["national_admin"]["key"]
    assert app.get("/api/v1/inbox", headers=auth(key)).status_code == 200


# --- the clocks and escalations -------------------------------------------------------

LONG_AGO = dt.datetime(2025, 1, 6, 3, 0, tzinfo=dt.UTC)  # a Monday: every clock has run out


def test_overdue_follows_the_clock_of_the_current_state(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    unverified = new_report(agency_id=None, at=LONG_AGO)  # the verification clock ran out
    routed = new_report(at=LONG_AGO)
    held = new_report(agency_id=None, at=LONG_AGO)
    assert post(app, keys["national"], held, "hold", {"reason": "Di mana?"}).status_code == 200

    page = app.get("/api/v1/inbox?overdue=true", headers=auth(keys["national"])).get_json()

    assert [item["id"] for item in page["items"]] == [unverified, routed]  # most overdue first
    assert all(item["overdue"] and item["age_working_days"] > 200 for item in page["items"])
    shown = app.get(f"/api/v1/reports/{held}", headers=auth(keys["national"])).get_json()
    assert shown["overdue"] is False and shown["clock_due"] is None  # on hold: no clock


def fire(report_id: str, tier: str) -> Report:
    """The daily run's ESCALATE of ``tier``, on the first working day after the clock ran
    out."""
    settings = Settings.from_env()
    store = wiring.report_store()
    report = store.get(report_id)
    assert report is not None and report.clock_due is not None
    day = settings.calendar().shift_working_days(report.clock_due, 1)
    command = Command(
        Action.ESCALATE,
        Actor(Role.SYSTEM, "system:escalate"),
        data={
            "tier": tier,
            "clock": str(report.clock_id),
            "notified": "agency_admin:dpupr-cianjur,parent_agency:pemkab-cianjur",
        },
    )
    at = dt.datetime.combine(day, dt.time(0), dt.UTC)
    return act(report_id, command, store=store, clock=FixedClock(at), settings=settings).report


def test_escalated_reports_show_their_tier_and_have_their_own_inbox_filter(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    calm = new_report(at=LONG_AGO)
    late = new_report(at=LONG_AGO)
    fire(late, "overdue")
    other = new_report(agency_id="dinkes-cianjur", at=LONG_AGO)
    fire(other, "overdue")

    def ids(key: str, query: str) -> list[str]:
        response = app.get(f"/api/v1/inbox?{query}", headers=auth(keys[key]))
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert ids("dpupr", "escalated=true") == [late]
    assert set(ids("national", "escalated=true")) == {late, other}
    assert ids("dpupr", "escalated=true&overdue=true&status=dispositioned") == [late]
    assert set(ids("dpupr", "")) == {calm, late}
    assert ids("uptd", "escalated=true") == []  # not forwarded to the unit
    shown = app.get(f"/api/v1/reports/{late}", headers=auth(keys["dpupr"])).get_json()
    assert (shown["escalation_tier"], shown["escalations"]) == ("overdue", ["overdue"])
    assert shown["timeline"][-1]["action"] == "escalate"
    line = app.get("/api/v1/inbox?escalated=true", headers=auth(keys["dpupr"])).get_json()
    assert line["items"][0]["escalation_tier"] == "overdue"


def test_a_page_of_the_escalated_inbox_reads_the_key_and_the_page_only(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    for _ in range(3):
        fire(new_report(at=LONG_AGO), "overdue")
    new_report(at=LONG_AGO)  # not escalated: never read
    stats = wiring.report_store().stats

    for key in ("dpupr", "pemkab", "national"):
        before = stats.snapshot()
        page = app.get("/api/v1/inbox?escalated=true&limit=2", headers=auth(keys[key]))
        assert len(page.get_json()["items"]) == 2 and page.get_json()["next_cursor"]
        # The API key, then one query (the pemkab tree is one chunk of 30 agencies) that
        # reads the page and the one report telling that more follow.
        assert stats.since(before).reads == 1 + 2 + 1, key


def test_a_disposition_says_how_it_was_routed_in_the_callers_language(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    by_rule = new_report(rule_id="jalan-cianjur")
    by_hand = new_report(agency_id=None)
    post(app, keys["pemkab"], by_hand, "verify", {"agency_id": "dpupr-cianjur"})

    def label(report_id: str, lang: str) -> str:
        path = f"/api/v1/reports/{report_id}?lang={lang}"
        timeline = app.get(path, headers=auth(keys["dpupr"])).get_json()["timeline"]
        [disposition] = [e for e in timeline if e["action"] == "disposition"]
        return str(disposition["label"])

    assert label(by_rule, "en") == "Routed automatically to dpupr-cianjur by rule jalan-cianjur"
    assert label(by_rule, "id").startswith("Didisposisikan otomatis ke dpupr-cianjur oleh aturan")
    assert label(by_hand, "en") == (
        "Verified and dispositioned to dpupr-cianjur by admin pemkab-cianjur"
    )
    assert "Verified" not in label(by_rule, "en")


# --- mark supervisory, archive of a routed report -------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("dpupr", 200), ("pemkab", 200), ("national", 200), ("uptd", 403), ("dinkes", 404)],
)
def test_who_may_mark_a_complaint_berkadar_pengawasan(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str], who: str, status: int
) -> None:
    report_id = new_report()
    post(app, keys["dpupr"], report_id, "forward", {"unit_id": "uptd-jalan-cianjur"})
    before = db.collection("reports").document(report_id).get().to_dict() or {}

    response = post(app, keys[who], report_id, "mark-supervisory", {"reason": "Dugaan pungli."})

    assert response.status_code == status, response.get_json()
    after = db.collection("reports").document(report_id).get().to_dict() or {}
    if status != 200:
        assert after == before
        return
    body = response.get_json()
    assert after["type"] == body["report"]["type"] == "pengaduan_pengawasan"
    assert after["resolve_due"] > before["resolve_due"]
    assert body["event"]["action"] == "mark_supervisory"
    assert body["event"]["reason"] == "Dugaan pungli."


def test_mark_supervisory_needs_a_reason_and_a_complaint_in_progress(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = new_report()
    missing = post(app, keys["dpupr"], report_id, "mark-supervisory", {})
    assert missing.status_code == 422
    unrouted = new_report(agency_id=None)
    refused = post(app, keys["national"], unrouted, "mark-supervisory", {"reason": "x"})
    assert refused.status_code == 409  # no disposition: no resolution clock to lengthen


@pytest.mark.parametrize(
    ("who", "status"),
    [("dpupr", 200), ("pemkab", 403), ("national", 403), ("uptd", 403), ("dinkes", 404)],
)
def test_only_the_receiving_agencys_admin_archives_a_routed_report(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str], who: str, status: int
) -> None:
    report_id = new_report(rule_id="jalan-cianjur")
    post(app, keys["dpupr"], report_id, "forward", {"unit_id": "uptd-jalan-cianjur"})

    response = post(app, keys[who], report_id, "archive", {"reason": "Duplikat laporan lain."})

    assert response.status_code == status, response.get_json()
    assert state(db, report_id) == ("archived" if status == 200 else "dispositioned")
    if status == 403:
        assert response.get_json()["type"].endswith("not_permitted")


def test_a_routed_report_cannot_be_archived_after_a_follow_up(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report()
    post(app, keys["dpupr"], report_id, "follow-up", {"message": "Sedang ditinjau."})
    response = post(app, keys["dpupr"], report_id, "archive", {"reason": "Spam."})
    assert response.status_code == 409
    assert state(db, report_id) == "in_progress"


# --- the Ombudsman dossier ------------------------------------------------------------

PRIVATE = ReporterIdentity(
    name="Ratna Kusumawati", email="ratna.k@example.id", phone="+6281377712345"
)


def dossier(
    app: FlaskClient, key: str | None, report_id: str, query: str = "", **headers: str
) -> Any:
    sent = {**headers, **(auth(key) if key else {})}
    return app.get(f"/api/v1/reports/{report_id}/dossier{query}", headers=sent)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        ("national", 200),
        ("dpupr", 404),
        ("pemkab", 404),
        ("uptd", 404),
        ("dinkes", 404),
    ],
)
def test_only_the_national_admin_gets_the_dossier(
    app: FlaskClient, keys: dict[str, str], who: str | None, status: int
) -> None:
    report_id = new_report()
    post(app, keys["dpupr"], report_id, "forward", {"unit_id": "uptd-jalan-cianjur"})

    response = dossier(app, keys[who] if who else None, report_id)

    assert response.status_code == status
    if status == 404:  # exactly what an unknown report answers
        unknown = dossier(app, keys[who] if who else None, "no-such-report")
        assert unknown.status_code == 404
        assert response.get_json()["type"] == unknown.get_json()["type"]


def test_the_dossier_records_every_holding_and_escalation_and_reads_a_few_documents(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report(rule_id="jalan-cianjur", at=LONG_AGO)
    post(app, keys["dpupr"], report_id, "not-our-authority", {"reason": "Jalan provinsi."})
    post(app, keys["national"], report_id, "verify", {"agency_id": "dbmpr-jabar"})
    stores = (wiring.report_store().stats, wiring.notification_store().stats)
    before = [stats.snapshot() for stats in stores]

    response = dossier(app, keys["national"], report_id)

    reads = sum(stats.since(then).reads for stats, then in zip(stores, before, strict=True))
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert [h["agency_id"] for h in document["holdings"]] == ["dpupr-cianjur", "dbmpr-jabar"]
    assert document["holdings"][0]["ended_by"] == "not_our_authority"
    assert document["holdings"][0]["routing"]["rule_id"] == "jalan-cianjur"
    assert document["holdings"][1]["until"] is None
    assert document["holdings"][1]["routing"]["admin_agency_id"] == "nasional"
    assert document["figures"] == {
        "day": None,
        "agencies": [
            {"agency_id": a, "agency_name": n, "published": False, "figures": None}
            for a, n in (("dpupr-cianjur", document["holdings"][0]["agency_name"]),
                         ("dbmpr-jabar", document["holdings"][1]["agency_name"]))
        ],
    }  # fmt: skip
    # The key, the report, its 4 events, the named reporter's identity, the delivery log
    # (empty: billed 1) and the latest figures day (none published: billed 1).
    assert reads == 1 + 1 + 4 + 1 + 1 + 1


def test_the_dossier_shows_the_latest_published_figures_of_the_agencies_involved(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    report_id = new_report()
    days = db.collection("daily_figures")
    for day, received in (("2026-03-01", 5), ("2026-03-02", 7)):
        days.document(day).set({"day": day})
        own = {"month": {"received": received, "resolved_share": 0.5}, "overdue_now": 2}
        days.document(day).collection("scopes").document("dpupr-cianjur").set({"own": own})

    document = dossier(app, keys["national"], report_id).get_json()

    assert document["figures"]["day"] == "2026-03-02"
    [published] = document["figures"]["agencies"]
    assert published["published"] and published["figures"]["own"]["month"]["received"] == 7
    html = dossier(app, keys["national"], report_id, "?format=html").get_data(as_text=True)
    assert "Angka terbitan terakhir: 2 Maret 2026." in html and "50,0%" in html


def test_the_dossier_is_html_when_asked_for_and_refuses_an_unknown_format(
    app: FlaskClient, keys: dict[str, str]
) -> None:
    report_id = new_report()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

    by_accept = dossier(app, keys["national"], report_id, Accept=browser)
    by_query = dossier(app, keys["national"], report_id, "?format=html&lang=en")
    plain = dossier(app, keys["national"], report_id, Accept="*/*")
    wrong = dossier(app, keys["national"], report_id, "?format=pdf")

    assert by_accept.mimetype == "text/html" and by_accept.headers["Content-Language"] == "id"
    assert "Berkas rujukan Ombudsman RI" in by_accept.get_data(as_text=True)
    assert "default-src 'none'" in by_accept.headers["Content-Security-Policy"]
    assert by_accept.headers["Cache-Control"] == "no-store"
    assert "Ombudsman RI referral dossier" in by_query.get_data(as_text=True)
    assert plain.mimetype == "application/json"
    assert wrong.status_code == 400 and wrong.mimetype == "application/problem+json"


def test_the_dossier_of_an_anonymous_report_holds_no_identity_in_json_or_html(
    app: FlaskClient, db: firestore.Client, keys: dict[str, str]
) -> None:
    anonymous = new_report(anonymous=True, identity=PRIVATE, at=LONG_AGO)
    fire(anonymous, "overdue")
    named = new_report(identity=PRIVATE)
    stored = wiring.report_store().identity(anonymous)
    assert stored is not None and stored.name == PRIVATE.name  # kept to reach the reporter
    secrets = [PRIVATE.name, PRIVATE.email, PRIVATE.phone, "Kusumawati", "77712345"]

    for query in ("", "?format=html", "?format=html&lang=en"):
        text = dossier(app, keys["national"], anonymous, query).get_data(as_text=True)
        assert text.strip()
        for secret in secrets:
            assert secret and secret not in text, (query, secret)
    shown = dossier(app, keys["national"], named).get_json()
    assert shown["report"]["reporter"]["name"] == PRIVATE.name  # named: as the admin sees it
