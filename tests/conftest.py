"""Shared test fixtures and the tiers.

Tiers are marked by directory (tests/unit -> ``unit`` ...), so ``pytest -m unit``
runs only the fast tier. Unit tests never start a JVM: requesting the emulators from
tests/unit is a collection error. Integration, functional and e2e tests request
``emulators`` (started once per session on free ports) or ``clean_emulators``
(emptied, topology recreated, before the test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.stack import Emulators, LocalStack, PrerequisiteError, Prerequisites, find_prerequisites

TEST_TOKEN_SECRET = "test-token-secret-not-for-production"
TEST_PROJECT = "lapor-test"
TIERS = ("unit", "infra", "integration", "functional", "e2e")
EMULATOR_FIXTURES = {"emulators", "clean_emulators", "seeded_emulators", "local_stack"}


def _tier(item: pytest.Item) -> str | None:
    try:
        tier = item.path.resolve().relative_to(Path(__file__).resolve().parent).parts[0]
    except ValueError:
        return None
    return tier if tier in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Fastest tier first, so a broken domain fails in seconds, not after the JVMs start.
    items.sort(key=lambda item: TIERS.index(_tier(item) or "e2e"))
    for item in items:
        tier = _tier(item)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))
        if tier == "unit" and EMULATOR_FIXTURES & set(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(
                f"{item.nodeid}: unit tests must not use the emulators; "
                "move it to tests/integration or tests/functional"
            )


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """Every test starts from the same environment and cannot leak changes into the next."""
    saved = dict(os.environ)
    os.environ["LAPOR_TOKEN_SECRET"] = TEST_TOKEN_SECRET
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _clear_settings_cache()


def _clear_settings_cache() -> None:
    try:
        from shared.config import settings
    except ImportError:
        return
    cache_clear = getattr(settings, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


def _prerequisites() -> Prerequisites:
    """Fail (never skip, never fake) with what to install when the emulators are missing."""
    try:
        return find_prerequisites()
    except PrerequisiteError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """The real Firestore and Pub/Sub emulators and fake-gcs-server (Cloud Storage) for
    the whole session, on free ports.

    Their environment (FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST,
    STORAGE_EMULATOR_HOST, LAPOR_ATTACHMENTS_BUCKET, LAPOR_STORAGE_SIGNING_KEY_FILE,
    GOOGLE_CLOUD_PROJECT, LAPOR_PROJECT) is set for the session.
    """
    prerequisites = _prerequisites()
    running = Emulators(
        tmp_path_factory.mktemp("emulators"), TEST_PROJECT, prerequisites=prerequisites
    )
    running.start()
    saved = {name: os.environ.get(name) for name in running.env()}
    os.environ.update(running.env())
    try:
        yield running
    finally:
        running.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def clean_emulators(emulators: Emulators) -> Emulators:
    """The session's emulators, emptied (the attachments bucket too), with the Pub/Sub
    topology recreated.

    Subscriptions are created as pull subscriptions (no function servers run here), so
    a test can pull what the subscribing function would have been pushed.
    """
    os.environ.update(emulators.env())
    emulators.reset()
    return emulators


@pytest.fixture
def seeded_emulators(clean_emulators: Emulators) -> Emulators:
    """Clean emulators with the reference data (agencies, categories) loaded."""
    from tools.seed import seed_emulator

    seed_emulator(clean_emulators.firestore_host, clean_emulators.project)
    return clean_emulators


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole stack as ``make run`` starts it (own emulators, every function, seeded),
    on free ports with a temporary data directory. ``local_stack.urls`` maps each
    function name to its base URL."""
    _prerequisites()
    stack = LocalStack(
        tmp_path_factory.mktemp("stack"),
        project=TEST_PROJECT,
        token_secret=TEST_TOKEN_SECRET,
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
