"""Each OpenAPI document describes exactly what its app serves: every documented path
and method is in the app's URL map, and every route in the map is documented or
listed below as deliberately undocumented, with why."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.routing import Map

from shared.web import agency_app, agency_openapi, openapi, submit_app

# Served on purpose without a place in the document.
UNDOCUMENTED: dict[tuple[str, str], str] = {
    ("/healthz", "get"): "the platform's liveness probe: not part of the API clients use",
}

# A werkzeug rule variable: <name>, <converter:name> or <converter(args):name>.
_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch"})


def _expand(rule: str) -> list[str]:
    """The OpenAPI paths a rule serves: <x> is {x}, and <any(a, b):x> is each of a, b
    (the document lists every operation as a path of its own)."""
    found = _VARIABLE.search(rule)
    if found is None:
        return [rule]
    head, tail = rule[: found.start()], rule[found.end() :]
    if found["converter"] == "any":
        choices = [part.strip().strip("'\"") for part in found["args"].split(",")]
    else:
        choices = ["{" + found["name"] + "}"]
    return [head + choice + rest for choice in choices for rest in _expand(tail)]


def served(urls: Map) -> set[tuple[str, str]]:
    # werkzeug adds HEAD to every GET rule; HTTP gives it for free, OpenAPI need not list it.
    return {
        (path, method.lower())
        for rule in urls.iter_rules()
        for path in _expand(rule.rule)
        for method in rule.methods or ()
        if method != "HEAD"
    }


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in _HTTP_METHODS
    }


APPS = [
    pytest.param(submit_app.APP.urls, openapi.document, id="submit"),
    pytest.param(agency_app.APP.urls, agency_openapi.document, id="agency"),
]


@pytest.mark.parametrize(("urls", "document"), APPS)
def test_the_document_lists_exactly_what_the_app_serves(
    urls: Map, document: Callable[[], dict[str, Any]]
) -> None:
    assert documented(document()) == served(urls) - set(UNDOCUMENTED)


@pytest.mark.parametrize(("urls", "document"), APPS)
def test_what_is_left_undocumented_is_served(
    urls: Map, document: Callable[[], dict[str, Any]]
) -> None:
    assert set(UNDOCUMENTED) <= served(urls)


def test_an_operation_in_the_map_is_a_path_of_its_own() -> None:
    assert _expand("/r/<id>/<any(\"follow-up\", 'hold', verify):op>") == [
        "/r/{id}/follow-up",
        "/r/{id}/hold",
        "/r/{id}/verify",
    ]
    assert ("/api/v1/reports/{report_id}/not-our-authority", "post") in served(agency_app.APP.urls)
    assert ("/lacak/{code}/rating", "post") in served(submit_app.APP.urls)
