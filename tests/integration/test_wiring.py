"""The composition root: lazy, one instance of each piece, and forgotten on reset."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from shared import wiring
from shared.adapters.firestore_reference import FirestoreReferenceSource
from shared.web import submit_app
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


def test_the_form_builds_only_the_reference_source(fresh: None) -> None:
    # GET / offers the running agencies: the reference source is built and reads its
    # version document (again at most every reference_refresh_s); no store, no
    # publisher, no other bundle.
    request = Request(EnvironBuilder(path="/").get_environ())
    for _ in range(3):
        assert submit_app.handle(request, wiring.submit_ports).status_code == 200

    source = wiring.reference_source()
    assert isinstance(source, FirestoreReferenceSource) and source.stats.reads == 1
    others = (
        wiring.report_store,
        wiring.notification_store,
        wiring.public_store,
        wiring.contact_preferences,
        wiring.publisher_client,
    )
    assert [made.__name__ for made in others if made.cache_info().currsize] == []


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


def test_the_blob_store_is_the_emulators_bucket_signing_with_the_stacks_key(
    fresh: None,
) -> None:
    store = wiring.blob_store()
    assert store is wiring.blob_store()

    store.put("reports/r1/a.txt", b"isi", "text/plain")
    url = store.signed_get_url("reports/r1/a.txt", dt.timedelta(minutes=1))

    assert store.get("reports/r1/a.txt").data == b"isi"
    assert "X-Goog-Credential=lapor-local%40" in url  # the stack's generated key signed it
    wiring.reset()
    assert wiring.blob_store.cache_info().currsize == 0


def test_the_blob_store_refuses_to_build_without_a_bucket(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAPOR_ATTACHMENTS_BUCKET")

    with pytest.raises(RuntimeError, match="LAPOR_ATTACHMENTS_BUCKET"):
        wiring.blob_store()
