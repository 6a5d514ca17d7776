"""The token secret is a setting only some functions get (docs/secrets.md): a function
without it starts, and fails clearly at the first use instead of keying with nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.config import MissingSecret, Settings

SECRET = "unit-test-token-secret-0123"


def test_a_function_not_given_the_token_secret_starts_and_fails_at_first_use() -> None:
    settings = Settings.from_env({})
    with pytest.raises(MissingSecret, match="LAPOR_TOKEN_SECRET is not set"):
        _ = settings.token_secret


def test_the_token_secret_is_read_from_the_environment_and_by_keyword() -> None:
    assert Settings.from_env({"LAPOR_TOKEN_SECRET": SECRET}).token_secret == SECRET
    assert Settings(token_secret=SECRET).token_secret == SECRET


def test_a_short_token_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings.from_env({"LAPOR_TOKEN_SECRET": "too-short"})


def test_the_token_secret_never_shows_in_the_settings_printed() -> None:
    settings = Settings(token_secret=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)


def test_every_setting_has_one_environment_variable() -> None:
    names = Settings.environment_names()
    assert names["LAPOR_TOKEN_SECRET"] == "token_secret"
    assert "LAPOR_TOKEN_SECRET_VALUE" not in names
    assert len(names) == len(Settings.model_fields)
