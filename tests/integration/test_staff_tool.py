"""tools/staff.py on the emulator: the demo accounts sign in with the credentials in their
file (kept across restarts, given again when file and database part), the code command
gives the code an authenticator would, and the commands go through the use cases."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from google.cloud import firestore

from shared.adapters.firestore_reference import FirestoreReferenceAdminStore
from shared.config import Settings
from shared.domain.report import Role
from shared.domain.staff import SessionStage
from shared.reference import load_reference
from shared.usecases import staff as staff_usecases
from shared.usecases.agency import Caller
from shared.usecases.reference_admin import AgencyForm, save_agency
from tools import staff as tool
from tools.stack import Emulators

SECRET = "test-token-secret-not-for-production"
# The least Argon2id cost (as the functional tier's): what is tested does not depend on it.
SETTINGS = Settings(token_secret=SECRET, staff_hash_time_cost=1, staff_hash_memory_kib=8192)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same cost for the command line (tool_settings reads the environment)."""
    monkeypatch.setenv("LAPOR_STAFF_HASH_TIME_COST", "1")
    monkeypatch.setenv("LAPOR_STAFF_HASH_MEMORY_KIB", "8192")


@pytest.fixture
def ports(clean_emulators: Emulators) -> tool.ToolPorts:
    client = firestore.Client(project=clean_emulators.project)
    return tool.tool_ports(client, SETTINGS)


def _signs_in(ports: tool.ToolPorts, entry: dict[str, str]) -> bool:
    signed = staff_usecases.sign_in(entry["email"], entry["password"], ports, client_key="t")
    assert signed.session.stage is SessionStage.SECOND_FACTOR
    code = staff_usecases.current_code(entry["totp_secret"], ports.clock.now())
    session = staff_usecases.verify_second_factor(signed.token, code, ports)
    return session.stage is SessionStage.FULL


def test_the_demo_accounts_sign_in_with_password_and_code(
    ports: tool.ToolPorts, tmp_path: Path
) -> None:
    path = tmp_path / "demo-staff.json"
    accounts = tool.ensure_demo_staff(ports, path)
    assert set(accounts) == {name for name, *_ in tool.DEMO_STAFF}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text()) == accounts
    assert _signs_in(ports, accounts["dpupr_cianjur_admin"])
    officer = ports.staff.account_by_email(accounts["uptd_jalan_officer"]["email"])
    assert officer is not None and officer.agency_id == "uptd-jalan-cianjur"


def test_a_restart_keeps_the_credentials(ports: tool.ToolPorts, tmp_path: Path) -> None:
    path = tmp_path / "demo-staff.json"
    first = tool.ensure_demo_staff(ports, path)
    assert tool.ensure_demo_staff(ports, path) == first
    assert len(ports.staff.accounts_in(["nasional", "dpupr-cianjur", "uptd-jalan-cianjur",
                                        "dinkes-cianjur"])) == 4  # fmt: skip


def test_a_lost_file_gives_the_kept_accounts_new_credentials(
    ports: tool.ToolPorts, tmp_path: Path
) -> None:
    path = tmp_path / "demo-staff.json"
    old = tool.ensure_demo_staff(ports, path)
    path.unlink()
    new = tool.ensure_demo_staff(ports, path)
    entry = new["national_admin"]
    assert entry["password"] != old["national_admin"]["password"]
    assert _signs_in(ports, entry)


def test_the_code_command_prints_the_authenticators_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAPOR_DATA_DIR", str(tmp_path))
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    (tmp_path / "demo-staff.json").write_text(
        json.dumps({"x": {"email": "a@lapor.test", "totp_secret": secret}})
    )
    assert tool.main(["code", "A@lapor.test"]) == 0
    printed = capsys.readouterr().out.strip()
    now = dt.datetime.now(dt.UTC)
    earlier = now - dt.timedelta(seconds=30)
    assert printed in {staff_usecases.current_code(secret, t) for t in (now, earlier)}
    assert tool.main(["code", "nobody@lapor.test"]) == 1


def test_create_and_deactivate_from_the_command_line(
    clean_emulators: Emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAPOR_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("kopi susu gula aren\n"))
    created = tool.main(
        ["create", "--email", "Kepala@Kemenpan.example", "--name", "Kepala",
         "--role", "national_admin", "--agency", "nasional"]
    )  # fmt: skip
    assert created == 0
    client = firestore.Client(project=clean_emulators.project)
    ports = tool.tool_ports(client, SETTINGS)
    signed = staff_usecases.sign_in(
        "kepala@kemenpan.example", "kopi susu gula aren", ports, client_key="t"
    )
    assert signed.session.stage is SessionStage.ENROL  # an admin enrols a second factor first
    assert tool.main(["deactivate", "--email", "kepala@kemenpan.example"]) == 0
    assert staff_usecases.current_session(signed.token, ports) is None
    assert tool.main(["deactivate", "--email", "nobody@kemenpan.example"]) == 1
    # A weak password is refused with the use case's own words.
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    refused = tool.main(
        ["create", "--email", "b@kemenpan.example", "--name", "B",
         "--role", "national_admin", "--agency", "nasional"]
    )  # fmt: skip
    assert refused == 2


def test_an_agency_added_in_the_console_gets_accounts_from_the_command_line(
    seeded_emulators: Emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAPOR_DATA_DIR", str(tmp_path))
    client = firestore.Client(project=seeded_emulators.project)
    save_agency(  # as the national admin does on the console's /instansi
        AgencyForm(
            id="disnaker-cianjur",
            name="Dinas Tenaga Kerja Kabupaten Cianjur",
            short_name="Disnaker Cianjur",
            kind="agency",
            parent="pemkab-cianjur",
            region="32.03",
            categories=("pelayanan-publik-lainnya.aparatur",),
        ),
        creating=True,
        caller=Caller("nasional", Role.NATIONAL_ADMIN, "Admin Nasional", "staff:test"),
        store=FirestoreReferenceAdminStore(client),
        base=load_reference(),
        now=dt.datetime.now(dt.UTC),
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("kopi susu gula aren\n"))
    created = tool.main(
        ["create", "--email", "admin@disnaker.example", "--name", "Admin Disnaker",
         "--role", "agency_admin", "--agency", "disnaker-cianjur"]
    )  # fmt: skip
    assert created == 0
    account = tool.tool_ports(client, SETTINGS).staff.account_by_email("admin@disnaker.example")
    assert account is not None and account.agency_id == "disnaker-cianjur"
    assert tool.main(
        ["invite", "--email", "x@disnaker.example", "--name", "X",
         "--role", "unit_officer", "--agency", "no-such-agency"]
    ) == 2  # fmt: skip
    client.close()
