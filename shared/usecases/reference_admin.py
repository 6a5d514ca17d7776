"""The national admin maintains agencies and routing rules (the console's /instansi and
/aturan pages); every change is recorded in the change log with who and when.

- :func:`save_agency` creates an agency or edits one (name, short name, kind, parent,
  region, categories). Its notification channels are its own admin's
  (shared.usecases.agency_admin) and are left as they are. Deleting an agency is not
  offered: reports point at it.
- :func:`save_rule` creates or edits a routing rule; :func:`delete_rule` removes one
  (its running totals remain, so its misrouting rate is not lost).
- :func:`rule_rows` lists the rules with their dispositions, Bukan Wewenang answers and
  misrouting rate.

An edit is checked by building the whole new reference with the checks the bundled
files pass (a rule names an agency that handles its category and covers its region, a
parent of an allowed kind, no cycle, ...), on the data as stored in the edit's own
transaction (ReferenceAdminStore.edit), so two admins editing at once cannot make an
inconsistent reference. What is refused raises :class:`EditRefused` with the problems
in both languages, and nothing changes. Each function takes the signed-in
:class:`~shared.usecases.agency.Caller` (only the national admin may edit), the store,
``base`` (the running reference: its regions and categories, which stay bundled) and
the moment of the edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from shared.domain.figures import RuleFigures, misrouting_by_rule
from shared.ports import AuditEntry, ReferenceAdminStore, ReferenceEdit, StoredReference
from shared.reference import Agency, Reference, RoutingRule
from shared.usecases.agency import Caller

__all__ = [
    "AgencyForm",
    "EditRefused",
    "Problem",
    "RuleForm",
    "RuleRow",
    "delete_rule",
    "rule_rows",
    "save_agency",
    "save_rule",
]


@dataclass(frozen=True)
class Problem:
    """Why an edit is refused: for one form field (``field``; "" for the whole edit),
    in Bahasa Indonesia and English."""

    field: str
    id: str
    en: str


class EditRefused(Exception):
    """The edit was refused; nothing changed. ``status``: 403 not the national admin,
    404 no such agency or rule, 409 the id is taken, 422 the data is invalid or would
    make the reference inconsistent."""

    def __init__(self, status: int, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.en for p in problems))
        self.status = status
        self.problems = tuple(problems)


class _Unchanged(Exception):
    """The form says what is stored already: nothing to write or record."""


@dataclass(frozen=True)
class AgencyForm:
    """An agency as the form posts it (``categories``: the ids ticked)."""

    id: str
    name: str
    short_name: str
    kind: str
    parent: str = ""
    region: str = ""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleForm:
    id: str
    category: str
    region: str
    agency: str


@dataclass(frozen=True)
class RuleRow:
    rule: RoutingRule
    figures: RuleFigures


# --- agencies -------------------------------------------------------------------------


def save_agency(
    form: AgencyForm,
    *,
    creating: bool,
    caller: Caller,
    store: ReferenceAdminStore,
    base: Reference,
    now: dt.datetime,
) -> Agency:
    """Create (``creating``) or edit the agency ``form.id``; its channels stay as they are."""
    _only_national(caller)
    agency = _agency_of(form)

    def decide(stored: StoredReference) -> ReferenceEdit:
        before = next((a for a in stored.agencies if a.id == agency.id), None)
        _check_presence(before is not None, creating, "agency", agency.id)
        if before is not None:  # the stored channels: only they are not the form's
            after = agency.model_copy(update={"notification": before.notification})
        else:
            after = agency
        if after == before:
            raise _Unchanged
        others = [a for a in stored.agencies if a.id != agency.id]
        _check_consistent(base, [*others, after], stored.rules)
        kind = "agency.created" if before is None else "agency.updated"
        details = _agency_details(after) if before is None else _changes(before, after)
        return ReferenceEdit(_entry(caller, now, kind, after.id, after.id, details), agency=after)

    try:
        edit = store.edit(decide)
    except _Unchanged:
        return agency
    assert edit.agency is not None
    return edit.agency


def _agency_of(form: AgencyForm) -> Agency:
    raw = {
        "id": form.id.strip(),
        "name": form.name,
        "short_name": form.short_name,
        "kind": form.kind,
        "parent": form.parent.strip() or None,
        "region": form.region.strip() or None,
        "categories": tuple(dict.fromkeys(c.strip() for c in form.categories if c.strip())),
    }
    try:
        return Agency.model_validate(raw)
    except ValidationError as invalid:
        raise EditRefused(422, _field_problems(invalid, _AGENCY_FIELDS)) from None


def _agency_details(agency: Agency) -> dict[str, str]:
    return {
        "name": agency.name,
        "kind": agency.kind.value,
        "parent": agency.parent or "",
        "region": agency.region or "",
        "categories": ", ".join(agency.categories),
    }


# --- rules ----------------------------------------------------------------------------


def save_rule(
    form: RuleForm,
    *,
    creating: bool,
    caller: Caller,
    store: ReferenceAdminStore,
    base: Reference,
    now: dt.datetime,
) -> RoutingRule:
    """Create (``creating``) or edit the rule ``form.id``."""
    _only_national(caller)
    rule = _rule_of(form)

    def decide(stored: StoredReference) -> ReferenceEdit:
        before = next((r for r in stored.rules if r.id == rule.id), None)
        _check_presence(before is not None, creating, "rule", rule.id)
        if rule == before:
            raise _Unchanged
        _check_consistent(
            base, stored.agencies, [*(r for r in stored.rules if r.id != rule.id), rule]
        )
        kind = "rule.created" if before is None else "rule.updated"
        details = _rule_details(rule) if before is None else _changes(before, rule)
        return ReferenceEdit(_entry(caller, now, kind, rule.agency, rule.id, details), rule=rule)

    try:
        edit = store.edit(decide)
    except _Unchanged:
        return rule
    assert edit.rule is not None
    return edit.rule


def delete_rule(
    rule_id: str,
    *,
    caller: Caller,
    store: ReferenceAdminStore,
    base: Reference,
    now: dt.datetime,
) -> RoutingRule:
    """Remove the rule (its running totals stay); returns it as it was."""
    _only_national(caller)
    deleted: list[RoutingRule] = []  # as the edit that committed found it

    def decide(stored: StoredReference) -> ReferenceEdit:
        before = next((r for r in stored.rules if r.id == rule_id), None)
        _check_presence(before is not None, False, "rule", rule_id)
        assert before is not None
        _check_consistent(base, stored.agencies, [r for r in stored.rules if r.id != rule_id])
        deleted[:] = [before]
        entry = _entry(caller, now, "rule.deleted", before.agency, rule_id, _rule_details(before))
        return ReferenceEdit(entry, deleted_rule=rule_id)

    store.edit(decide)
    return deleted[0]


def _rule_of(form: RuleForm) -> RoutingRule:
    raw = {
        "id": form.id.strip(),
        "category": form.category.strip(),
        "region": form.region.strip(),
        "agency": form.agency.strip(),
    }
    try:
        return RoutingRule.model_validate(raw)
    except ValidationError as invalid:
        raise EditRefused(422, _field_problems(invalid, _RULE_FIELDS)) from None


def _rule_details(rule: RoutingRule) -> dict[str, str]:
    return {"category": rule.category, "region": rule.region, "agency": rule.agency}


def rule_rows(stored: StoredReference, store: ReferenceAdminStore) -> list[RuleRow]:
    """Every stored rule with its running totals (one batched read), by id."""
    totals = store.rule_stats([r.id for r in stored.rules])
    figures = misrouting_by_rule({r.id: totals.get(r.id, {}) for r in stored.rules})
    return [RuleRow(rule, figures[rule.id]) for rule in sorted(stored.rules, key=lambda r: r.id)]


# --- shared checks --------------------------------------------------------------------


def _only_national(caller: Caller) -> None:
    if not caller.is_national:
        raise EditRefused(
            403,
            [
                Problem(
                    "",
                    "Hanya admin nasional yang dapat mengubah instansi dan aturan rute.",
                    "Only the national admin may change agencies and routing rules.",
                )
            ],
        )


def _check_presence(exists: bool, creating: bool, what: str, ident: str) -> None:
    noun_id, noun_en = ("Instansi", "Agency") if what == "agency" else ("Aturan", "Rule")
    if creating and exists:
        raise EditRefused(
            409,
            [
                Problem(
                    "id",
                    f"{noun_id} dengan kode {ident!r} sudah ada: pilih kode lain.",
                    f"{noun_en} {ident!r} already exists: choose another id.",
                )
            ],
        )
    if not creating and not exists:
        raise EditRefused(
            404,
            [
                Problem(
                    "", f"{noun_id} {ident!r} tidak ada.", f"{noun_en} {ident!r} does not exist."
                )
            ],
        )


def _check_consistent(
    base: Reference, agencies: Sequence[Agency], rules: Sequence[RoutingRule]
) -> None:
    """The whole reference after the edit passes the checks the bundled files pass."""
    try:
        base.with_agencies_and_rules(agencies, rules)
    except ValidationError as invalid:
        raise EditRefused(422, _consistency_problems(invalid)) from None


def _consistency_problems(invalid: ValidationError) -> list[Problem]:
    """The reference's own findings, one per problem. They name the agency or rule and
    what is wrong in English (the file checks' words); the Indonesian line says what
    kind of refusal it is."""
    lines: list[str] = []
    for error in invalid.errors():
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        lines += [line.removeprefix("- ") for line in message.splitlines()[1:]] or [message]
    return [
        Problem(
            "",
            f"Perubahan ini membuat data rujukan tidak konsisten: {_without_file(line)}",
            f"This change would make the reference inconsistent: {_without_file(line)}",
        )
        for line in lines
    ]


def _without_file(line: str) -> str:
    head, sep, rest = line.partition(": ")
    return rest if sep and head.endswith((".toml", ".json")) else line


# Each form field: its label in both languages, for the problems named after it.
_AGENCY_FIELDS: Mapping[str, tuple[str, str]] = {
    "id": ("Kode", "Id"),
    "name": ("Nama", "Name"),
    "short_name": ("Nama singkat", "Short name"),
    "kind": ("Jenis", "Kind"),
    "parent": ("Induk", "Parent"),
    "region": ("Wilayah", "Region"),
    "categories": ("Kategori", "Categories"),
}
_RULE_FIELDS: Mapping[str, tuple[str, str]] = {
    "id": ("Kode", "Id"),
    "category": ("Kategori", "Category"),
    "region": ("Wilayah", "Region"),
    "agency": ("Instansi", "Agency"),
}
_FORMAT_HINTS: Mapping[str, tuple[str, str]] = {
    "id": (
        "huruf kecil, angka dan tanda hubung (mis. dinsos-cianjur)",
        "lower-case letters, digits and hyphens (e.g. dinsos-cianjur)",
    ),
    "parent": ("kode instansi yang ada", "an existing agency id"),
    "agency": ("kode instansi yang ada", "an existing agency id"),
    "region": (
        "kode wilayah Kemendagri (32 atau 32.03; aturan juga kecamatan 32.03.11)",
        "a Kemendagri code (32 or 32.03; a rule also a district, 32.03.11)",
    ),
    "kind": ("salah satu jenis yang ditawarkan", "one of the kinds offered"),
}


def _field_problems(
    invalid: ValidationError, fields: Mapping[str, tuple[str, str]]
) -> list[Problem]:
    problems: list[Problem] = []
    for error in invalid.errors():
        loc = error.get("loc", ())
        name = str(loc[0]) if loc and str(loc[0]) in fields else ""
        if not name:  # a check across fields: its own words name the fields
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            problems.append(Problem("", f"Data tidak sah: {message}", f"Invalid data: {message}"))
            continue
        if any(p.field == name for p in problems):
            continue
        label_id, label_en = fields[name]
        hint_id, hint_en = _FORMAT_HINTS.get(name, ("wajib diisi", "required"))
        problems.append(Problem(name, f"{label_id}: {hint_id}.", f"{label_en}: {hint_en}."))
    return problems


def _changes(before: Agency | RoutingRule, after: Agency | RoutingRule) -> dict[str, str]:
    """The fields an edit changed, ``old → new`` (lists joined by commas)."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return {
        name: f"{_shown(old[name])} → {_shown(new[name])}"
        for name in new
        if name not in ("id", "notification") and old.get(name) != new[name]
    }


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value in (None, "") else str(value)


def _entry(
    caller: Caller,
    now: dt.datetime,
    kind: str,
    agency_id: str,
    target: str,
    details: Mapping[str, str],
) -> AuditEntry:
    return AuditEntry(
        at=now,
        agency_id=agency_id,
        actor_id=caller.actor_id,
        actor_name=caller.key_label,
        kind=kind,
        target=target,
        details=dict(details),
    )
