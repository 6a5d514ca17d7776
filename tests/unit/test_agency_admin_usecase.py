"""Running an agency: channels, the test delivery, secret rotation, API keys (fakes)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from standardwebhooks import Webhook

from shared.adapters.webhooks import encode_body, new_secret, signature_headers
from shared.config import Settings
from shared.domain.report import Role
from shared.ports import (
    AgencyAdminPorts,
    AgencyChannel,
    FixedClock,
    SendOutcome,
    SendResult,
)
from shared.reference import MAX_AGENCY_EMAILS, load_reference
from shared.usecases import agency_admin
from shared.usecases.agency import Caller, authenticate, key_hash
from shared.usecases.agency_admin import Invalid, LineProblem, NotAllowed, NotFound
from tests.fakes import InMemoryAgencyAdminStore, InMemoryWebhookSender

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
DPUPR, UPTD, DINKES = "dpupr-cianjur", "uptd-jalan-cianjur", "dinkes-cianjur"
HOOK = "https://dpupr.example/hook"

NATIONAL = Caller("nasional", Role.NATIONAL_ADMIN, "Admin Nasional", actor_id="staff:n1")
DPUPR_ADMIN = Caller(DPUPR, Role.AGENCY_ADMIN, "Admin DPUPR", actor_id="staff:a1")
UPTD_OFFICER = Caller(UPTD, Role.UNIT_OFFICER, "Petugas UPTD", actor_id="staff:o1")


class Setup:
    def __init__(self, *, loopback_http: bool = False) -> None:
        self.store = InMemoryAgencyAdminStore()
        self.sender = InMemoryWebhookSender()
        self.clock = FixedClock(NOW)
        self.secret = new_secret()
        for agency in load_reference().agencies:
            self.store.channels[agency.id] = AgencyChannel(agency.id, None, (), self.secret)
        self.ports = AgencyAdminPorts(
            store=self.store,
            audit=self.store.audit,
            sender=self.sender,
            clock=self.clock,
            settings=Settings(
                token_secret="unit-test-secret-0123456789", webhook_loopback_http=loopback_http
            ),
            reference=load_reference(),
        )

    def kinds(self) -> list[str]:
        return [e.kind for e in self.store.audit.logged.values()]


@pytest.fixture
def setup() -> Setup:
    return Setup()


# --- who runs what --------------------------------------------------------------------


def test_an_agency_admin_runs_its_agency_and_its_units_and_nothing_else() -> None:
    managed = agency_admin.managed_agencies(DPUPR_ADMIN, load_reference())
    assert {DPUPR, UPTD} <= managed and DINKES not in managed and "nasional" not in managed


def test_the_national_admin_runs_every_agency_and_an_officer_none() -> None:
    reference = load_reference()
    assert agency_admin.managed_agencies(NATIONAL, reference) == {a.id for a in reference.agencies}
    assert agency_admin.managed_agencies(UPTD_OFFICER, reference) == frozenset()


def test_roles_handed_out_go_up_to_the_callers_own() -> None:
    assert agency_admin.assignable_roles(NATIONAL) == (
        Role.NATIONAL_ADMIN,
        Role.AGENCY_ADMIN,
        Role.UNIT_OFFICER,
    )
    assert agency_admin.assignable_roles(DPUPR_ADMIN) == (Role.AGENCY_ADMIN, Role.UNIT_OFFICER)
    assert agency_admin.assignable_roles(UPTD_OFFICER) == (Role.UNIT_OFFICER,)


# --- channels -------------------------------------------------------------------------


def test_an_admin_sets_its_webhook_address_and_digest_and_the_change_is_recorded(
    setup: Setup,
) -> None:
    choice = agency_admin.update_channels(
        DPUPR_ADMIN,
        DPUPR,
        webhook_url=f" {HOOK} ",
        emails=["Humas@DPUPR.example"],
        digest=True,
        ports=setup.ports,
    )
    humas = ("humas@dpupr.example",)
    assert (choice.webhook_url, choice.emails, choice.digest) == (HOOK, humas, True)
    stored = setup.store.channels[DPUPR]
    assert (stored.webhook_url, stored.emails, stored.digest) == (HOOK, humas, True)
    [entry] = setup.store.audit.logged.values()
    assert (entry.kind, entry.agency_id, entry.target, entry.actor_id, entry.actor_name) == (
        "channels.updated",
        DPUPR,
        DPUPR,
        "staff:a1",
        "Admin DPUPR",
    )
    assert entry.details == {"webhook": "set", "emails": "humas@dpupr.example", "digest": "hourly"}
    assert HOOK not in json.dumps(dict(entry.details))  # a URL may carry the agency's token


def test_saving_the_same_channels_again_records_nothing(setup: Setup) -> None:
    for _ in range(2):
        agency_admin.update_channels(
            DPUPR_ADMIN, UPTD, webhook_url=HOOK, emails=[], digest=False, ports=setup.ports
        )
    assert setup.kinds() == ["channels.updated"]


@pytest.mark.parametrize(
    ("url", "email", "digest", "problems"),
    [
        ("http://dpupr.example/hook", "", False, {"webhook_url": "webhook-not-https"}),
        ("http://127.0.0.1:8090/hooks/x", "", False, {"webhook_url": "webhook-not-public"}),
        ("ftp://dpupr.example/x", "", False, {"webhook_url": "webhook-invalid"}),
        ("https://u:p@dpupr.example/x", "", False, {"webhook_url": "webhook-invalid"}),
        ("https://dpupr.example/x?token=1", "", False, {"webhook_url": "webhook-invalid"}),
        ("https://" + "a" * 500 + ".example", "", False, {"webhook_url": "webhook-too-long"}),
        ("", "not-an-address", False, {"emails": "emails-invalid"}),
        ("https://169.254.169.254/x", "", False, {"webhook_url": "webhook-not-public"}),
        ("http://metadata.google.internal/x", "", False, {"webhook_url": "webhook-not-public"}),
        ("https://10.1.2.3/hook", "", False, {"webhook_url": "webhook-not-public"}),
        ("https://[fd00::1]/hook", "", False, {"webhook_url": "webhook-not-public"}),
        ("https://localhost/hook", "", False, {"webhook_url": "webhook-not-public"}),
        ("", "", True, {"digest": "digest-needs-email"}),
        (
            "http://x.example/h",
            "bad",
            True,
            {"webhook_url": "webhook-not-https", "emails": "emails-invalid"},
        ),
        ("ftp://x", "", True, {"webhook_url": "webhook-invalid", "digest": "digest-needs-email"}),
    ],
)
def test_an_invalid_choice_is_refused_field_by_field_and_changes_nothing(
    setup: Setup, url: str, email: str, digest: bool, problems: dict[str, str]
) -> None:
    with pytest.raises(Invalid) as refused:
        agency_admin.update_channels(
            DPUPR_ADMIN,
            DPUPR,
            webhook_url=url,
            emails=email.splitlines(),
            digest=digest,
            ports=setup.ports,
        )
    assert refused.value.problems == problems
    assert setup.store.channels[DPUPR].webhook_url is None and setup.kinds() == []


def test_several_addresses_are_kept_in_order_lower_cased_and_blank_lines_skipped(
    setup: Setup,
) -> None:
    lines = ["Pengaduan@DPUPR.example", "", "  kepala@dpupr.example ", "admin@dpupr.example"]
    choice = agency_admin.update_channels(
        DPUPR_ADMIN, DPUPR, webhook_url="", emails=lines, digest=True, ports=setup.ports
    )
    wanted = ("pengaduan@dpupr.example", "kepala@dpupr.example", "admin@dpupr.example")
    assert choice.emails == wanted and setup.store.channels[DPUPR].emails == wanted
    [entry] = setup.store.audit.logged.values()
    assert entry.details["emails"] == ", ".join(wanted)


def test_each_wrong_line_of_the_addresses_is_named_and_nothing_changes(setup: Setup) -> None:
    lines = ["a@dpupr.example", "budi@", "", "A@DPUPR.example", "c@dpupr.example"]
    with pytest.raises(Invalid) as refused:
        agency_admin.update_channels(
            DPUPR_ADMIN, DPUPR, webhook_url="", emails=lines, digest=False, ports=setup.ports
        )
    assert refused.value.problems == {"emails": "emails-invalid"}
    assert refused.value.lines == (
        LineProblem(2, "email-invalid"),
        LineProblem(4, "email-duplicate", same_as=1),
    )
    assert setup.store.channels[DPUPR].emails == () and setup.kinds() == []


def test_more_than_five_addresses_are_refused(setup: Setup) -> None:
    six = [f"staf{n}@dpupr.example" for n in range(MAX_AGENCY_EMAILS + 1)]
    with pytest.raises(Invalid) as refused:
        agency_admin.update_channels(
            DPUPR_ADMIN, DPUPR, webhook_url="", emails=six, digest=False, ports=setup.ports
        )
    assert refused.value.problems == {"emails": "emails-too-many"} and setup.kinds() == []
    agency_admin.update_channels(
        DPUPR_ADMIN, DPUPR, webhook_url="", emails=six[:-1], digest=False, ports=setup.ports
    )
    assert len(setup.store.channels[DPUPR].emails) == MAX_AGENCY_EMAILS


def test_plain_http_to_loopback_is_accepted_only_where_the_local_stack_allows_it() -> None:
    local = Setup(loopback_http=True)
    for url in ("http://127.0.0.1:8090/hooks/dpupr", "http://localhost:9/h", "http://[::1]:9/h"):
        agency_admin.update_channels(
            DPUPR_ADMIN, DPUPR, webhook_url=url, emails=[], digest=False, ports=local.ports
        )
        assert local.store.channels[DPUPR].webhook_url == url
    with pytest.raises(Invalid):
        agency_admin.update_channels(
            DPUPR_ADMIN,
            DPUPR,
            webhook_url="http://10.0.0.1/h",
            emails=[],
            digest=False,
            ports=local.ports,
        )


def test_another_agency_is_not_found_and_an_officer_is_not_allowed(setup: Setup) -> None:
    with pytest.raises(NotFound):
        agency_admin.update_channels(
            DPUPR_ADMIN, DINKES, webhook_url=HOOK, emails=[], digest=False, ports=setup.ports
        )
    with pytest.raises(NotFound):
        agency_admin.channels(DPUPR_ADMIN, "no-such-agency", setup.ports)
    with pytest.raises(NotAllowed):
        agency_admin.channels(UPTD_OFFICER, UPTD, setup.ports)
    assert setup.kinds() == []


# --- the test delivery ----------------------------------------------------------------


def test_a_test_delivery_posts_a_signed_ping_now_and_records_the_answer(setup: Setup) -> None:
    setup.store.channels[DPUPR] = AgencyChannel(DPUPR, HOOK, (), setup.secret)
    tested = agency_admin.test_webhook(DPUPR_ADMIN, DPUPR, setup.ports)
    assert tested.result.outcome is SendOutcome.DELIVERED and tested.at == NOW
    [sent] = setup.sender.sent
    assert sent["url"] == HOOK and sent["secrets"] == (setup.secret,)
    payload = json.loads(sent["body"])
    assert payload["type"] == "webhook.ping" and payload["agency_id"] == DPUPR
    assert payload["notification_id"] == sent["id"] and sent["id"].startswith(f"ping.{DPUPR}.")
    [entry] = setup.store.audit.logged.values()
    assert entry.kind == "webhook.tested"
    assert entry.details == {"outcome": "delivered", "status_code": "204", "signatures": "1"}


def test_a_refused_test_delivery_is_shown_and_recorded_as_refused(setup: Setup) -> None:
    setup.store.channels[DPUPR] = AgencyChannel(DPUPR, HOOK, (), setup.secret)
    setup.sender.results.append(SendResult(SendOutcome.PERMANENT, 401, "HTTP 401: bad signature"))
    tested = agency_admin.test_webhook(DPUPR_ADMIN, DPUPR, setup.ports)
    assert (tested.result.status_code, tested.result.error) == (401, "HTTP 401: bad signature")
    [entry] = setup.store.audit.logged.values()
    assert entry.details["outcome"] == "permanent" and entry.details["status_code"] == "401"


def test_no_webhook_or_no_secret_means_no_test_delivery(setup: Setup) -> None:
    with pytest.raises(Invalid) as refused:
        agency_admin.test_webhook(DPUPR_ADMIN, DPUPR, setup.ports)
    assert refused.value.problems == {"webhook_url": "no-webhook"}
    setup.store.channels[DPUPR] = AgencyChannel(DPUPR, HOOK, (), None)
    with pytest.raises(Invalid) as refused:
        agency_admin.test_webhook(DPUPR_ADMIN, DPUPR, setup.ports)
    assert refused.value.problems == {"secret": "no-secret"}
    assert setup.sender.sent == [] and setup.kinds() == []


# --- secret rotation ------------------------------------------------------------------


def test_a_rotation_gives_a_new_secret_once_and_the_old_one_signs_beside_it_for_a_day(
    setup: Setup,
) -> None:
    setup.store.channels[DPUPR] = AgencyChannel(DPUPR, HOOK, (), setup.secret)
    rotated = agency_admin.rotate_secret(DPUPR_ADMIN, DPUPR, setup.ports)
    assert rotated.secret.startswith("whsec_") and rotated.secret != setup.secret
    assert rotated.previous_until == NOW + dt.timedelta(hours=24)
    channel = setup.store.channels[DPUPR]
    assert channel.signing_secrets(NOW) == (rotated.secret, setup.secret)
    assert channel.signing_secrets(NOW + dt.timedelta(hours=24)) == (rotated.secret,)
    # A receiver still holding the old secret verifies what is sent during the day.
    body = encode_body({"type": "webhook.ping"})
    now = dt.datetime.now(dt.UTC)
    headers = signature_headers(channel.signing_secrets(NOW), "ping.1", body, now)
    assert Webhook(setup.secret).verify(body, headers) and Webhook(rotated.secret).verify(
        body, headers
    )
    [entry] = setup.store.audit.logged.values()
    assert entry.kind == "webhook.secret_rotated"
    assert rotated.secret not in json.dumps(dict(entry.details))
    assert setup.secret not in json.dumps(dict(entry.details))


def test_a_test_delivery_during_the_rollover_carries_both_signatures(setup: Setup) -> None:
    setup.store.channels[DPUPR] = AgencyChannel(DPUPR, HOOK, (), setup.secret)
    rotated = agency_admin.rotate_secret(DPUPR_ADMIN, DPUPR, setup.ports)
    tested = agency_admin.test_webhook(DPUPR_ADMIN, DPUPR, setup.ports)
    assert tested.signatures == 2
    assert setup.sender.sent[0]["secrets"] == (rotated.secret, setup.secret)


def test_the_first_secret_of_an_agency_without_one_has_nothing_to_roll_over(
    setup: Setup,
) -> None:
    setup.store.channels[DPUPR] = AgencyChannel(DPUPR, HOOK, (), None)
    rotated = agency_admin.rotate_secret(DPUPR_ADMIN, DPUPR, setup.ports)
    assert rotated.previous_until is None
    assert setup.store.channels[DPUPR].signing_secrets(NOW) == (rotated.secret,)


def test_another_agencys_secret_cannot_be_rotated(setup: Setup) -> None:
    with pytest.raises(NotFound):
        agency_admin.rotate_secret(DPUPR_ADMIN, DINKES, setup.ports)
    assert setup.store.channels[DINKES].secret == setup.secret and setup.kinds() == []


# --- API keys -------------------------------------------------------------------------


def test_an_issued_key_is_returned_once_stored_as_its_hash_and_works_on_the_api(
    setup: Setup,
) -> None:
    issued = agency_admin.issue_api_key(
        DPUPR_ADMIN, UPTD, "unit_officer", "  Aplikasi   UPTD ", setup.ports.keys
    )
    assert issued.key.startswith("lpr_") and issued.key not in str(setup.store.keys)
    assert issued.record.key_hash == key_hash(issued.key)
    assert (issued.record.label, issued.record.created_by) == ("Aplikasi UPTD", "Admin DPUPR")
    caller = authenticate(f"Bearer {issued.key}", setup.store)
    assert (caller.agency_id, caller.role) == (UPTD, Role.UNIT_OFFICER)
    [entry] = setup.store.audit.logged.values()
    assert (entry.kind, entry.target, entry.agency_id) == (
        "api_key.issued",
        key_hash(issued.key),
        UPTD,
    )
    assert issued.key not in json.dumps(dict(entry.details))


def test_a_key_above_the_admins_own_role_is_not_allowed(setup: Setup) -> None:
    with pytest.raises(NotAllowed):
        agency_admin.issue_api_key(DPUPR_ADMIN, DPUPR, "national_admin", "x", setup.ports.keys)
    with pytest.raises(NotAllowed):
        agency_admin.issue_api_key(UPTD_OFFICER, UPTD, "unit_officer", "x", setup.ports.keys)
    assert setup.store.keys == {}


def test_a_key_for_another_agency_is_not_found_and_a_bad_form_is_invalid(setup: Setup) -> None:
    with pytest.raises(NotFound):
        agency_admin.issue_api_key(DPUPR_ADMIN, DINKES, "unit_officer", "x", setup.ports.keys)
    with pytest.raises(Invalid) as refused:
        agency_admin.issue_api_key(DPUPR_ADMIN, DPUPR, "reporter", " ", setup.ports.keys)
    assert refused.value.problems == {"role": "role-invalid", "label": "label-invalid"}
    assert setup.store.keys == {}


def test_the_key_list_is_the_admins_agency_and_units_newest_first(setup: Setup) -> None:
    first = agency_admin.issue_api_key(DPUPR_ADMIN, DPUPR, "agency_admin", "satu", setup.ports.keys)
    setup.clock.advance(dt.timedelta(minutes=1))
    second = agency_admin.issue_api_key(DPUPR_ADMIN, UPTD, "unit_officer", "dua", setup.ports.keys)
    agency_admin.issue_api_key(NATIONAL, DINKES, "agency_admin", "dinkes", setup.ports.keys)
    listed = agency_admin.api_keys(DPUPR_ADMIN, None, setup.ports.keys)
    assert [k.key_hash for k in listed] == [second.record.key_hash, first.record.key_hash]
    assert [k.label for k in agency_admin.api_keys(DPUPR_ADMIN, UPTD, setup.ports.keys)] == ["dua"]
    assert len(agency_admin.api_keys(NATIONAL, None, setup.ports.keys)) == 3
    assert [k.label for k in agency_admin.api_keys(NATIONAL, DINKES, setup.ports.keys)] == [
        "dinkes"
    ]
    with pytest.raises(NotFound):
        agency_admin.api_keys(DPUPR_ADMIN, DINKES, setup.ports.keys)
    with pytest.raises(NotAllowed):
        agency_admin.api_keys(UPTD_OFFICER, None, setup.ports.keys)


def test_a_revoked_key_no_longer_authenticates_and_revoking_again_changes_nothing(
    setup: Setup,
) -> None:
    from shared.usecases.agency import Unauthenticated

    issued = agency_admin.issue_api_key(DPUPR_ADMIN, UPTD, "unit_officer", "x", setup.ports.keys)
    setup.clock.advance(dt.timedelta(minutes=5))
    revoked = agency_admin.revoke_api_key(DPUPR_ADMIN, issued.record.key_hash, setup.ports.keys)
    assert revoked.revoked and revoked.revoked_at == NOW + dt.timedelta(minutes=5)
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {issued.key}", setup.store)
    agency_admin.revoke_api_key(DPUPR_ADMIN, issued.record.key_hash, setup.ports.keys)
    assert setup.kinds() == ["api_key.issued", "api_key.revoked"]


def test_another_agencys_key_or_an_unknown_one_cannot_be_revoked(setup: Setup) -> None:
    issued = agency_admin.issue_api_key(NATIONAL, DINKES, "agency_admin", "x", setup.ports.keys)
    for key_id in (issued.record.key_hash, "0" * 64, "short"):
        with pytest.raises(NotFound):
            agency_admin.revoke_api_key(DPUPR_ADMIN, key_id, setup.ports.keys)
    assert not setup.store.keys[issued.record.key_hash].revoked
