"""The running reference on the real Firestore emulator: the seed copies the bundled
files once and never overwrites, each instance serves the stored version and reloads
only when it moved, and an edit commits its document, the version and its change-log
entry together. The ReferenceAdminStore's fake is held to the adapter by the same
assertions (``backend``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.api_core.exceptions import ServiceUnavailable
from google.cloud import firestore

from shared.adapters.firestore_audit import AUDIT_LOG
from shared.adapters.firestore_reference import (
    CURRENT,
    REFERENCE_META,
    ROUTING_RULES,
    FirestoreReferenceAdminStore,
    FirestoreReferenceSource,
    bump_version,
)
from shared.ports import (
    AuditEntry,
    ReferenceEdit,
    ReferenceNotSeeded,
    StoredReference,
    StoreUnavailable,
)
from shared.reference import Agency, Reference, ReferenceDataError, RoutingRule, load_reference
from tests.fakes import InMemoryReferenceAdminStore
from tools.seed import seed_reference
from tools.stack import Emulators

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
BUNDLED = load_reference()


@pytest.fixture
def db(clean_emulators: Emulators) -> Iterator[firestore.Client]:
    client = firestore.Client(project=clean_emulators.project)
    yield client
    client.close()


class Ticks:
    """The time an instance's cache goes by, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def an_entry(kind: str = "rule.updated", target: str = "cianjur-jalan") -> AuditEntry:
    return AuditEntry(NOW, "dpupr-cianjur", "staff:nat", "Nadia", kind, target, {"a": "b"})


def renamed(agency_id: str, name: str, reference: Reference = BUNDLED) -> Agency:
    return reference.agency(agency_id).model_copy(update={"name": name})


# --- the seed ---------------------------------------------------------------------------


def test_the_first_seed_copies_agencies_and_rules_and_marks_the_reference_seeded(
    db: firestore.Client,
) -> None:
    counts = seed_reference(db)

    assert counts == {
        "agencies": len(BUNDLED.agencies),
        ROUTING_RULES: len(BUNDLED.routing_rules),
        "categories": len(BUNDLED.categories),
    }
    meta = db.collection(REFERENCE_META).document(CURRENT).get().to_dict() or {}
    assert meta["seeded"] is True and meta["version"] == 1
    rule = db.collection(ROUTING_RULES).document("cianjur-jalan").get().to_dict()
    assert rule == {
        "id": "cianjur-jalan",
        "category": "infrastruktur.jalan",
        "region": "32.03",
        "agency": "dpupr-cianjur",
    }
    assert FirestoreReferenceAdminStore(db).stored().version == 1


def test_a_seed_again_writes_no_agency_or_rule_so_console_edits_stay(
    db: firestore.Client,
) -> None:
    seed_reference(db, demo_webhook_url="http://127.0.0.1:8090/hooks/{agency_id}")
    agency = db.collection("agencies").document("dpupr-cianjur")
    agency.set(
        {
            "name": "Dinas PUPR (diubah di konsol)",
            "notification": {"webhook_url": "https://x.example/h"},
        },
        merge=True,
    )
    db.collection(ROUTING_RULES).document("cianjur-jalan").delete()  # deleted in the console

    again = seed_reference(db, demo_webhook_url="http://127.0.0.1:9999/hooks/{agency_id}")

    assert again == {"agencies": 0, ROUTING_RULES: 0, "categories": len(BUNDLED.categories)}
    doc = agency.get().to_dict() or {}
    assert doc["name"] == "Dinas PUPR (diubah di konsol)"
    assert doc["notification"]["webhook_url"] == "https://x.example/h"
    assert not db.collection(ROUTING_RULES).document("cianjur-jalan").get().exists
    meta = db.collection(REFERENCE_META).document(CURRENT).get().to_dict() or {}
    assert meta["version"] == 1


def test_the_first_seed_completes_agency_documents_left_by_an_older_seed(
    db: firestore.Client,
) -> None:
    older = BUNDLED.agency("dinkes-cianjur").model_dump(mode="json")
    db.collection("agencies").document("dinkes-cianjur").set({**older, "name": "Dinkes (lama)"})

    counts = seed_reference(db)

    assert counts["agencies"] == len(BUNDLED.agencies) - 1
    stored = FirestoreReferenceAdminStore(db).stored()
    assert {a.id: a.name for a in stored.agencies}["dinkes-cianjur"] == "Dinkes (lama)"


def test_every_stored_agency_has_a_signing_secret_after_a_seed(db: firestore.Client) -> None:
    seed_reference(db)

    secrets = {s.id for s in db.collection("agency_secrets").stream()}

    assert secrets == {a.id for a in BUNDLED.agencies}


