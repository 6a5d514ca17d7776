"""Terraform checks that run without a Google Cloud account or downloaded providers.

``terraform validate`` and ``plan`` need the hashicorp/google provider, which
``terraform init`` downloads; where that cannot happen these tests stand in:
- ``terraform fmt -check`` on every file;
- every ``.tf`` parsed with python-hcl2 and checked for the shape the design asks
  (a function and its own service account per ``functions/<name>/main.py``, the
  fewest roles, the topology's dead-letter and retry policies, OIDC on every push and
  scheduled call, TTL and index exemptions, no secret value in the state);
- the ``locals`` and ``variable`` blocks evaluated by ``terraform console`` (which
  needs no provider), so the expressions that read topology.json and
  firestore_indexes.json are run, not just read.
The terraform-binary tests are skipped, saying so, only when there is no binary.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest

from shared.adapters.firestore import IDEMPOTENCY, RATE_LIMITS, REPORTS
from tools import bundle
from tools.export_topology import COMMAND, TOPOLOGY_JSON, render, topology_document

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
MODULE = INFRA / "modules" / "function"
TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(
    TERRAFORM is None,
    reason="terraform binary not installed (https://developer.hashicorp.com/terraform/install);"
    " fmt and console checks not run",
)

FORBIDDEN_PROJECT_ROLES = {
    "roles/editor",
    "roles/owner",
    "roles/pubsub.admin",
    "roles/pubsub.editor",
    "roles/datastore.owner",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountTokenCreator",
    "roles/run.invoker",
    "roles/secretmanager.secretAccessor",
}
# What each function may publish, as the design gives it; sweep republishes the outbox.
# Whoever commits an outbox entry on a topic publishes it: whom each event tells
# (shared/usecases/notices.py) decides which functions reach which notifications.
EXPECTED_PUBLISHES = {
    "submit": {"report-submitted", "reporter-notifications", "agency-notifications"},
    "route": {"agency-notifications"},
    "notify": set(),
    "agency": {"report-submitted", "agency-notifications", "reporter-notifications"},
    "console": {"report-submitted", "agency-notifications", "reporter-notifications"},
    "escalate": {"agency-notifications", "reporter-notifications"},
    "report": {"agency-notifications"},
    "retention": set(),  # an erasure tells nobody
}
PUBLIC_FUNCTIONS = {"submit", "agency", "console"}


# ------------------------------------------------------------------------ parsing


def _unquote(value: Any) -> Any:
    """python-hcl2 >= 8 keeps the quotes of labels and string literals; 7 drops them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _normalise(node: Any) -> Any:
    if isinstance(node, dict):
        return {_unquote(k): _normalise(v) for k, v in node.items() if k != "__is_block__"}
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return _unquote(node)


