"""The attachments bucket in infra/storage.tf: private, uniform access, public access
prevented, uploads that never became part of a report expire, and only the functions
that handle files may read or create them (bucket-level grants, nothing that deletes;
route, which only promotes staged files, for the reports' objects alone and signs nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_terraform import (
    INFRA,
    TOPOLOGY_JSON,
    _console_dir,
    _evaluate,
    locals_of,
    needs_terraform,
    one_block,
    parse,
    resource,
    resources,
)

SIGNING_FUNCTIONS = {"submit", "agency", "console"}
FILE_FUNCTIONS = SIGNING_FUNCTIONS | {"route"}
FILE_ROLES = {"roles/storage.objectCreator", "roles/storage.objectViewer"}


@pytest.fixture(scope="module")
def root() -> dict[str, Any]:
    return parse(INFRA)


def test_the_bucket_is_private_with_uniform_access(root: dict[str, Any]) -> None:
    bucket = resource(root, "google_storage_bucket", "attachments")

    assert bucket["name"] == "${local.attachments_bucket}"
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["force_destroy"] is False
    assert "allUsers" not in str(bucket)


def test_abandoned_uploads_expire_after_a_day(root: dict[str, Any]) -> None:
    bucket = resource(root, "google_storage_bucket", "attachments")
    rules = {
        one_block(rule, "action")["type"]: one_block(rule, "condition")
        for rule in bucket["lifecycle_rule"]
    }

    assert rules["AbortIncompleteMultipartUpload"] == {"age": 1}
    assert rules["Delete"] == {"age": 1, "matches_prefix": ["uploads/"]}
    assert len(bucket["lifecycle_rule"]) == 2  # nothing else is deleted by age


def test_only_the_functions_that_handle_files_may_read_or_create_them(
    root: dict[str, Any],
) -> None:
    roles = locals_of(root)["attachment_roles"]
    assert set(roles) == FILE_FUNCTIONS
    assert all(set(granted) == FILE_ROLES for granted in roles.values())
    grant = resource(root, "google_storage_bucket_iam_member", "function_attachments")
    assert grant["bucket"] == "${google_storage_bucket.attachments.name}"
    assert "local.attachment_roles" in grant["for_each"]
    # Each signs its URLs as itself, and may impersonate no other account.
    signer = resource(root, "google_service_account_iam_member", "function_signs_urls")
    assert signer["for_each"] == "${local.signing_functions}"
    assert "toset" in locals_of(root)["signing_functions"]
    for function in SIGNING_FUNCTIONS:
        assert f'"{function}"' in locals_of(root)["signing_functions"]
    assert '"route"' not in locals_of(root)["signing_functions"]
    assert signer["role"] == "roles/iam.serviceAccountTokenCreator"
    assert "module.function[each.key].service_account_email" in signer["service_account_id"]
    assert signer["member"] == "${module.function[each.key].service_account_member}"
    storage_grants = [
        name for kind, name, _ in resources(root) if kind.startswith("google_storage_bucket_iam")
    ]
    assert storage_grants == ["function_attachments"]


def test_route_may_touch_only_the_reports_files(root: dict[str, Any]) -> None:
    conditions = locals_of(root)["attachment_conditions"]
    assert set(conditions) == {"route"}
    expression = conditions["route"]["expression"]
    bucket = "projects/_/buckets/${local.attachments_bucket}/objects/"
    assert expression.count("resource.name.startsWith") == 2
    assert f'{bucket}reports/' in expression and f'{bucket}uploads/reports/' in expression
    assert "uploads/raw" not in expression
    grant = resource(root, "google_storage_bucket_iam_member", "function_attachments")
    dynamic = one_block(grant, "dynamic")["condition"]
    assert "local.attachment_conditions[each.value.function]" in dynamic["for_each"]


def test_reads_and_writes_of_the_files_are_audited(root: dict[str, Any]) -> None:
    audit = resource(root, "google_project_iam_audit_config", "storage")

    assert audit["service"] == "storage.googleapis.com"
    assert {c["log_type"] for c in audit["audit_log_config"]} == {"DATA_READ", "DATA_WRITE"}


@needs_terraform
def test_every_function_is_told_the_bucket_and_no_setting_moves_it(tmp_path: Path) -> None:
    extra = {
        "topology.json": TOPOLOGY_JSON.read_text(encoding="utf-8"),
        "firestore_indexes.json": (INFRA / "firestore_indexes.json").read_text(encoding="utf-8"),
        "project_number_override.tf": 'locals {\n  project_number = "123456789012"\n}\n',
    }
    directory = _console_dir(tmp_path, INFRA, extra)

    environment = _evaluate(
        directory,
        "local.environment",
        "project_id=demo",
        'settings={LAPOR_ATTACHMENTS_BUCKET="elsewhere"}',
    )

    assert environment["LAPOR_ATTACHMENTS_BUCKET"] == "demo-lapor-attachments"
