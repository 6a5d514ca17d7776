"""Bahasa Indonesia first, English second, and nothing left untranslated."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from shared.domain.report import Action, State
from shared.web.i18n import (
    ACTION_LABELS,
    MESSAGES,
    STATE_LABELS,
    action_label,
    format_date,
    format_datetime,
    negotiate,
    state_label,
    t,
)

WEB = Path(__file__).resolve().parents[2] / "shared" / "web"
SOURCES = [*(WEB / "templates").glob("*.html"), *WEB.glob("*.py")]


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, (indonesian, english) in MESSAGES.items():
        assert indonesian.strip() and english.strip(), key
        fields = [
            {f for _, f, _, _ in string.Formatter().parse(text) if f}
            for text in (indonesian, english)
        ]
        assert fields[0] == fields[1], key


def test_every_key_the_code_uses_exists() -> None:
    used: set[str] = set()
    for source in SOURCES:
        text = source.read_text()
        used |= set(re.findall(r'\b_\(\s*"([a-z_]+)"\s*[,)]', text))
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+)"\s*,', text))
    assert used, "the scan found no keys"
    assert used - set(MESSAGES) == set()


def test_every_key_an_error_table_names_exists() -> None:
    from shared.web import agency_app, dispatch, pages

    used = {key for _, key in dispatch._API_ERRORS.values()}
    used |= {key for pair in pages._PAGE_ERRORS.values() for key in pair}
    used |= {key for _, _, key in agency_app._LIFECYCLE_PROBLEMS}
    assert used - set(MESSAGES) == set()


def test_every_validation_code_has_a_message() -> None:
    from shared.web.http import _CODES, _OURS

    for code in {*_CODES.values(), *_OURS, "too_short", "invalid_type"}:
        assert f"err_{code}" in MESSAGES, code


def test_every_state_and_action_has_labels() -> None:
    assert set(STATE_LABELS) == {state.value for state in State}
    assert set(ACTION_LABELS) == {action.value for action in Action}


def test_state_labels_are_the_sp4n_lapor_names() -> None:
    assert [state_label(s.value, "id") for s in State] == [
        "Belum Terverifikasi",
        "Tertunda",
        "Arsip",
        "Terdisposisi \u2013 Belum Ditindaklanjuti",
        "Terdisposisi \u2013 Sedang Diproses",
        "Selesai (menunggu konfirmasi pelapor)",
        "Selesai",
    ]
    assert state_label("submitted", "en") == "Not yet verified"
    assert action_label("follow_up", "id") == "Tindak lanjut"


def _request(query: str | None, header: str | None) -> Request:
    headers = {"Accept-Language": header} if header is not None else {}
    builder = EnvironBuilder(query_string={"lang": query} if query is not None else None)
    builder.headers.update(headers)
    return Request(builder.get_environ())


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "id"),
        ("en", None, "en"),
        ("EN", "id", "en"),
        ("id", "en", "id"),
        ("fr", "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, id;q=0.8", "id"),
        (None, "en;q=0, id;q=0.1", "id"),
        (None, "id-ID", "id"),
        (None, "en-GB, id;q=0.5", "en"),
        (None, "de, fr", "id"),
        (None, "en;q=garbage", "id"),
        (None, "*", "id"),
    ],
)
def test_citizens_get_the_language_they_ask_for_else_indonesian(
    query: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(_request(query, header)) == expected


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "en"),
        ("id", None, "id"),
        (None, "id-ID,id;q=0.9", "id"),
        (None, "en-GB, id;q=0.5", "en"),
        (None, "id;q=0.2, en", "en"),
        (None, "id, en", "id"),
        (None, "*", "en"),
        (None, "fr", "en"),
    ],
)
def test_an_app_with_another_default_keeps_it_when_nothing_else_fits(
    query: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(_request(query, header), default="en") == expected


def test_dates_are_written_in_words() -> None:
    assert format_date(dt.date(2025, 3, 4), "id") == "4 Maret 2025"
    assert format_date("2025-08-17", "en") == "17 August 2025"
    assert format_date(None, "id") == ""


def test_times_are_shown_in_western_indonesian_time() -> None:
    assert format_datetime("2025-03-04T02:30:00+00:00", "id") == "4 Maret 2025 09.30 WIB"


def test_messages_fill_placeholders() -> None:
    assert t("err_too_short", "id", min=10) == "Minimal 10 karakter."
    assert t("err_too_short", "en", min=10) == "At least 10 characters."
