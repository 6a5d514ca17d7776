"""The reporter's actions with in-memory fakes: token first, then body, then lifecycle."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.domain import report as lifecycle
from shared.domain.report import (
    Action,
    Actor,
    Command,
    IllegalTransition,
    Report,
    Role,
    State,
)
from shared.domain.tracking import new_tracking_code
from shared.ports import FixedClock
from shared.reference import load_reference
from shared.tokens import reporter_token
from shared.usecases.act import Acted
from shared.usecases.reporter import OPERATIONS, TokenRejected, available, reporter_act
from shared.web.i18n import MESSAGES
from shared.web.openapi import reporter_paths
from tests.builders import a_draft
from tests.fakes import InMemoryPublisher, InMemoryReportStore

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
SECRET = "unit-test-secret-0123456789"
ADMIN = Actor(Role.NATIONAL_ADMIN, "nasional")
AGENCY = Actor(Role.AGENCY_ADMIN, "dpupr-cianjur")
CODE = new_tracking_code()


def settings() -> Settings:
    return Settings(token_secret=SECRET)


def make(store: InMemoryReportStore, *steps: Command, confidential: bool = False) -> Report:
    current = settings()
    cal, policy = current.calendar(), current.deadline_policy()
    draft = a_draft(confidential=confidential)
    report, event = lifecycle.submit(draft, "r1", CODE, NOW, cal, policy)
    store.reports[report.id] = report
    store.events[report.id] = [event]
    for command in steps:
        report, event = lifecycle.apply(report, command, NOW, cal, policy)
        store.reports[report.id] = report
        store.events[report.id].append(event)
    return report


DISPOSITION = Command(Action.DISPOSITION, ADMIN, agency_id="dpupr-cianjur")
FOLLOW_UP = Command(Action.FOLLOW_UP, AGENCY, message="Ditinjau.")
RESOLVE = Command(Action.RESOLVE, AGENCY, message="Selesai.")
HOLD = Command(Action.HOLD, ADMIN, reason="Di mana?")


def run(store: InMemoryReportStore, op: str, data: dict[str, object], token: str | None) -> Acted:
    return reporter_act(
        CODE, token, op, data, store=store, clock=FixedClock(NOW), settings=settings(),
        reference=load_reference(), publisher=InMemoryPublisher(),
    )  # fmt: skip


def token() -> str:
    return reporter_token(SECRET, "r1")


def test_the_forms_offered_fit_the_state() -> None:
    assert available("submitted", rated=False) == []
    assert available("on_hold", rated=False) == ["answer"]
    assert available("in_progress", rated=False) == ["reply"]
    assert available("resolved", rated=False) == ["confirm", "reopen"]
    assert available("closed", rated=False) == ["rating"]
    assert available("closed", rated=True) == []


def test_confirm_closes_and_rate_records_the_rating() -> None:
    store = InMemoryReportStore()
    make(store, DISPOSITION, FOLLOW_UP, RESOLVE)
    assert run(store, "confirm", {}, token()).report.state is State.CLOSED
    assert run(store, "rating", {"rating": "4"}, token()).report.rating == 4


def test_answering_a_hold_returns_to_verification_and_emits_routing_again() -> None:
    store = InMemoryReportStore()
    make(store, HOLD)
    acted = run(store, "answer", {"message": "Depan pasar."}, token())
    assert acted.report.state is State.SUBMITTED
    # Routed again, and the admin who asked is told the answer.
    assert [m.id for m in acted.change.outbox] == ["r1.3", "r1.3.nasional"]
    assert acted.change.outbox[0].data["report_id"] == "r1"


@pytest.mark.parametrize("given", [None, "", "wrong"])
def test_without_the_token_nothing_is_written_even_for_a_bad_body(given: str | None) -> None:
    store = InMemoryReportStore()
    before = make(store, DISPOSITION, FOLLOW_UP, RESOLVE)
    with pytest.raises(TokenRejected) as refused:
        run(store, "reopen", {"nonsense": 1}, given)
    assert refused.value.hide is False
    assert store.reports["r1"] == before and store.commits == 0


def test_a_confidential_report_hides_itself_from_a_wrong_token() -> None:
    store = InMemoryReportStore()
    make(store, HOLD, confidential=True)
    with pytest.raises(TokenRejected) as refused:
        run(store, "answer", {"message": "x"}, "wrong")
    assert refused.value.hide is True


def test_invalid_body_and_illegal_action_change_nothing() -> None:
    store = InMemoryReportStore()
    before = make(store, DISPOSITION, FOLLOW_UP, RESOLVE)
    with pytest.raises(ValidationError):
        run(store, "rating", {"rating": 9}, token())
    with pytest.raises(ValidationError):
        run(store, "reopen", {"reason": "   "}, token())
    with pytest.raises(IllegalTransition):
        run(store, "rating", {"rating": 5}, token())
    assert store.reports["r1"] == before and store.commits == 0


def test_every_operation_has_its_page_texts_in_both_languages() -> None:
    for name in OPERATIONS:
        for part in ("title", "hint", "submit"):
            assert f"op_{name}_{part}" in MESSAGES


def test_every_reporter_openapi_example_validates_against_its_model() -> None:
    paths = reporter_paths()
    for name, op in OPERATIONS.items():
        api = paths[f"/api/v1/reports/{{code}}/{name}"]["post"]["requestBody"]["content"]
        op.body.model_validate(api["application/json"]["example"])
        form = paths[f"/lacak/{{code}}/{name}"]["post"]["requestBody"]["content"]
        fields = dict(form["application/x-www-form-urlencoded"]["example"])
        assert fields.pop("token")
        op.body.model_validate(fields)
