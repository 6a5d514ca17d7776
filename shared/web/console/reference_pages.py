"""Agencies and routing rules, maintained by the national admin (anyone else: the 403 page).

- ``/instansi``: the agencies as stored, with a form that adds one (POST);
  ``/instansi/<agency_id>``: one agency's form (POST saves) and the rules that route to
  it. Its notification channels are its admin's (``/pengaturan``), not edited here.
- ``/aturan``: every routing rule with its dispositions, Bukan Wewenang answers and
  misrouting rate beside it, and a form that adds one (POST); ``/aturan/<rule_id>``:
  one rule's form (POST saves), ``/aturan/<rule_id>/hapus`` (POST) deletes it (its
  running totals stay).

The lists are read fresh from the store, so a change shows at once; every function
runs on it within ``reference_refresh_s``. The rules are shared.usecases.reference_admin's:
each edit is checked against the whole reference and recorded in the change log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from flask import Response
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from shared.ports import ReferenceNotSeeded, StoredReference
from shared.reference import Agency, AgencyKind, Reference, RoutingRule
from shared.usecases import reference_admin
from shared.usecases.reference_admin import AgencyForm, EditRefused, RuleForm
from shared.web.console.common import (
    ConsoleCall,
    Staff,
    done,
    page_error,
    posted_form,
    render_page,
    signed_in,
    tr,
)
from shared.web.i18n import Lang

KIND_LABELS: Mapping[AgencyKind, tuple[str, str]] = {
    AgencyKind.NATIONAL: ("Nasional", "National"),
    AgencyKind.PROVINCE: ("Pemerintah provinsi", "Province government"),
    AgencyKind.REGENCY: ("Pemerintah kabupaten", "Regency government"),
    AgencyKind.CITY: ("Pemerintah kota", "City government"),
    AgencyKind.AGENCY: ("Dinas atau badan", "Agency (dinas, badan)"),
    AgencyKind.UNIT: ("Unit (UPTD, puskesmas)", "Unit (UPTD, health centre)"),
}
# Form field names, and the id of the input each problem links to.
AGENCY_INPUTS: Mapping[str, str] = {
    "id": "kode",
    "name": "nama",
    "short_name": "nama-singkat",
    "kind": "jenis",
    "parent": "induk",
    "region": "wilayah",
    "categories": "kategori",
}
RULE_INPUTS: Mapping[str, str] = {
    "id": "kode",
    "category": "kategori",
    "region": "wilayah",
    "agency": "instansi",
}
T = TypeVar("T")

NOT_SEEDED = (
    "Data rujukan belum dimuat ke Firestore: jalankan python -m tools.seed sekali, lalu "
    "ubah instansi dan aturan di sini.",
    "The reference data is not in Firestore yet: run python -m tools.seed once, then edit "
    "agencies and rules here.",
)


def _say(lang: Lang, pair: tuple[str, str]) -> str:
    return tr(lang, *pair)


# --- what the pages show --------------------------------------------------------------


def _running(call: ConsoleCall, stored: StoredReference) -> Reference:
    """The reference to show: the stored agencies and rules (fresh, so an edit shows at
    once) over the running regions and categories; before the seed, the running one."""
    base = call.ports.agency.reference
    if stored.version == 0:
        return base
    return base.with_agencies_and_rules(stored.agencies, stored.rules)


def _region_options(reference: Reference) -> list[tuple[str, str]]:
    """Each province followed by its regencies and cities."""
    options: list[tuple[str, str]] = []
    for province in reference.provinces:
        options.append((province.code, f"{province.code} {province.name}"))
        options += [(r.code, f"{r.code} {r.name}") for r in reference.regencies_of(province.code)]
    return options


def _rule_region_options(reference: Reference) -> list[tuple[str, str]]:
    """The regions, and under each regency where an agency sits its districts: a rule
    may send a kecamatan's reports to the office (often a UPTD) that covers it."""
    local = {a.region for a in reference.agencies if a.region and a.region.count(".") == 1}
    options: list[tuple[str, str]] = []
    for code, label in _region_options(reference):
        options.append((code, label))
        if code in local:
            options += [(d.code, f"{d.code} Kec. {d.name}") for d in reference.districts_of(code)]
    return options


