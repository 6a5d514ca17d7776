"""The national admin's edits of agencies and routing rules (shared.usecases.reference_admin),
on the in-memory store: checked as the bundled files are, refused with nothing changed,
recorded with who and when."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.domain.report import Role
from shared.ports import ReferenceNotSeeded
from shared.reference import AgencyKind, load_reference
from shared.usecases.agency import Caller
from shared.usecases.reference_admin import (
    AgencyForm,
    EditRefused,
    RuleForm,
    delete_rule,
    rule_rows,
    save_agency,
    save_rule,
)
from tests.fakes import InMemoryReferenceAdminStore

BASE = load_reference()
NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
NATIONAL = Caller("nasional", Role.NATIONAL_ADMIN, key_label="Nadia", actor_id="staff:nat")
DPUPR_ADMIN = Caller("dpupr-cianjur", Role.AGENCY_ADMIN, key_label="Dedi", actor_id="staff:ded")

DISNAKER = AgencyForm(
    id="disnaker-cianjur",
    name="Dinas Tenaga Kerja Kabupaten Cianjur",
    short_name="Disnaker Cianjur",
    kind="agency",
    parent="pemkab-cianjur",
    region="32.03",
    categories=("pelayanan-publik-lainnya.aparatur",),
)


@pytest.fixture
def store() -> InMemoryReferenceAdminStore:
    return InMemoryReferenceAdminStore.seeded(BASE)


def agency_form(agency_id: str, **changes: object) -> AgencyForm:
    agency = BASE.agency(agency_id)
    fields: dict[str, object] = {
        "id": agency.id,
        "name": agency.name,
        "short_name": agency.short_name,
        "kind": agency.kind.value,
        "parent": agency.parent or "",
        "region": agency.region or "",
        "categories": agency.categories,
    }
    return AgencyForm(**{**fields, **changes})  # type: ignore[arg-type]


def rule_form(rule_id: str, **changes: str) -> RuleForm:
    rule = next(r for r in BASE.routing_rules if r.id == rule_id)
    return RuleForm(**{**rule.model_dump(), **changes})


def test_a_new_agency_is_stored_and_recorded_with_who_and_when(
    store: InMemoryReferenceAdminStore,
) -> None:
    made = save_agency(DISNAKER, creating=True, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert made.id == "disnaker-cianjur" and made.kind is AgencyKind.AGENCY
    assert store.agencies["disnaker-cianjur"] == made
    assert store.version == 2
    [entry] = store.audit.logged.values()
    assert (entry.kind, entry.target, entry.agency_id) == (
        "agency.created",
        "disnaker-cianjur",
        "disnaker-cianjur",
    )
    assert (entry.actor_id, entry.actor_name, entry.at) == ("staff:nat", "Nadia", NOW)
    assert entry.details["parent"] == "pemkab-cianjur"


def test_an_edit_records_only_what_changed_old_and_new(store: InMemoryReferenceAdminStore) -> None:
    form = agency_form("dinkes-cianjur", name="Dinas Kesehatan Cianjur")

    save_agency(form, creating=False, caller=NATIONAL, store=store, base=BASE, now=NOW)

    [entry] = store.audit.logged.values()
    assert entry.kind == "agency.updated"
    assert dict(entry.details) == {
        "name": f"{BASE.agency('dinkes-cianjur').name} → Dinas Kesehatan Cianjur"
    }


def test_saving_what_is_stored_already_writes_and_records_nothing(
    store: InMemoryReferenceAdminStore,
) -> None:
    agency = save_agency(
        agency_form("dinkes-cianjur"),
        creating=False,
        caller=NATIONAL,
        store=store,
        base=BASE,
        now=NOW,
    )
    rule = save_rule(
        rule_form("cianjur-jalan"), creating=False, caller=NATIONAL, store=store, base=BASE, now=NOW
    )

    assert agency.id == "dinkes-cianjur" and rule.id == "cianjur-jalan"
    assert store.version == 1 and not store.audit.logged


def test_an_agency_edit_leaves_its_channels_as_its_admin_set_them(
    store: InMemoryReferenceAdminStore,
) -> None:
    before = store.agencies["dinkes-cianjur"].notification

    save_agency(
        agency_form("dinkes-cianjur", short_name="Dinkes"),
        creating=False,
        caller=NATIONAL,
        store=store,
        base=BASE,
        now=NOW,
    )

    assert store.agencies["dinkes-cianjur"].notification == before


def test_only_the_national_admin_may_edit(store: InMemoryReferenceAdminStore) -> None:
    with pytest.raises(EditRefused) as refused:
        save_agency(DISNAKER, creating=True, caller=DPUPR_ADMIN, store=store, base=BASE, now=NOW)

    assert refused.value.status == 403
    assert store.version == 1 and not store.audit.logged


def test_an_id_already_taken_is_refused_for_a_new_agency(
    store: InMemoryReferenceAdminStore,
) -> None:
    with pytest.raises(EditRefused) as refused:
        save_agency(
            agency_form("dinkes-cianjur"),
            creating=True,
            caller=NATIONAL,
            store=store,
            base=BASE,
            now=NOW,
        )

    assert refused.value.status == 409
    assert refused.value.problems[0].field == "id"
    assert store.version == 1


def test_editing_an_agency_that_does_not_exist_is_not_found(
    store: InMemoryReferenceAdminStore,
) -> None:
    with pytest.raises(EditRefused) as refused:
        save_agency(DISNAKER, creating=False, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert refused.value.status == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "Dinsos Cianjur"}, "id"),
        ({"name": "  "}, "name"),
        ({"kind": "ministry"}, "kind"),
        ({"region": "jabar"}, "region"),
    ],
)
def test_a_malformed_field_is_named_in_both_languages(
    store: InMemoryReferenceAdminStore, changes: dict[str, str], field: str
) -> None:
    form = AgencyForm(**{**DISNAKER.__dict__, **changes})

    with pytest.raises(EditRefused) as refused:
        save_agency(form, creating=True, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert refused.value.status == 422
    [problem] = refused.value.problems
    assert problem.field == field and problem.id and problem.en and problem.id != problem.en
    assert store.version == 1


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"parent": "dinas-tidak-ada"}, "dinas-tidak-ada"),
        ({"parent": "uptd-jalan-cianjur"}, "cannot sit under"),
        ({"region": "32.73"}, "outside its parent"),
        ({"categories": ("kategori-tidak-ada",)}, "kategori-tidak-ada"),
    ],
)
def test_an_agency_that_would_make_the_reference_inconsistent_is_refused(
    store: InMemoryReferenceAdminStore, changes: dict[str, object], named: str
) -> None:
    form = AgencyForm(**{**DISNAKER.__dict__, **changes})

    with pytest.raises(EditRefused) as refused:
        save_agency(form, creating=True, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert refused.value.status == 422
    assert any(named in p.en for p in refused.value.problems), refused.value.problems
    assert all(p.id.startswith("Perubahan ini") for p in refused.value.problems)
    assert store.version == 1 and "disnaker-cianjur" not in store.agencies


def test_an_agency_cannot_drop_a_category_its_rules_route(
    store: InMemoryReferenceAdminStore,
) -> None:
    form = agency_form("dinkes-cianjur", categories=())

    with pytest.raises(EditRefused) as refused:
        save_agency(form, creating=False, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert any("does not handle category" in p.en for p in refused.value.problems)
    assert store.agencies["dinkes-cianjur"] == BASE.agency("dinkes-cianjur")


# --- rules --------------------------------------------------------------------------------


def test_a_new_rule_is_stored_and_recorded_in_its_agencys_log(
    store: InMemoryReferenceAdminStore,
) -> None:
    form = RuleForm("cianjur-puskesmas", "kesehatan.puskesmas", "32.03", "dinkes-cianjur")
    save_rule(form, creating=True, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert store.rules["cianjur-puskesmas"].category == "kesehatan.puskesmas"
    [entry] = store.audit.logged.values()
    assert (entry.kind, entry.agency_id, entry.target) == (
        "rule.created",
        "dinkes-cianjur",
        "cianjur-puskesmas",
    )


def test_a_rule_to_an_agency_that_does_not_handle_its_category_is_refused(
    store: InMemoryReferenceAdminStore,
) -> None:
    form = rule_form("cianjur-jalan", agency="dinkes-cianjur")

    with pytest.raises(EditRefused) as refused:
        save_rule(form, creating=False, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert any("does not handle category" in p.en for p in refused.value.problems)
    assert store.rules["cianjur-jalan"].agency == "dpupr-cianjur"


def test_a_rule_outside_its_agencys_region_is_refused(store: InMemoryReferenceAdminStore) -> None:
    form = rule_form("cianjur-jalan", region="32.73")

    with pytest.raises(EditRefused) as refused:
        save_rule(form, creating=False, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert any("does not cover" in p.en for p in refused.value.problems)


def test_two_rules_for_the_same_category_and_region_are_refused(
    store: InMemoryReferenceAdminStore,
) -> None:
    twin = rule_form("cianjur-jalan", id="cianjur-jalan-2")

    with pytest.raises(EditRefused) as refused:
        save_rule(twin, creating=True, caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert any("ambiguous" in p.en for p in refused.value.problems)


def test_a_rule_edit_records_the_change(store: InMemoryReferenceAdminStore) -> None:
    save_rule(
        rule_form("cianjur-kesehatan", category="kesehatan.rumah-sakit"),
        creating=False,
        caller=NATIONAL,
        store=store,
        base=BASE,
        now=NOW,
    )

    assert store.rules["cianjur-kesehatan"].category == "kesehatan.rumah-sakit"
    [entry] = store.audit.logged.values()
    assert entry.kind == "rule.updated"
    assert dict(entry.details) == {"category": "kesehatan → kesehatan.rumah-sakit"}


def test_deleting_a_rule_keeps_its_running_totals(store: InMemoryReferenceAdminStore) -> None:
    store.routing_stats["cianjur-kesehatan"] = {"dispositions": 8, "not_our_authority": 2}

    gone = delete_rule("cianjur-kesehatan", caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert gone.agency == "dinkes-cianjur" and "cianjur-kesehatan" not in store.rules
    assert store.routing_stats["cianjur-kesehatan"] == {"dispositions": 8, "not_our_authority": 2}
    [entry] = store.audit.logged.values()
    assert (entry.kind, entry.agency_id, entry.details["category"]) == (
        "rule.deleted",
        "dinkes-cianjur",
        "kesehatan",
    )


def test_deleting_a_rule_that_is_gone_is_not_found(store: InMemoryReferenceAdminStore) -> None:
    with pytest.raises(EditRefused) as refused:
        delete_rule("tidak-ada", caller=NATIONAL, store=store, base=BASE, now=NOW)

    assert refused.value.status == 404


def test_nothing_is_edited_before_the_reference_is_seeded() -> None:
    with pytest.raises(ReferenceNotSeeded):
        save_agency(
            DISNAKER,
            creating=True,
            caller=NATIONAL,
            store=InMemoryReferenceAdminStore(),
            base=BASE,
            now=NOW,
        )


def test_rule_rows_give_each_rules_misrouting_rate(store: InMemoryReferenceAdminStore) -> None:
    store.routing_stats["cianjur-jalan"] = {"dispositions": 8, "not_our_authority": 2}

    rows = {row.rule.id: row.figures for row in rule_rows(store.stored(), store)}

    assert rows["cianjur-jalan"].misrouting_rate == 0.25
    assert rows["cianjur-kesehatan"].dispositions == 0
    assert rows["cianjur-kesehatan"].misrouting_rate is None
    assert list(rows) == sorted(rows)
