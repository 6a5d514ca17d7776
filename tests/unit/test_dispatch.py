"""The one dispatch every HTTP app runs through: what each kind of failure answers,
the headers every answer carries, and ports built only when a handler needs them."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from flask import Request, Response
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder

from shared.config import Settings
from shared.ports import FixedClock, SubmitPorts, SubmitStore
from shared.reference import load_reference
from shared.web import submit_app
from shared.web.dispatch import App, Call, dispatch, problem_answer
from shared.web.http import Problem, json_response, problem
from tests.fakes import InMemoryNotificationStore, InMemoryPublisher, InMemoryReportStore

REFERENCE = load_reference()


def _request(path: str, method: str = "GET", **kwargs: Any) -> Request:
    return Request(EnvironBuilder(path=path, method=method, **kwargs).get_environ())


def _echo(call: Call[Any]) -> Response:
    return json_response({"lang": call.lang}, headers={"Cache-Control": "public, max-age=60"})


def _uses_ports(call: Call[Any]) -> Response:
    return json_response({"ports": [call.ports, call.ports]})


def _refuses(call: Call[Any]) -> Response:
    raise Problem(problem(409, "taken", "Taken", lang=call.lang))


def _breaks(call: Call[Any]) -> Response:
    raise RuntimeError("a bug")


def _app(made: list[str], *, strict_slashes: bool = False) -> App[str]:
    def ports() -> str:
        made.append("ports")
        return "the ports"

    return App(
        logger="test.dispatch",
        urls=Map(
            [
                Rule("/echo/", methods=["GET"], endpoint="echo"),
                Rule("/ports", methods=["GET"], endpoint="ports"),
                Rule("/refuse", methods=["POST", "PUT"], endpoint="refuse"),
                Rule("/break", methods=["GET"], endpoint="break"),
            ],
            strict_slashes=strict_slashes,
        ),
        handlers={"echo": _echo, "ports": _uses_ports, "refuse": _refuses, "break": _breaks},
        ports=ports,
        answer_error=problem_answer,
        default_lang="en",
    )


def _body(response: Response) -> Any:
    return json.loads(response.get_data())


def test_a_handler_answers_in_the_negotiated_language_and_keeps_its_cache_control() -> None:
    made: list[str] = []
    app = _app(made)
    assert _body(dispatch(app, _request("/echo/")))["lang"] == "en"
    answer = dispatch(app, _request("/echo/", headers={"Accept-Language": "id-ID"}))
    assert _body(answer)["lang"] == "id"
    assert answer.headers["Cache-Control"] == "public, max-age=60"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert made == []  # no handler asked for the ports


def test_ports_are_built_once_and_only_when_a_handler_asks() -> None:
    made: list[str] = []
    answer = dispatch(_app(made), _request("/ports"))
    assert _body(answer) == {"ports": ["the ports", "the ports"]}
    assert made == ["ports"]
    injected = dispatch(_app(made), _request("/ports"), ports=lambda: "fakes")
    assert _body(injected)["ports"] == ["fakes", "fakes"] and made == ["ports"]


def test_a_raised_problem_is_the_answer() -> None:
    answer = dispatch(_app([]), _request("/refuse", "POST", query_string={"lang": "id"}))
    assert answer.status_code == 409 and answer.headers["Content-Language"] == "id"
    assert answer.headers["Cache-Control"] == "no-store"


def test_unknown_path_and_wrong_method_answer_from_the_app_with_allow() -> None:
    missing = dispatch(_app([]), _request("/nothing", query_string={"lang": "id"}))
    assert missing.status_code == 404
    assert _body(missing) == {
        "type": "urn:lapor:problem:not-found",
        "title": "Tidak ditemukan",
        "status": 404,
        "instance": "/nothing",
    }
    wrong = dispatch(_app([]), _request("/refuse", "DELETE"))
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST, PUT"
    assert _body(wrong)["title"] == "Method not allowed"


def test_a_moved_path_redirects_with_308_so_the_method_is_kept() -> None:
    answer = dispatch(_app([], strict_slashes=True), _request("/echo"))
    assert answer.status_code == 308
    assert answer.headers["Location"].endswith("/echo/")


def test_an_unexpected_error_is_logged_and_answers_500(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="test.dispatch"):
        answer = dispatch(_app([]), _request("/break"))
    assert answer.status_code == 500 and _body(answer)["title"] == "Something went wrong"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "a bug" in caplog.text


def test_an_app_whose_map_and_handlers_differ_is_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        App(
            logger="x",
            urls=Map([Rule("/a", endpoint="a")]),
            handlers={"b": _echo},
            ports=lambda: None,
            answer_error=problem_answer,
        )


# --- the submit app with a bundle of fakes --------------------------------------------


def _submit_ports(store: SubmitStore | None = None) -> SubmitPorts:
    def no_client() -> Any:
        raise AssertionError("GET / must build no store, publisher or other bundle")

    return SubmitPorts(
        settings=Settings(token_secret="unit-test-secret-0123456789"),
        clock=FixedClock(dt.datetime(2025, 3, 4, 2, 0, tzinfo=dt.UTC)),
        # The running reference, handed directly: the form needs only it.
        reference_factory=lambda: REFERENCE,
        store_factory=(lambda: store) if store is not None else no_client,
        publisher_factory=InMemoryPublisher if store is not None else no_client,
        public_factory=no_client,
        preferences_factory=no_client,
        deliveries_factory=InMemoryNotificationStore if store is not None else no_client,
    )


def test_the_form_needs_the_reference_and_no_store_and_no_publisher() -> None:
    ports = _submit_ports()
    answer = submit_app.handle(_request("/"), lambda: ports)
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert answer.headers["Content-Language"] == "id"


def test_pages_and_the_api_answer_errors_each_in_their_own_kind() -> None:
    page = submit_app.handle(_request("/nothing"), _submit_ports)
    assert (page.status_code, page.mimetype) == (404, "text/html")
    api = submit_app.handle(_request("/api/v1/nothing", query_string={"lang": "en"}), _submit_ports)
    assert (api.status_code, api.mimetype) == (404, "application/problem+json")
    assert _body(api)["title"] == "Not found"
    wrong = submit_app.handle(_request("/lacak", "POST"), _submit_ports)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "GET, HEAD")


def test_a_report_submitted_through_the_api_is_tracked_on_its_page() -> None:
    store = InMemoryReportStore()
    ports = _submit_ports(store)
    created = submit_app.handle(_request("/api/v1/reports", "POST", json=_example()), lambda: ports)
    assert created.status_code == 201, created.get_data()
    code = _body(created)["tracking_code"]
    page = submit_app.handle(_request(f"/lacak/{code}"), lambda: ports)
    assert page.status_code == 200 and code in page.get_data(as_text=True)


def _example() -> dict[str, Any]:
    from shared.web.openapi import report_example

    example = report_example()
    example["incident_date"] = "2025-03-01"
    return example