def parse(directory: Path) -> dict[str, Any]:
    """The .tf files of one directory (a Terraform module), merged by block kind."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            document = _normalise(hcl2.load(handle))
        for kind, blocks in document.items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def resources(module: dict[str, Any], kind: str | None = None) -> Iterator[tuple[str, str, Any]]:
    for block in module.get("resource", []):
        for rtype, named in block.items():
            for name, body in named.items():
                if kind is None or rtype == kind:
                    yield rtype, name, body


def resource(module: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for _, found, body in resources(module, kind):
        if found == name:
            return dict(body)
    raise AssertionError(f"no {kind}.{name} in Terraform")


def one_block(body: dict[str, Any], name: str) -> dict[str, Any]:
    blocks = body.get(name)
    assert isinstance(blocks, list) and len(blocks) == 1, f"expected one {name} block"
    return dict(blocks[0])


def locals_of(module: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in module.get("locals", []):
        found.update(block)
    return found


def all_text(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.rglob("*.tf")))


@pytest.fixture(scope="module")
def root() -> dict[str, Any]:
    return parse(INFRA)


@pytest.fixture(scope="module")
def function_module() -> dict[str, Any]:
    return parse(MODULE)


@pytest.fixture(scope="module")
def topology() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(TOPOLOGY_JSON.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def firestore_config() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (INFRA / "firestore_indexes.json").read_text(encoding="utf-8")
    )
    return document


def function_dirs() -> set[str]:
    return {p.parent.name for p in (REPO_ROOT / "functions").glob("*/main.py")}


# --------------------------------------------------------------------- formatting


@needs_terraform
def test_terraform_fmt_is_clean() -> None:
    assert TERRAFORM is not None
    done = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"run `terraform fmt -recursive infra`:\n{done.stdout}"


def test_every_tf_file_parses() -> None:
    files = sorted(INFRA.rglob("*.tf"))
    assert len(files) >= 5
    for path in files:
        with path.open(encoding="utf-8") as handle:
            assert hcl2.load(handle), f"{path} parsed to nothing"


# ------------------------------------------------------------- one source of truth


def test_topology_json_is_what_shared_topology_produces_now() -> None:
    expected = render(topology_document())
    current = TOPOLOGY_JSON.read_text(encoding="utf-8") if TOPOLOGY_JSON.exists() else ""
    assert current == expected, (
        f"infra/topology.json is stale (shared/topology.py or shared/config.py changed): "
        f"run `{COMMAND}` and commit infra/topology.json"
    )


def test_terraform_reads_topics_subscriptions_and_schedules_from_topology_json(
    root: dict[str, Any],
) -> None:
    found = locals_of(root)
    assert 'file("${path.module}/topology.json")' in found["topology"]
    assert "local.topology.subscriptions" in found["subscriptions"]
    assert "local.topology.schedules" in found["schedules"]
    assert resource(root, "google_pubsub_topic", "this")["for_each"] == (
        "${toset(local.topology.topics)}"
    )
    assert resource(root, "google_pubsub_subscription", "push")["for_each"] == (
        "${local.subscriptions}"
    )
    assert resource(root, "google_cloud_scheduler_job", "this")["for_each"] == (
        "${local.schedules}"
    )


# ------------------------------------------------------------------------ functions


def test_every_function_folder_has_a_function_in_terraform(root: dict[str, Any]) -> None:
    specs = locals_of(root)["function_specs"]
    missing = function_dirs() - set(specs)
    assert not missing, f"add {sorted(missing)} to local.function_specs in infra/main.tf"
    assert not set(specs) - function_dirs(), "local.function_specs names a function with no code"
    modules = {name: body for block in root["module"] for name, body in block.items()}
    function = modules["function"]
    assert function["source"] == "./modules/function"
    assert function["for_each"] == "${local.functions}"
    assert "local.function_specs" in locals_of(root)["functions"]
    assert function["bundle_zip"] == "${local.bundle_dir}/${each.key}.zip"
    assert locals_of(root)["bundle_dir"] == "${path.module}/../build"


def test_the_function_module_deploys_the_md5_named_bundle_as_its_own_account(
    function_module: dict[str, Any],
) -> None:
    functions = list(resources(function_module, "google_cloudfunctions2_function"))
    assert len(functions) == 1
    _, _, body = functions[0]
    build = one_block(body, "build_config")
    service = one_block(body, "service_config")
    assert build["runtime"] == "python312"
    assert build["entry_point"] == "${var.name}"
    source = one_block(one_block(build, "source"), "storage_source")
    assert source["object"] == "${google_storage_bucket_object.source.name}"
    upload = resource(function_module, "google_storage_bucket_object", "source")
    assert upload["name"] == "${var.name}-${local.bundle_md5}.zip"
    assert "filemd5(var.bundle_zip)" in locals_of(function_module)["bundle_md5"]
    assert service["min_instance_count"] == 0
    assert service["max_instance_count"] == "${var.max_instances}"
    assert service["service_account_email"] == "${google_service_account.function.email}"
    assert service["environment_variables"] == "${var.environment}"
    assert "secret_environment_variables" in str(service.get("dynamic"))
    # Pub/Sub reaches the functions through our push subscriptions (see pubsub.tf).
    assert "event_trigger" not in body
    account = resource(function_module, "google_service_account", "function")
    assert "${var.name}" in account["account_id"]


def test_only_submit_agency_and_console_are_public(
    root: dict[str, Any], function_module: dict[str, Any]
) -> None:
    specs = locals_of(root)["function_specs"]
    assert {name for name, spec in specs.items() if spec["public"] is True} == PUBLIC_FUNCTIONS
    public = resource(function_module, "google_cloud_run_service_iam_member", "public")
    assert public["count"] == "${var.public ? 1 : 0}"
    assert public["member"] == "allUsers"
    assert public["role"] == "roles/run.invoker"
    text = all_text(INFRA)
    assert text.count('"allUsers"') == 1
    assert "allAuthenticatedUsers" not in text


# -------------------------------------------------------------- least privilege


def test_no_account_gets_a_broad_project_role(root: dict[str, Any]) -> None:
    for kind in ("google_project_iam_binding", "google_project_iam_policy"):
        assert not list(resources(root, kind)), f"{kind} is authoritative: use members"
    granted = list(resources(root, "google_project_iam_member"))
    assert granted
    for _, name, body in granted:
        assert body["role"] not in FORBIDDEN_PROJECT_ROLES, f"{name}: {body['role']}"
    roles = {body["role"] for _, _, body in granted}
    assert roles == {"roles/datastore.user"}, f"project-level roles: {roles}"


def test_each_function_publishes_only_to_its_own_topics(
    root: dict[str, Any], topology: dict[str, Any]
) -> None:
    specs = locals_of(root)["function_specs"]
    publishes = {name: set(spec["publishes"]) for name, spec in specs.items()}
    for name, expected in EXPECTED_PUBLISHES.items():
        assert publishes[name] == expected, name
    others = set().union(*(v for k, v in publishes.items() if k != "sweep"))
    assert publishes["sweep"] == others, "sweep must be able to republish every outbox topic"
    assert set().union(*publishes.values()) <= set(topology["topics"])
    binding = resource(root, "google_pubsub_topic_iam_member", "function_publisher")
    assert binding["role"] == "roles/pubsub.publisher"
    assert "spec.publishes" in binding["for_each"]
    assert binding["topic"] == "${google_pubsub_topic.this[each.value.topic].name}"


def test_invokers_are_granted_on_their_targets_only(root: dict[str, Any]) -> None:
    push = resource(root, "google_cloud_run_service_iam_member", "pubsub_push_invoker")
    assert push["for_each"] == "${local.push_functions}"
    assert "s.push_function" in locals_of(root)["push_functions"]
    scheduler = resource(root, "google_cloud_run_service_iam_member", "scheduler_invoker")
    assert scheduler["for_each"] == "${local.scheduled_functions}"
    assert "s.function" in locals_of(root)["scheduled_functions"]
    for body in (push, scheduler):
        assert body["role"] == "roles/run.invoker"
        assert body["service"] == "${module.function[each.value].name}"


# ------------------------------------------------------------------------- Pub/Sub


def test_every_subscription_takes_its_policies_from_topology_json(
    root: dict[str, Any], topology: dict[str, Any]
) -> None:
    assert topology["subscriptions"], "topology.json has no subscriptions"
    body = resource(root, "google_pubsub_subscription", "push")
    retry = one_block(body, "retry_policy")
    assert retry["minimum_backoff"] == "${each.value.min_backoff_s}s"
    assert retry["maximum_backoff"] == "${each.value.max_backoff_s}s"
    assert body["ack_deadline_seconds"] == "${each.value.ack_deadline_s}"
    assert one_block(body, "expiration_policy")["ttl"] == ""
    dynamic = {name: block for entry in body.get("dynamic", []) for name, block in entry.items()}
    dead_letter = dynamic["dead_letter_policy"]
    assert dead_letter["for_each"] == (
        "${each.value.dead_letter_topic == null ? [] : [each.value]}"
    )
    content = one_block(dead_letter, "content")
    assert content["dead_letter_topic"] == (
        "${google_pubsub_topic.this[dead_letter_policy.value.dead_letter_topic].id}"
    )
    assert content["max_delivery_attempts"] == "${dead_letter_policy.value.max_delivery_attempts}"
    # Every field the generator exports is used, so a new one cannot be silently dropped.
    text = json.dumps(body)
    for spec in topology["subscriptions"]:
        for field in spec:
            if field != "name":
                assert re.search(rf"\.value\.{field}\b", text), f"subscription field {field} unused"


def test_a_subscription_without_dead_letter_topic_reads_one(topology: dict[str, Any]) -> None:
    """Only a dead-letter topic's own reader may go without one (it retries until the
    message expires); anything else would be retried forever or dropped."""
    dead_letter_topics = {
        s["dead_letter_topic"] for s in topology["subscriptions"] if s["dead_letter_topic"]
    }
    assert dead_letter_topics, "no subscription dead-letters"
    for spec in topology["subscriptions"]:
        if spec["dead_letter_topic"] is None:
            assert spec["topic"] in dead_letter_topics, spec["name"]
        else:
            assert spec["dead_letter_topic"] in topology["topics"], spec["name"]
            assert 5 <= spec["max_delivery_attempts"] <= 100, spec["name"]


def test_pushes_and_scheduled_calls_carry_oidc_tokens(root: dict[str, Any]) -> None:
    push = one_block(resource(root, "google_pubsub_subscription", "push"), "push_config")
    token = one_block(push, "oidc_token")
    assert push["push_endpoint"] == "${module.function[each.value.push_function].uri}"
    assert token["service_account_email"] == "${google_service_account.pubsub_push.email}"
    assert token["audience"] == "${module.function[each.value.push_function].uri}"

    job = resource(root, "google_cloud_scheduler_job", "this")
    target = one_block(job, "http_target")
    token = one_block(target, "oidc_token")
    assert token["service_account_email"] == "${google_service_account.scheduler.email}"
    assert token["audience"] == "${module.function[each.value.function].uri}"
    assert target["http_method"] == "${each.value.method}"
    assert job["schedule"] == "${each.value.cron}"
    assert job["time_zone"] == "${each.value.time_zone}"


def test_the_pubsub_service_agent_can_dead_letter(root: dict[str, Any]) -> None:
    agent = locals_of(root)["pubsub_service_agent"]
    assert "gcp-sa-pubsub.iam.gserviceaccount.com" in agent
    publisher = resource(root, "google_pubsub_topic_iam_member", "dead_letter_publisher")
    assert publisher["role"] == "roles/pubsub.publisher"
    assert publisher["for_each"] == "${local.dead_letter_topics}"
    assert publisher["member"] == "${local.pubsub_service_agent}"
    subscriber = resource(root, "google_pubsub_subscription_iam_member", "dead_letter_subscriber")
    assert subscriber["role"] == "roles/pubsub.subscriber"
    assert subscriber["for_each"] == "${local.dead_lettering_subscriptions}"
    assert "s.dead_letter_topic != null" in locals_of(root)["dead_lettering_subscriptions"]
    assert subscriber["member"] == "${local.pubsub_service_agent}"


def test_schedules_in_topology_json_have_what_a_job_needs(topology: dict[str, Any]) -> None:
    assert topology["schedules"], "topology.json has no schedules (SCHEDULES in shared/topology)"
    names = [s["name"] for s in topology["schedules"]]
    assert len(names) == len(set(names))
    for schedule in topology["schedules"]:
        assert schedule["function"] in function_dirs()
        assert schedule["path"].startswith("/")
        assert len(schedule["cron"].split()) == 5
        assert schedule["time_zone"]
        assert re.fullmatch(r"[a-z][a-z0-9-]*", schedule["name"])


# ---------------------------------------------------------------------- Firestore


def test_ttl_policies_and_exemptions_are_configured(
    root: dict[str, Any], firestore_config: dict[str, Any]
) -> None:
    overrides = {
        (o["collectionGroup"], o["fieldPath"]): o for o in firestore_config["fieldOverrides"]
    }
    for collection in (IDEMPOTENCY, RATE_LIMITS):
        ttl = overrides.get((collection, "expires_at"))
        assert ttl is not None and ttl.get("ttl") is True, f"no TTL on {collection}.expires_at"
    for name in ("title", "description"):
        assert overrides[(REPORTS, name)].get("indexes") == [], f"{REPORTS}.{name} indexed"
    field = resource(root, "google_firestore_field", "override")
    assert field["for_each"] == "${local.field_overrides}"
    dynamic = {kind for block in field["dynamic"] for kind in block}
    assert dynamic == {"ttl_config", "index_config"}
    assert "local.firestore_config.fieldOverrides" in locals_of(root)["field_overrides"]


def test_composite_indexes_come_from_the_index_file_with_unique_keys(
    root: dict[str, Any], firestore_config: dict[str, Any]
) -> None:
    index = resource(root, "google_firestore_index", "composite")
    assert index["for_each"] == "${local.composite_indexes}"
    assert "local.firestore_config.indexes" in locals_of(root)["composite_indexes"]
    keys = [
        f"{i['collectionGroup']}:"
        + ",".join(
            f"{f['fieldPath']}:{f.get('order', f.get('arrayConfig', ''))}" for f in i["fields"]
        )
        for i in firestore_config["indexes"]
    ]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates, f"duplicate indexes in firestore_indexes.json: {duplicates}"
    database = resource(root, "google_firestore_database", "this")
    assert database["type"] == "FIRESTORE_NATIVE"
    assert database["location_id"] == "${var.firestore_location}"


# ------------------------------------------------------- secrets, variables, outputs


def test_the_token_secret_value_never_enters_terraform(root: dict[str, Any]) -> None:
    assert resource(root, "google_secret_manager_secret", "token_secret")
    assert not list(resources(root, "google_secret_manager_secret_version"))
    assert "LAPOR_TOKEN_SECRET" in locals_of(root)["secret_ids"]


# The functions whose code reads ``settings.token_secret``: reporter tokens and the
# pseudonyms (submit), action keys (submit, agency, console), staff links and sessions
# (console), unsubscribe links in e-mail (notify, digest). route, escalate, report and
# sweep run without it (tests/functional/test_secret_scoping.py).
TOKEN_SECRET_READERS = {"submit", "agency", "console", "notify", "digest"}


def test_the_token_secret_is_mounted_only_where_the_code_reads_it(root: dict[str, Any]) -> None:
    specs = locals_of(root)["function_specs"]
    mounted = {
        name for name, spec in specs.items() if "LAPOR_TOKEN_SECRET" in spec.get("secrets", [])
    }
    assert mounted == TOKEN_SECRET_READERS


# The agencies' webhook signing secrets are sealed in Firestore: notify opens them to
# sign every webhook, the console seals a rotated one and opens it for its test ping.
SIGNING_KEYSETS = {"LAPOR_SIGNING_PUBLIC_KEYSET", "LAPOR_SIGNING_PRIVATE_KEYSET"}


def test_the_signing_keysets_are_mounted_only_into_notify_and_the_console(
    root: dict[str, Any],
) -> None:
    specs = locals_of(root)["function_specs"]
    mounted = {
        name: SIGNING_KEYSETS & set(spec.get("secrets", []))
        for name, spec in specs.items()
        if SIGNING_KEYSETS & set(spec.get("secrets", []))
    }
    assert mounted == {"notify": SIGNING_KEYSETS, "console": SIGNING_KEYSETS}
    assert set(locals_of(root)["channel_secrets"]) >= SIGNING_KEYSETS
    variables = {name: body for block in root["variable"] for name, body in block.items()}
    assert {"signing_public_keyset_secret_id", "signing_private_keyset_secret_id"} <= set(variables)


# Which function may read each channel credential (only the ones that send) and the
# identity keysets (only the ones that seal or open reporters' identities).
KEYSETS = {"LAPOR_IDENTITY_PUBLIC_KEYSET", "LAPOR_IDENTITY_PRIVATE_KEYSET"}
EXPECTED_CHANNEL_SECRETS = {
    "notify": {"LAPOR_SMTP_PASSWORD", "LAPOR_SMS_API_KEY"} | KEYSETS,
    "digest": {"LAPOR_SMTP_PASSWORD"},
    # Seals and never opens: the public keyset and the key of the contact digests.
    "submit": {"LAPOR_IDENTITY_PUBLIC_KEYSET", "LAPOR_CONTACT_HASH_KEY"},
    "agency": KEYSETS,
    # And the staff's TOTP secrets: only the console enrols and checks them.
    "console": KEYSETS | {"LAPOR_TOTP_KEYSET"},
}


def test_secrets_are_mounted_only_into_the_functions_that_need_them(
    root: dict[str, Any],
) -> None:
    assert resource(root, "google_secret_manager_secret", "channel")
    module = {name: body for block in root["module"] for name, body in block.items()}["function"]
    # Each function mounts exactly the secrets its spec lists, nothing for every function.
    assert "each.value.secrets" in str(module["secret_environment"])
    assert "token_secret" not in str(module["secret_environment"])
    specs = locals_of(root)["function_specs"]
    apart = {"LAPOR_TOKEN_SECRET"} | SIGNING_KEYSETS  # each held by a test of its own
    mounted = {name: set(spec.get("secrets", [])) - apart for name, spec in specs.items()}
    assert {name: names for name, names in mounted.items() if names} == EXPECTED_CHANNEL_SECRETS
    variables = {name: body for block in root["variable"] for name, body in block.items()}
    assert {
        "smtp_password_secret_id",
        "sms_api_key_secret_id",
        "identity_public_keyset_secret_id",
        "identity_private_keyset_secret_id",
        "contact_hash_key_secret_id",
        "totp_keyset_secret_id",
    } <= set(variables)


def test_only_the_identity_readers_may_decrypt_with_the_kms_key(root: dict[str, Any]) -> None:
    key = resource(root, "google_kms_crypto_key", "identity_keyset")
    assert key["purpose"] == "ENCRYPT_DECRYPT" and key["rotation_period"]
    assert one_block(key, "lifecycle")["prevent_destroy"] is True
    grant = resource(root, "google_kms_crypto_key_iam_member", "identity_keyset_decrypter")
    assert grant["role"] == "roles/cloudkms.cryptoKeyDecrypter"
    assert grant["crypto_key_id"] == "${google_kms_crypto_key.identity_keyset.id}"
    assert grant["for_each"] == "${local.identity_readers}"
    # No other KMS grant, and none at project level (a project role reaches every key).
    assert [name for _, name, _ in resources(root, "google_kms_crypto_key_iam_member")] == [
        "identity_keyset_decrypter"
    ]
    assert "cloudkms" not in str(list(resources(root, "google_project_iam_member")))


@needs_terraform
def test_the_kms_decrypters_are_the_functions_holding_the_private_keyset(
    root_console: Path,
) -> None:
    readers = _evaluate(root_console, "local.identity_readers", "project_id=demo")
    assert set(readers) == {"notify", "agency", "console"}  # never submit
    environment = _evaluate(root_console, "local.environment", "project_id=demo")
    assert environment["LAPOR_IDENTITY_KMS_KEY_URI"] == (
        "gcp-kms://projects/demo/locations/asia-southeast2/keyRings/lapor/"
        "cryptoKeys/identity-keyset"
    )


def test_variables_and_outputs(root: dict[str, Any]) -> None:
    variables = {name: body for block in root["variable"] for name, body in block.items()}
    assert "default" not in variables["project_id"]
    assert variables["region"]["default"] == "asia-southeast2"
    assert {"firestore_location", "settings", "alert_email"} <= set(variables)
    assert variables["alert_email"]["default"] is None
    outputs = {name for block in root["output"] for name in block}
    assert {"form_url", "agency_api_url", "console_url"} <= outputs


# ------------------------------------------------- evaluated by terraform console


def _console_dir(tmp_path: Path, source: Path, extra: dict[str, str]) -> Path:
    """The variable and locals blocks of ``source`` (fmt puts each top-level block at
    column 0), without resources: ``terraform console`` evaluates them offline."""
    blocks: list[str] = []
    for path in sorted(source.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        blocks += re.findall(r'^(?:locals|variable "[^"]+") \{\n.*?^\}\n', text, re.S | re.M)
    (tmp_path / "extracted.tf").write_text("\n".join(blocks), encoding="utf-8")
    for name, content in extra.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    return tmp_path


def _console(directory: Path, expression: str, *variables: str) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    arguments = [TERRAFORM, "console", "-no-color"]
    for variable in variables:
        arguments += ["-var", variable]
    return subprocess.run(
        arguments,
        input=f"jsonencode({expression})\n",
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _evaluate(directory: Path, expression: str, *variables: str) -> Any:
    done = _console(directory, expression, *variables)
    assert done.returncode == 0, done.stderr
    return json.loads(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def root_console(tmp_path: Path) -> Path:
    extra = {
        "topology.json": TOPOLOGY_JSON.read_text(encoding="utf-8"),
        "firestore_indexes.json": (INFRA / "firestore_indexes.json").read_text(encoding="utf-8"),
        # Stands in for data.google_project.this.number, which needs the provider.
        "project_number_override.tf": 'locals {\n  project_number = "123456789012"\n}\n',
    }
    return _console_dir(tmp_path, INFRA, extra)


@needs_terraform
def test_terraform_evaluates_one_function_per_folder_and_the_topology(
    root_console: Path, firestore_config: dict[str, Any], topology: dict[str, Any]
) -> None:
    functions = _evaluate(root_console, "local.functions", "project_id=demo")
    assert set(functions) == function_dirs()
    assert functions["submit"]["max_instances"] >= 1
    subscriptions = _evaluate(root_console, "local.subscriptions", "project_id=demo")
    assert subscriptions == {s["name"]: s for s in topology["subscriptions"]}
    dead_lettering = _evaluate(
        root_console, "local.dead_lettering_subscriptions", "project_id=demo"
    )
    assert set(dead_lettering) == {
        s["name"] for s in topology["subscriptions"] if s["dead_letter_topic"]
    }
    unread = _evaluate(root_console, "local.unread_dead_letter_topics", "project_id=demo")
    read = {s["topic"] for s in topology["subscriptions"]}
    assert set(unread) == {s["dead_letter_topic"] for s in dead_lettering.values()} - read
    indexes = _evaluate(root_console, "keys(local.composite_indexes)", "project_id=demo")
    assert len(indexes) == len(firestore_config["indexes"])
    overrides = _evaluate(root_console, "local.field_overrides", "project_id=demo")
    assert overrides[f"{IDEMPOTENCY}.expires_at"]["ttl"] is True
    overridden = _evaluate(
        root_console,
        "local.functions",
        "project_id=demo",
        "function_overrides={route={max_instances=3}}",
    )
    assert overridden["route"]["max_instances"] == 3
    assert overridden["submit"] == functions["submit"]


@needs_terraform
def test_each_function_may_run_as_long_as_its_caller_waits(
    root_console: Path, topology: dict[str, Any]
) -> None:
    """A push target answers within its subscription's ack deadline (or Pub/Sub pushes
    again while it still works); a scheduled job gets the whole attempt deadline Cloud
    Scheduler allows an HTTP target (15 s to 30 min, the job's attempt_deadline is the
    function's timeout), so a daily run over many due reports is not cut off at 60 s."""
    functions = _evaluate(root_console, "local.functions", "project_id=demo")
    for subscription in topology["subscriptions"]:
        pushed = functions[subscription["push_function"]]
        assert pushed["timeout_seconds"] <= subscription["ack_deadline_s"], subscription["name"]
    for schedule in topology["schedules"]:
        assert 15 <= functions[schedule["function"]]["timeout_seconds"] <= 1800, schedule["name"]
    for daily in ("escalate", "report"):
        assert functions[daily]["timeout_seconds"] == 1800, daily
    job = resource(parse(INFRA), "google_cloud_scheduler_job", "this")
    assert job["attempt_deadline"] == "${local.functions[each.value.function].timeout_seconds}s"
    shortened = _evaluate(
        root_console,
        "local.functions",
        "project_id=demo",
        "function_overrides={escalate={timeout_seconds=900}}",
    )
    assert shortened["escalate"]["timeout_seconds"] == 900


@needs_terraform
def test_terraform_sets_the_project_and_takes_known_settings_only(root_console: Path) -> None:
    environment = _evaluate(
        root_console, "local.environment", "project_id=demo", 'settings={LAPOR_COMPLAINT_DAYS="10"}'
    )
    assert environment["LAPOR_PROJECT"] == "demo"
    assert environment["LAPOR_COMPLAINT_DAYS"] == "10"
    assert environment["LAPOR_TRUSTED_PROXY_HOPS"] == "1"
    assert "LAPOR_TOKEN_SECRET" not in environment
    for refused in ('settings={LAPOR_COMPLAINT_DAYZ="10"}', 'settings={LAPOR_TOKEN_SECRET="x"}'):
        done = _console(root_console, "local.environment", "project_id=demo", refused)
        assert "Invalid value for variable" in done.stdout + done.stderr, refused


@needs_terraform
def test_the_uploaded_object_is_named_by_the_md5_tools_bundle_prints(tmp_path: Path) -> None:
    made = bundle.build("sweep", out_dir=tmp_path / "build")
    (tmp_path / "module").mkdir()
    directory = _console_dir(tmp_path / "module", MODULE, {})
    variables = (
        "project_id=demo",
        "region=asia-southeast2",
        "name=sweep",
        "bucket=b",
        f"bundle_zip={made.zip_path}",
    )
    assert _evaluate(directory, "local.bundle_md5", *variables) == made.md5
    assert made.md5 == hashlib.md5(made.zip_path.read_bytes()).hexdigest()
    missing = _evaluate(
        directory, "local.bundle_exists", *variables[:-1], "bundle_zip=/nonexistent.zip"
    )
    assert missing is False


def _excluded_url_pattern(root: dict[str, Any]) -> re.Pattern[str]:
    exclusion = resource(root, "google_logging_project_exclusion", "request_urls_with_tokens")
    text = exclusion["filter"].replace('\\"', '"')  # python-hcl2 keeps the escapes
    found = re.fullmatch(
        r'log_id\("run\.googleapis\.com/requests"\) AND httpRequest\.requestUrl=~"(.+)"', text
    )
    assert found, text
    return re.compile(found.group(1))


def test_request_logs_never_keep_a_url_that_carries_a_token(root: dict[str, Any]) -> None:
    """Every link the code builds with a token in it is excluded from Cloud Run's
    request log; the citizen's and the API's ordinary URLs are not."""
    from types import SimpleNamespace
    from typing import cast

    from shared.config import Settings
    from shared.domain.report import Report
    from shared.tokens import reporter_opt_out
    from shared.usecases.mail import unsubscribe_url
    from shared.usecases.notify import StaffNotification, private_link, staff_link
    from shared.usecases.sms import short_private_link

    settings = Settings(
        token_secret="infra-test-secret-0123456789",
        public_base_url="https://lapor.example.go.id",
        console_url="https://konsol.example.go.id",
    )
    report = cast(Report, SimpleNamespace(id="Rk7mQ2xq9RjWz3Lp0aBc", tracking_code="K7M2XQ9RJ"))
    staff = [
        cast(StaffNotification, SimpleNamespace(kind=kind, link_id="0" * 32))
        for kind in ("staff.invitation", "staff.password_reset")
    ]
    with_tokens = [
        private_link(settings, report),
        private_link(settings, report) + "&new=1",
        short_private_link(settings.public_base_url, settings.token_secret, report.id, "K7M2XQ9RJ"),
        unsubscribe_url(settings, reporter_opt_out(report.id, "email")),
        *(staff_link(settings, message) for message in staff),
    ]
    ordinary = [
        "https://lapor.example.go.id/",
        "https://lapor.example.go.id/lacak/K7M2XQ9RJ",
        "https://lapor.example.go.id/lacak?kode=K7M2XQ9RJ",
        "https://lapor.example.go.id/statistik",
        "https://lapor.example.go.id/data/jangkar/2026-11-30.json",
        "https://lapor.example.go.id/api/v1/reports/K7M2XQ9RJ",
        "https://konsol.example.go.id/laporan/Rk7mQ2xq9RjWz3Lp0aBc",
        "https://konsol.example.go.id/lupa-sandi",
    ]
    pattern = _excluded_url_pattern(root)
    assert [url for url in with_tokens if not pattern.search(url)] == []
    assert [url for url in ordinary if pattern.search(url)] == []