def _category_label(lang: Lang, reference: Reference, category_id: str) -> str:
    if not reference.has_category(category_id):
        return category_id
    category = reference.category(category_id)
    name = category.name_en if lang == "en" else category.name_id
    parent = category.parent
    if parent is not None and reference.has_category(parent):
        above = reference.category(parent)
        name = f"{above.name_en if lang == 'en' else above.name_id} / {name}"
    return name


def _category_options(lang: Lang, reference: Reference) -> list[tuple[str, str]]:
    return [(c.id, _category_label(lang, reference, c.id)) for c in reference.categories]


def _region_label(reference: Reference, code: str | None) -> str:
    if not code:
        return "-"
    return reference.place_name(code) if reference.has_place(code) else code


def _agency_name(reference: Reference, agency_id: str | None) -> str:
    if not agency_id:
        return "-"
    return reference.agency(agency_id).name if reference.has_agency(agency_id) else agency_id


def _agency_row(lang: Lang, reference: Reference, agency: Agency) -> dict[str, Any]:
    return {
        "id": agency.id,
        "name": agency.name,
        "short_name": agency.short_name,
        "kind": _say(lang, KIND_LABELS[agency.kind]),
        "parent": _agency_name(reference, agency.parent),
        "region": _region_label(reference, agency.region),
        "categories": [_category_label(lang, reference, c) for c in agency.categories],
    }


def _agency_typed(agency: Agency | None) -> dict[str, Any]:
    if agency is None:
        return {
            "id": "",
            "name": "",
            "short_name": "",
            "kind": AgencyKind.AGENCY.value,
            "parent": "",
            "region": "",
            "categories": [],
        }
    return {
        "id": agency.id,
        "name": agency.name,
        "short_name": agency.short_name,
        "kind": agency.kind.value,
        "parent": agency.parent or "",
        "region": agency.region or "",
        "categories": list(agency.categories),
    }


def _errors(lang: Lang, refusal: EditRefused, inputs: Mapping[str, str]) -> list[tuple[str, str]]:
    """(input id, message) for the error summary; a problem of the whole edit links nowhere."""
    return [(inputs.get(p.field, ""), tr(lang, p.id, p.en)) for p in refusal.problems]


def _attempt(edit: Callable[[], T]) -> T | EditRefused:
    """The edit's result, or why it was refused (nothing changed); not found: 404."""
    try:
        return edit()
    except ReferenceNotSeeded:
        return EditRefused(409, [reference_admin.Problem("", *NOT_SEEDED)])
    except EditRefused as refusal:
        if refusal.status == 404:
            raise _NotFound from None
        return refusal


def _guarded(handler: Callable[..., Response]) -> Callable[..., Response]:
    """National admins only; a refusal to find answers the console's 404 page."""

    def guarded(call: ConsoleCall, **args: str) -> Response:
        staff = signed_in(call, national=True)
        try:
            return handler(call, staff, **args)
        except _NotFound:
            return page_error(call, 404)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


class _NotFound(Exception):
    pass


# --- agencies -------------------------------------------------------------------------


def _agencies_page(
    call: ConsoleCall,
    staff: Staff,
    *,
    editing: str | None = None,
    typed: Mapping[str, Any] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    status: int = 200,
) -> Response:
    lang = call.lang
    stored = call.ports.reference_admin.stored()
    reference = _running(call, stored)
    if editing is not None and not reference.has_agency(editing):
        raise _NotFound
    shown = reference.agency(editing) if editing is not None else None
    rules = reference.rules_for_agency(editing) if editing is not None else ()
    return render_page(
        call,
        "console/agencies.html",
        staff,
        status=status,
        seeded=stored.version > 0,
        not_seeded=_say(lang, NOT_SEEDED),
        editing=editing,
        agencies=[_agency_row(lang, reference, a) for a in reference.agencies],
        agency=_agency_row(lang, reference, shown) if shown is not None else None,
        rules=[_rule_row(lang, reference, r) for r in rules],
        typed=dict(typed) if typed is not None else _agency_typed(shown),
        kinds=[(k.value, _say(lang, KIND_LABELS[k])) for k in AgencyKind],
        parents=[(a.id, a.name) for a in reference.agencies if a.id != editing],
        regions=_region_options(reference),
        categories=_category_options(lang, reference),
        errors=list(errors),
        inputs=AGENCY_INPUTS,
    )


