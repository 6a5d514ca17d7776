"""Unsubscribe tokens: they read back as whom they stop, only under our secret, and
anything else (tampered, truncated, garbage, too long) reads as nothing. An agency's
address never shows in the token or the opt-out."""

from __future__ import annotations

import base64

import pytest

from shared.ports import OptOut
from shared.tokens import (
    UNSUBSCRIBE_TOKEN_MAX,
    agency_opt_out,
    read_unsubscribe_token,
    reporter_opt_out,
    unsubscribe_token,
)

SECRET = "unit-test-secret-0123456789"
REPORTER = reporter_opt_out("Rk7mQ2xq9RjWz3Lp0aBc", "email")
AGENCY = agency_opt_out(SECRET, "dpupr-cianjur", "Pengaduan@DPUPR.cianjurkab.example")


@pytest.mark.parametrize("who", [REPORTER, reporter_opt_out("abc", "sms"), AGENCY])
def test_a_token_reads_back_as_whom_it_stops(who: OptOut) -> None:
    token = unsubscribe_token(SECRET, who)
    assert read_unsubscribe_token(SECRET, token) == who
    assert len(token) < 120  # short enough for a link in any client
    assert read_unsubscribe_token("another-secret-0123456789", token) is None


def test_keys_tell_recipients_apart() -> None:
    assert REPORTER.key == "reporter.Rk7mQ2xq9RjWz3Lp0aBc.email"
    assert reporter_opt_out("Rk7mQ2xq9RjWz3Lp0aBc", "sms").key != REPORTER.key
    assert AGENCY.key.startswith("agency.dpupr-cianjur.email.")
    # The same address however it is written; another address of the agency apart.
    same = agency_opt_out(SECRET, "dpupr-cianjur", " pengaduan@dpupr.cianjurkab.example ")
    assert same == AGENCY
    assert agency_opt_out(SECRET, "dpupr-cianjur", "kadis@dpupr.example").key != AGENCY.key


def test_an_agencys_address_is_never_in_its_token() -> None:
    token = unsubscribe_token(SECRET, AGENCY)
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert "@" not in decoded and "pengaduan" not in decoded.lower()
    assert "@" not in AGENCY.key


def _tampered(token: str) -> list[str]:
    payload, mac = token.split(".")
    other = unsubscribe_token(SECRET, reporter_opt_out("SomeoneElse0123456789", "email"))
    flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    return [
        f"{other.split('.')[0]}.{mac}",  # another recipient under this MAC
        f"{payload}.{flipped}",
        f"{payload}.",
        payload,
        token + ".x",
        token[:-4],
    ]


@pytest.mark.parametrize(
    "token",
    [
        *_tampered(unsubscribe_token(SECRET, REPORTER)),
        "",
        ".",
        "not a token",
        "%%%.%%%",
        "x" * (UNSUBSCRIBE_TOKEN_MAX + 1),
    ],
)
def test_anything_else_reads_as_nothing(token: str) -> None:
    assert read_unsubscribe_token(SECRET, token) is None


def test_a_signed_payload_that_names_nobody_reads_as_nothing() -> None:
    import hashlib
    import hmac

    def signed(payload: str) -> str:
        mac = hmac.new(
            SECRET.encode(), f"unsubscribe\x00{payload}".encode(), hashlib.sha256
        ).digest()[:18]
        return (
            base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
            + "."
            + base64.urlsafe_b64encode(mac).decode().rstrip("=")
        )

    assert read_unsubscribe_token(SECRET, signed("r|Rk7mQ2xq9RjWz3Lp0aBc|e|")) == REPORTER
    for payload in ("x|abc|e|", "r|abc|fax|", "r|a/b|e|", "r|abc|e", "r||e|"):
        assert read_unsubscribe_token(SECRET, signed(payload)) is None


@pytest.mark.parametrize("owner", ["", "a/b", "a|b", "a.b", "x" * 129])
def test_an_opt_out_names_a_report_or_agency_id(owner: str) -> None:
    with pytest.raises(ValueError):
        OptOut("reporter", owner, "email")
