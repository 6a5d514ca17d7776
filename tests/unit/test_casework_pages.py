"""The casework pages' words cover what they show: every kind of change-log entry has
its label in both languages, and a template names only actions the agency API (and the
report page) has, each with its label."""

from __future__ import annotations

from shared.domain.casework import TEMPLATE_OPERATIONS
from shared.domain.report import Priority
from shared.ports import AUDIT_KINDS
from shared.web.agency_app import OPERATIONS
from shared.web.console.casework_pages import KIND_LABELS, OPERATION_LABELS, PRIORITY_LABELS


def test_every_kind_of_change_has_a_label_in_both_languages() -> None:
    assert set(KIND_LABELS) == set(AUDIT_KINDS)
    assert all(
        id_text and en_text and id_text != en_text for id_text, en_text in KIND_LABELS.values()
    )


def test_templates_are_for_actions_that_exist_and_each_has_a_label() -> None:
    assert set(TEMPLATE_OPERATIONS) <= set(OPERATIONS)
    assert set(OPERATION_LABELS) == set(TEMPLATE_OPERATIONS)
    assert set(PRIORITY_LABELS) == set(Priority)