def _agency_form(form: MultiDict[str, str], agency_id: str | None) -> AgencyForm:
    return AgencyForm(
        id=agency_id if agency_id is not None else form.get("kode", ""),
        name=form.get("nama", ""),
        short_name=form.get("nama_singkat", ""),
        kind=form.get("jenis", ""),
        parent=form.get("induk", ""),
        region=form.get("wilayah", ""),
        categories=tuple(form.getlist("kategori")),
    )


def _typed_agency(form: AgencyForm) -> dict[str, Any]:
    return {
        "id": form.id,
        "name": form.name,
        "short_name": form.short_name,
        "kind": form.kind,
        "parent": form.parent,
        "region": form.region,
        "categories": list(form.categories),
    }


def _save_agency(call: ConsoleCall, staff: Staff, agency_id: str | None) -> Response:
    """POST /instansi (a new agency: ``agency_id`` None) or /instansi/<agency_id>."""
    lang = call.lang
    form = _agency_form(posted_form(call, staff), agency_id)
    saved = _attempt(
        lambda: reference_admin.save_agency(
            form,
            creating=agency_id is None,
            caller=staff.caller,
            store=call.ports.reference_admin,
            base=call.ports.agency.reference,
            now=call.ports.clock.now(),
        )
    )
    if not isinstance(saved, EditRefused):
        said = tr(lang, "Instansi disimpan: ", "Agency saved: ") + saved.name
        return done(call, f"/instansi/{saved.id}", ok=said)
    refusal = saved
    return _agencies_page(
        call,
        staff,
        editing=agency_id,
        typed=_typed_agency(form),
        errors=_errors(lang, refusal, AGENCY_INPUTS),
        status=refusal.status,
    )


@_guarded
def agencies_page(call: ConsoleCall, staff: Staff) -> Response:
    if call.request.method == "POST":
        return _save_agency(call, staff, None)
    return _agencies_page(call, staff)


@_guarded
def agency_page(call: ConsoleCall, staff: Staff, agency_id: str) -> Response:
    if call.request.method == "POST":
        return _save_agency(call, staff, agency_id)
    return _agencies_page(call, staff, editing=agency_id)


# --- rules ----------------------------------------------------------------------------


def _rule_row(lang: Lang, reference: Reference, rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "category": _category_label(lang, reference, rule.category),
        "region": _region_label(reference, rule.region),
        "agency": _agency_name(reference, rule.agency),
    }


def _percent(lang: Lang, share: float | None) -> str:
    if share is None:
        return "-"
    shown = f"{share * 100:.1f}"
    return (shown.replace(".", ",") if lang == "id" else shown) + " %"


def _rules_page(
    call: ConsoleCall,
    staff: Staff,
    *,
    editing: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    status: int = 200,
) -> Response:
    lang = call.lang
    admin_store = call.ports.reference_admin
    stored = admin_store.stored()
    reference = _running(call, stored)
    rules = {r.id: r for r in reference.routing_rules}
    if editing is not None and editing not in rules:
        raise _NotFound
    rows = []
    for row in reference_admin.rule_rows(stored, admin_store) if stored.version else ():
        shown = _rule_row(lang, reference, row.rule)
        shown.update(
            dispositions=row.figures.dispositions,
            not_our_authority=row.figures.not_our_authority,
            misrouting=_percent(lang, row.figures.misrouting_rate),
        )
        rows.append(shown)
    rule = rules.get(editing) if editing is not None else None
    return render_page(
        call,
        "console/rules.html",
        staff,
        status=status,
        seeded=stored.version > 0,
        not_seeded=_say(lang, NOT_SEEDED),
        editing=editing,
        rows=rows,
        rule=_rule_row(lang, reference, rule) if rule is not None else None,
        typed=dict(typed) if typed is not None else _rule_typed(rule),
        categories=_category_options(lang, reference),
        regions=_rule_region_options(reference),
        # A unit may be named: the report then goes to its agency with the unit set.
        agencies=[(a.id, a.name) for a in reference.agencies],
        errors=list(errors),
        inputs=RULE_INPUTS,
    )