def test_the_demo_webhook_goes_only_to_new_agencies_with_neither_webhook_nor_address(
    db: firestore.Client,
) -> None:
    seed_reference(db, demo_webhook_url="http://127.0.0.1:8090/hooks/{agency_id}")

    for agency in BUNDLED.agencies:
        stored = (db.collection("agencies").document(agency.id).get().to_dict() or {})[
            "notification"
        ]
        if agency.notification.emails:
            assert stored["webhook_url"] is None
            assert stored["emails"] == list(agency.notification.emails)
        else:
            assert stored["webhook_url"] == f"http://127.0.0.1:8090/hooks/{agency.id}"


def test_a_first_seed_that_contradicts_stored_agencies_writes_nothing(
    db: firestore.Client,
) -> None:
    # An older seed's document, changed by hand: dpupr-cianjur handles nothing, so the
    # bundled rules that name it cannot be added.
    older = BUNDLED.agency("dpupr-cianjur").model_dump(mode="json")
    db.collection("agencies").document("dpupr-cianjur").set({**older, "categories": []})

    with pytest.raises(ReferenceDataError, match="dpupr-cianjur"):
        seed_reference(db)

    assert not db.collection(ROUTING_RULES).document("cianjur-jalan").get().exists
    assert not db.collection(REFERENCE_META).document(CURRENT).get().exists


def test_the_seed_creates_past_one_batch(db: firestore.Client) -> None:
    many = [
        Agency(
            id=f"dinas-{i:04d}",
            name=f"Dinas {i}",
            short_name=f"D{i}",
            kind="agency",  # type: ignore[arg-type]
            parent="pemkab-cianjur",
            region="32.03",
        )
        for i in range(501)
    ]
    bigger = BUNDLED.with_agencies_and_rules([*BUNDLED.agencies, *many], BUNDLED.routing_rules)

    counts = seed_reference(db, bigger)

    assert counts["agencies"] == len(BUNDLED.agencies) + 501
    assert db.collection("agencies").count().get()[0][0].value == len(BUNDLED.agencies) + 501


# --- the source: what every instance runs on ---------------------------------------------


def test_an_environment_never_seeded_runs_on_the_bundled_files(db: firestore.Client) -> None:
    source = FirestoreReferenceSource(db, BUNDLED, refresh_s=60)

    assert source.current() is BUNDLED and source.version == 0
    # A channel edit's version bump alone does not make it seeded.
    batch = db.batch()
    bump_version(batch, db, NOW)
    batch.commit()
    assert FirestoreReferenceSource(db, BUNDLED, refresh_s=0).current() is BUNDLED


def test_a_seeded_environment_runs_on_what_is_stored_in_the_bundled_order(
    db: firestore.Client,
) -> None:
    seed_reference(db)
    source = FirestoreReferenceSource(db, BUNDLED, refresh_s=60)

    current = source.current()

    assert source.version == 1
    assert [a.id for a in current.agencies] == [a.id for a in BUNDLED.agencies]
    assert current.routing_rules == BUNDLED.routing_rules
    assert current.categories == BUNDLED.categories


def test_a_district_rule_added_to_a_unit_round_trips_into_the_running_reference(
    db: firestore.Client,
) -> None:
    seed_reference(db)
    ticks = Ticks()
    source = FirestoreReferenceSource(db, BUNDLED, refresh_s=60, monotonic=ticks)
    rule = RoutingRule(
        id="cibeber-jalan",
        category="infrastruktur.jalan",
        region="32.03.03",
        agency="uptd-jalan-cianjur-utara",
    )
    FirestoreReferenceAdminStore(db).edit(lambda stored: ReferenceEdit(an_entry(), rule=rule))

    ticks.now += 60
    current = source.current()

    assert rule in current.routing_rules
    assert current.place_name(rule.region) == "Cibeber"


def test_an_edit_is_seen_after_the_refresh_time_and_costs_one_read_until_then(
    db: firestore.Client,
) -> None:
    seed_reference(db)
    ticks = Ticks()
    source = FirestoreReferenceSource(db, BUNDLED, refresh_s=60, monotonic=ticks)
    source.current()
    store = FirestoreReferenceAdminStore(db)
    store.edit(
        lambda stored: ReferenceEdit(
            an_entry("agency.updated", "dpupr-cianjur"), agency=renamed("dpupr-cianjur", "Baru")
        )
    )
    reads = source.stats.reads

    ticks.now += 59
    assert source.current().agency("dpupr-cianjur").name != "Baru"  # cached: no read
    assert source.stats.reads == reads
    ticks.now += 1
    assert source.current().agency("dpupr-cianjur").name == "Baru"
    assert source.version == 2
    loaded = source.stats.reads
    ticks.now += 60
    same = source.current()
    assert source.stats.reads == loaded + 1  # the version document only
    assert source.current() is same


