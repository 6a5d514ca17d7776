"""The composition root: lazy, one instance of each piece, and forgotten on reset."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from shared import wiring
from tools.stack import REPO_ROOT, Emulators


@pytest.fixture
def fresh(clean_emulators: Emulators) -> Iterator[None]:
    wiring.reset()
    yield
    wiring.reset()


def test_importing_the_composition_root_imports_no_google_cloud_package() -> None:
    # Cold start is import time: clients are made on first use, never at import. (The
    # empty google and google.cloud namespace packages are loaded at startup by site.)
    probe = (
        "import sys; before = set(sys.modules); import shared.wiring; "
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('google')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_submit_bundle_makes_no_client_until_a_request_needs_one(fresh: None) -> None:
    ports = wiring.submit_ports()
    assert wiring.firestore_client.cache_info().currsize == 0
    assert wiring.publisher_client.cache_info().currsize == 0

    assert ports.store is wiring.report_store()
    assert wiring.firestore_client.cache_info().currsize == 1
    assert wiring.publisher_client.cache_info().currsize == 0


def test_every_bundle_shares_the_instances_stores_and_reset_forgets_them(fresh: None) -> None:
    agency, route, sweep = wiring.agency_ports(), wiring.route_ports(), wiring.sweep_ports()
    notify = wiring.notify_ports()

    store = wiring.report_store()
    bus, agencies, notifications = (
        wiring.publisher(),
        wiring.agency_store(),
        wiring.notification_store(),
    )
    assert all(made is store for made in (agency.store, route.store, sweep.store, notify.store))
    assert all(made is bus for made in (agency.publisher, route.publisher, sweep.publisher))
    assert agency.keys is agencies and agency.inbox is agencies
    assert notify.deliveries is notifications and notify.channels is notifications
    # One count of Firestore operations per instance: the agency store shares it.
    assert wiring.agency_store().stats is store.stats
    assert agency.reference is wiring.reference()
    assert route.tables == wiring.routing_tables()

    wiring.reset()

    assert wiring.agency_ports() is not agency
    assert wiring.agency_store() is not agency.keys
    assert wiring.report_store() is not store