def _rule_typed(rule: RoutingRule | None) -> dict[str, str]:
    if rule is None:
        return {"id": "", "category": "", "region": "", "agency": ""}
    return rule.model_dump()


def _rule_form(form: MultiDict[str, str], rule_id: str | None) -> RuleForm:
    return RuleForm(
        id=rule_id if rule_id is not None else form.get("kode", ""),
        category=form.get("kategori", ""),
        region=form.get("wilayah", ""),
        agency=form.get("instansi", ""),
    )


def _save_rule(call: ConsoleCall, staff: Staff, rule_id: str | None) -> Response:
    """POST /aturan (a new rule: ``rule_id`` None) or /aturan/<rule_id>."""
    lang = call.lang
    form = _rule_form(posted_form(call, staff), rule_id)
    saved = _attempt(
        lambda: reference_admin.save_rule(
            form,
            creating=rule_id is None,
            caller=staff.caller,
            store=call.ports.reference_admin,
            base=call.ports.agency.reference,
            now=call.ports.clock.now(),
        )
    )
    if not isinstance(saved, EditRefused):
        return done(call, "/aturan", ok=tr(lang, "Aturan disimpan: ", "Rule saved: ") + saved.id)
    refusal = saved
    return _rules_page(
        call,
        staff,
        editing=rule_id,
        typed=dataclasses.asdict(form),
        errors=_errors(lang, refusal, RULE_INPUTS),
        status=refusal.status,
    )


@_guarded
def rules_page(call: ConsoleCall, staff: Staff) -> Response:
    if call.request.method == "POST":
        return _save_rule(call, staff, None)
    return _rules_page(call, staff)


@_guarded
def rule_page(call: ConsoleCall, staff: Staff, rule_id: str) -> Response:
    if call.request.method == "POST":
        return _save_rule(call, staff, rule_id)
    return _rules_page(call, staff, editing=rule_id)


@_guarded
def rule_delete(call: ConsoleCall, staff: Staff, rule_id: str) -> Response:
    lang = call.lang
    posted_form(call, staff)
    deleted = _attempt(
        lambda: reference_admin.delete_rule(
            rule_id,
            caller=staff.caller,
            store=call.ports.reference_admin,
            base=call.ports.agency.reference,
            now=call.ports.clock.now(),
        )
    )
    if not isinstance(deleted, EditRefused):
        return done(call, "/aturan", ok=tr(lang, "Aturan dihapus: ", "Rule deleted: ") + rule_id)
    refusal = deleted
    return _rules_page(
        call,
        staff,
        editing=rule_id,
        errors=_errors(lang, refusal, RULE_INPUTS),
        status=refusal.status,
    )


RULES = [
    Rule("/instansi", methods=["GET", "POST"], endpoint="reference_agencies"),
    Rule("/instansi/<doc_id:agency_id>", methods=["GET", "POST"], endpoint="reference_agency"),
    Rule("/aturan", methods=["GET", "POST"], endpoint="reference_rules"),
    Rule("/aturan/<doc_id:rule_id>", methods=["GET", "POST"], endpoint="reference_rule"),
    Rule("/aturan/<doc_id:rule_id>/hapus", methods=["POST"], endpoint="reference_rule_delete"),
]
HANDLERS: Mapping[str, Callable[..., Response]] = {
    "reference_agencies": agencies_page,
    "reference_agency": agency_page,
    "reference_rules": rules_page,
    "reference_rule": rule_page,
    "reference_rule_delete": rule_delete,
}