def test_a_stored_reference_that_fails_the_checks_is_logged_and_the_last_good_kept(
    db: firestore.Client, caplog: pytest.LogCaptureFixture
) -> None:
    seed_reference(db)
    source = FirestoreReferenceSource(db, BUNDLED, refresh_s=0)
    good = source.current()
    # A hand edit in the Firestore console: a rule to an agency that does not exist.
    batch = db.batch()
    batch.set(
        db.collection(ROUTING_RULES).document("typo"),
        {"id": "typo", "category": "kesehatan", "region": "32.03", "agency": "dinkes-cianjr"},
    )
    bump_version(batch, db, NOW)
    batch.commit()

    with caplog.at_level(logging.ERROR, logger="lapor.reference"):
        assert source.current() is good

    assert "stored reference data is invalid" in caplog.text
    assert source.version == 2  # looked at once, not reloaded at every use


def test_fields_others_keep_on_an_agency_document_do_not_break_the_reference(
    db: firestore.Client,
) -> None:
    seed_reference(db)
    batch = db.batch()
    batch.set(
        db.collection("agencies").document("dinkes-cianjur"),
        {"open_reports": 3, "notification": {"digest": "hourly", "updated_by": "staff:x"}},
        merge=True,
    )
    bump_version(batch, db, NOW)
    batch.commit()

    current = FirestoreReferenceSource(db, BUNDLED, refresh_s=0).current()

    assert current.agency("dinkes-cianjur").notification.digest == "hourly"


# --- the admin store: the fake and the adapter, the same assertions -----------------------


@dataclass
class Backend:
    store: Any  # ReferenceAdminStore
    entries: Any  # () -> list[AuditEntry]
    stats: Any  # (rule_id, {field: n}) -> None: a rule's running totals, as transitions move them


