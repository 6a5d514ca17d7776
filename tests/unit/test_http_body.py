"""Reading a JSON body: which refusal wins, in which words, and what gets through."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Request
from pydantic import BaseModel, ConfigDict
from werkzeug.test import EnvironBuilder

from shared.web.http import Problem, parse_json_body, read_json_object
from shared.web.i18n import Lang


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def _request(body: bytes, content_type: str | None = "application/json") -> Request:
    builder = EnvironBuilder(method="POST", data=body, content_type=content_type)
    return Request(builder.get_environ())


def _refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(Problem) as raised:
        call()
    response = raised.value.response
    body = json.loads(response.get_data())
    assert body["status"] == response.status_code
    return dict(body)


def test_an_object_comes_back_and_a_model_is_validated() -> None:
    assert read_json_object(_request(b'{"a": 1}'), max_bytes=100, lang="en") == {"a": 1}
    parsed = parse_json_body(_request(b'{"name": "x"}'), _In, max_bytes=100, lang="en")
    assert parsed == _In(name="x")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "kind"),
    [
        (b"x" * 101, "text/plain", 415, "unsupported-media-type"),  # the type is looked at first
        (b"x" * 101, "application/json", 413, "body-too-large"),
        (b"{", "application/json", 400, "malformed-json"),
        (b"\xff", "application/json", 400, "malformed-json"),
        (b"[1]", "application/json", 400, "malformed-json"),
        (b"", "application/json", 400, "malformed-json"),
    ],
)
def test_refusals(body: bytes, content_type: str, status: int, kind: str) -> None:
    found = _refusal(
        lambda: read_json_object(_request(body, content_type), max_bytes=100, lang="en")
    )
    assert (found["status"], found["type"]) == (status, f"urn:lapor:problem:{kind}")


def test_allow_empty_reads_before_it_looks_at_the_type() -> None:
    def read(body: bytes, content_type: str | None) -> dict[str, Any]:
        request = _request(body, content_type)
        return read_json_object(request, max_bytes=100, lang="en", allow_empty=True)

    assert read(b"  ", None) == {}
    assert _refusal(lambda: read(b"x" * 101, "text/plain"))["status"] == 413
    assert _refusal(lambda: read(b"{}", "text/plain"))["status"] == 415


def test_before_parse_runs_after_the_read_and_before_the_parse() -> None:
    calls: list[str] = []
    request = _request(b"{", "application/json")
    found = _refusal(
        lambda: read_json_object(
            request, max_bytes=100, lang="en", before_parse=lambda: calls.append("checked")
        )
    )
    assert calls == ["checked"] and found["status"] == 400
    _refusal(
        lambda: read_json_object(
            _request(b"x" * 101), max_bytes=100, lang="en", before_parse=lambda: calls.append("no")
        )
    )
    assert calls == ["checked"]


def test_refusals_are_worded_in_the_callers_language_and_422_lists_fields() -> None:
    def refused(lang: Lang) -> dict[str, Any]:
        return _refusal(
            lambda: read_json_object(_request(b"{}", "text/plain"), max_bytes=100, lang=lang)
        )

    indonesian, english = refused("id"), refused("en")
    assert indonesian["title"] == "Jenis isian tidak didukung"
    assert english["title"] == "Unsupported content type"
    assert english["detail"] == "Send the request body as application/json."
    invalid = _refusal(
        lambda: parse_json_body(
            _request(b'{"other": 1}'), _In, max_bytes=100, lang="en", instance="/x"
        )
    )
    assert invalid["status"] == 422 and invalid["instance"] == "/x"
    assert {e["field"] for e in invalid["errors"]} == {"name", "other"}
