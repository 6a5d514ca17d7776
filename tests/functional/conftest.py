"""Fixtures every functional test module shares.

``app`` is the submit function's test client; the modules that test another function
(route, agency, notify) override it with their own, as pytest allows per module.
"""

from __future__ import annotations

from collections.abc import Iterator

import functions_framework
import pytest
from flask.testing import FlaskClient
from google.cloud import firestore

from shared import wiring
from tests.functional.console_support import (  # noqa: F401  (the console's fixtures)
    CHEAP_PASSWORD_HASHES,
    anonymous_client,
    console_app,
    signed_in_client,
)
from tools.stack import Emulators


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff passwords hashed at the least cost (see console_support), for every app and
    use case a test starts (the settings are read again: tests/conftest.py clears them)."""
    for name, value in CHEAP_PASSWORD_HASHES.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def db(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    """A client on the emptied emulator, to look at what the function wrote."""
    made = firestore.Client(project=clean_emulators.project)
    yield made
    made.close()


@pytest.fixture
def app(clean_emulators: Emulators) -> Iterator[FlaskClient]:
    wiring.reset()
    client = functions_framework.create_app(
        target="submit", source="functions/submit/main.py"
    ).test_client()
    yield client
    wiring.reset()