@pytest.fixture(params=["fake", "firestore"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        fake = InMemoryReferenceAdminStore.seeded(BUNDLED)

        def set_fake_stats(rule_id: str, totals: dict[str, int]) -> None:
            fake.routing_stats[rule_id] = totals

        yield Backend(fake, lambda: list(fake.audit.logged.values()), set_fake_stats)
        return
    emulators: Emulators = request.getfixturevalue("clean_emulators")
    client = firestore.Client(project=emulators.project)
    seed_reference(client)

    def entries() -> list[AuditEntry]:
        from shared.adapters.firestore_audit import audit_from_doc

        return [
            audit_from_doc(s.id, s.to_dict() or {}) for s in client.collection(AUDIT_LOG).stream()
        ]

    def set_stats(rule_id: str, totals: dict[str, int]) -> None:
        client.collection("routing_stats").document(rule_id).set({"key": rule_id, **totals})

    yield Backend(FirestoreReferenceAdminStore(client), entries, set_stats)
    client.close()


def test_stored_is_what_was_seeded_at_version_one(backend: Backend) -> None:
    stored = backend.store.stored()

    assert stored.version == 1
    assert {a.id for a in stored.agencies} == {a.id for a in BUNDLED.agencies}
    assert set(stored.rules) == set(BUNDLED.routing_rules)


def test_an_edit_writes_its_document_the_next_version_and_its_entry_together(
    backend: Backend,
) -> None:
    rule = RoutingRule(
        id="cianjur-jalan", category="infrastruktur", region="32.03", agency="dpupr-cianjur"
    )
    seen: list[StoredReference] = []

    def decide(stored: StoredReference) -> ReferenceEdit:
        seen.append(stored)
        return ReferenceEdit(an_entry(), rule=rule)

    backend.store.edit(decide)

    after = backend.store.stored()
    assert seen[-1].version == 1 and after.version == 2
    assert rule in after.rules
    assert backend.entries() == [an_entry()]


def test_an_agency_edit_keeps_the_channels_its_admin_set(backend: Backend) -> None:
    channels = next(
        a for a in backend.store.stored().agencies if a.id == "dinkes-cianjur"
    ).notification
    bare = renamed("dinkes-cianjur", "Dinas Kesehatan").model_copy(
        update={"notification": BUNDLED.agency("nasional").notification}
    )

    backend.store.edit(lambda stored: ReferenceEdit(an_entry("agency.updated"), agency=bare))

    after = next(a for a in backend.store.stored().agencies if a.id == "dinkes-cianjur")
    assert after.name == "Dinas Kesehatan" and after.notification == channels


def test_deleting_a_rule_removes_it_and_keeps_its_running_totals(backend: Backend) -> None:
    backend.stats("cianjur-jalan", {"dispositions": 10, "not_our_authority": 3})

    backend.store.edit(
        lambda stored: ReferenceEdit(an_entry("rule.deleted"), deleted_rule="cianjur-jalan")
    )

    assert "cianjur-jalan" not in {r.id for r in backend.store.stored().rules}
    assert backend.store.rule_stats(["cianjur-jalan", "cianjur-kesehatan"]) == {
        "cianjur-jalan": {"dispositions": 10, "not_our_authority": 3}
    }


def test_a_refused_decision_changes_nothing(backend: Backend) -> None:
    def refuse(stored: StoredReference) -> ReferenceEdit:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        backend.store.edit(refuse)

    assert backend.store.stored().version == 1 and backend.entries() == []


def test_nothing_can_be_edited_before_the_seed(clean_emulators: Emulators) -> None:
    client = firestore.Client(project=clean_emulators.project)
    decided: list[StoredReference] = []

    def decide(stored: StoredReference) -> ReferenceEdit:
        decided.append(stored)
        return ReferenceEdit(an_entry())

    for store in (InMemoryReferenceAdminStore(), FirestoreReferenceAdminStore(client)):
        with pytest.raises(ReferenceNotSeeded):
            store.edit(decide)
        assert store.stored() == StoredReference(0, (), ())
    assert decided == []
    assert not list(client.collection(AUDIT_LOG).stream())
    client.close()


def test_two_admins_editing_at_once_lose_no_edit(db: firestore.Client) -> None:
    seed_reference(db)
    both_read = threading.Barrier(2, timeout=20)
    calls: list[str] = []
    errors: list[BaseException] = []

    def rename(agency_id: str, name: str) -> None:
        store = FirestoreReferenceAdminStore(db)

        def decide(stored: StoredReference) -> ReferenceEdit:
            calls.append(agency_id)
            if calls.count(agency_id) == 1:
                both_read.wait()  # both transactions have read the same version
            return ReferenceEdit(an_entry("agency.updated"), agency=renamed(agency_id, name))

        try:
            store.edit(decide)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [
        threading.Thread(target=rename, args=("dinkes-cianjur", "Dinkes")),
        threading.Thread(target=rename, args=("dishub-cianjur", "Dishub")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    stored = FirestoreReferenceAdminStore(db).stored()
    assert stored.version == 3  # two edits, each its own version
    names = {a.id: a.name for a in stored.agencies}
    assert names["dinkes-cianjur"] == "Dinkes" and names["dishub-cianjur"] == "Dishub"
    assert len(calls) >= 3  # at least one decided again on the other's result


def test_an_edit_costs_one_commit_of_three_writes(db: firestore.Client) -> None:
    seed_reference(db)
    store = FirestoreReferenceAdminStore(db)

    store.edit(lambda stored: ReferenceEdit(an_entry(), rule=BUNDLED.routing_rules[0]))

    assert (store.stats.commits, store.stats.writes) == (1, 3)
    assert store.stats.reads == 1 + len(BUNDLED.agencies) + len(BUNDLED.routing_rules)


class Unreachable:
    """The emulator's client until ``down``: then every read fails as an outage does."""

    def __init__(self, client: firestore.Client) -> None:
        self.client, self.down = client, False

    def __getattr__(self, name: str) -> Any:
        if self.down:
            raise ServiceUnavailable("Firestore is unreachable")
        return getattr(self.client, name)


def test_a_warm_instance_keeps_its_reference_while_firestore_is_unreachable(
    db: firestore.Client, caplog: pytest.LogCaptureFixture
) -> None:
    seed_reference(db)
    client = Unreachable(db)
    source = FirestoreReferenceSource(client, BUNDLED, refresh_s=0)  # type: ignore[arg-type]
    loaded = source.current()
    client.down = True

    with caplog.at_level(logging.ERROR, logger="lapor.reference"):
        assert source.current() is loaded  # served, not a failed request

    assert "reference check failed" in caplog.text
    client.down = False
    assert source.current() is loaded and source.version == 1  # back: checked again


def test_a_cold_instance_fails_rather_than_act_on_the_bundled_files(db: firestore.Client) -> None:
    seed_reference(db)
    client = Unreachable(db)
    client.down = True
    source = FirestoreReferenceSource(client, BUNDLED, refresh_s=60)  # type: ignore[arg-type]

    with pytest.raises(StoreUnavailable):
        source.current()  # the bundled files may route where an edit no longer does
    client.down = False
    assert source.version == 0 and source.current() is not BUNDLED and source.version == 1
