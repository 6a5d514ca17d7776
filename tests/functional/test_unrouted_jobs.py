"""The job and push functions answer what functions-framework would answer itself
(its /robots.txt, a path its rule does not match, a push function's GET, a body that
is no event) with problem+json and the security headers, never Flask's HTML page,
which for a body that is no event echoed the request's headers, bearer token and all
(issue 11, item 1). Nothing here reaches the function, so no emulator is needed."""

from __future__ import annotations

import functions_framework
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PROBLEM_JSON = "application/problem+json"
JOBS = ["escalate", "digest", "sweep"]
PUSHED = ["route", "notify"]
UNROUTED = ["/robots.txt", "/favicon.ico", "/x%0A"]


def _client(name: str) -> FlaskClient:
    app = functions_framework.create_app(target=name, source=f"functions/{name}/main.py")
    client: FlaskClient = app.test_client()
    return client


def _assert_problem(answer: TestResponse, status: int) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.content_type == PROBLEM_JSON
    assert answer.get_json()["status"] == status
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", JOBS)
@pytest.mark.parametrize("path", UNROUTED)
def test_a_path_the_framework_would_answer_is_a_404_problem(name: str, path: str) -> None:
    _assert_problem(_client(name).get(path), 404)


@pytest.mark.parametrize("name", PUSHED)
def test_a_path_no_rule_matches_is_a_404_problem(name: str) -> None:
    _assert_problem(_client(name).post("/x%0A"), 404)


@pytest.mark.parametrize("name", PUSHED)
@pytest.mark.parametrize("path", ["/", *UNROUTED[:2]])
def test_a_get_to_a_push_function_is_a_405_problem_naming_post(name: str, path: str) -> None:
    answer = _client(name).get(path)
    _assert_problem(answer, 405)
    assert answer.headers["Allow"] == "POST"


@pytest.mark.parametrize("name", PUSHED)
def test_a_body_that_is_no_event_is_a_400_problem_that_echoes_nothing(name: str) -> None:
    answer = _client(name).post(
        "/",
        data=b'{"not": "a push"}',
        content_type="application/json",
        headers={"Authorization": "Bearer sekret-oidc-token"},
    )
    _assert_problem(answer, 400)
    assert "sekret-oidc-token" not in answer.get_data(as_text=True)
