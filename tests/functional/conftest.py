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
    anonymous_client,
    console_app,
    signed_in_client,
)
from tools.stack import Emulators


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
