"""Staff accounts from the command line: the first national admin, and the demo accounts.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.staff create --email admin@kemenpan.go.id --name "Admin" \\
        --role national_admin --agency nasional          # asks for the password
    python -m tools.staff invite --email ... --name ... --role ... --agency ...
    python -m tools.staff deactivate --email ...          # reactivate, reset-code alike
    python -m tools.staff code admin-dpupr-cianjur@lapor.test   # a demo account's code now
    python -m tools.staff demo                             # the demo accounts, as make run

Every command goes through shared.usecases.staff, as the console's pages do, against the
running reference (Firestore's agencies, those added in the console included); the change
log records the command line as ``system``. ``create`` makes an account that can sign in
at once (its password read without echo, or from stdin when not a terminal); ``invite``
e-mails an invitation through the outbox as the console does (the sweeper publishes it
when no Pub/Sub is reachable). Like tools.api_keys, it writes to a real project only with
``--allow-production``.

The demo accounts (``make run``; the same agencies as tools.api_keys.DEMO_KEYS) get a
password and a TOTP secret generated once into ``.lapor/demo-staff.json`` (local only,
git-ignored, mode 0600); ``code <email>`` prints the TOTP code an authenticator app
would show now, so no phone is needed to try the console.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyotp

from shared.config import Settings
from shared.domain.report import Role
from shared.domain.staff import STAFF_ROLES, StaffAccount, normal_email
from shared.ports import Clock, OutboxMessage, Publisher, StaffStore, StaffUpdate, SystemClock
from shared.reference import Reference, load_reference
from shared.usecases import staff as staff_usecases

DEMO_STAFF_FILE = "demo-staff.json"  # in the local stack's data directory
# (name in the file, e-mail, display name, agency, role)
DEMO_STAFF: tuple[tuple[str, str, str, str, Role], ...] = (
    ("national_admin", "admin-nasional@lapor.test", "Admin Nasional (demo)", "nasional",
     Role.NATIONAL_ADMIN),
    ("dpupr_cianjur_admin", "admin-dpupr-cianjur@lapor.test", "Admin DPUPR Cianjur (demo)",
     "dpupr-cianjur", Role.AGENCY_ADMIN),
    ("uptd_jalan_officer", "petugas-uptd-jalan@lapor.test", "Petugas UPTD Jalan (demo)",
     "uptd-jalan-cianjur", Role.UNIT_OFFICER),
    ("dinkes_cianjur_admin", "admin-dinkes-cianjur@lapor.test", "Admin Dinkes Cianjur (demo)",
     "dinkes-cianjur", Role.AGENCY_ADMIN),
)  # fmt: skip


class _Unpublished:
    """No bus at hand: the outbox keeps the message and the sweeper publishes it."""

    def publish(self, message: OutboxMessage) -> None:
        from shared.ports import PublishFailed

        raise PublishFailed(message.id)


@dataclass(frozen=True)
class _Agency:
    reference: Reference


@dataclass(frozen=True)
class ToolPorts:
    """shared.ports.StaffPorts for the command line."""

    staff: StaffStore
    clock: Clock
    settings: Settings
    publisher: Publisher
    agency: _Agency


def tool_ports(client: Any, settings: Settings, publisher: Publisher | None = None) -> ToolPorts:
    """The ports on ``client``, with the agencies as the running reference has them (an
    agency the national admin added in the console gets accounts here too)."""
    from shared.adapters.crypto import totp_sealer_from_settings
    from shared.adapters.firestore_reference import FirestoreReferenceSource
    from shared.adapters.firestore_staff import FirestoreStaffStore

    reference = FirestoreReferenceSource(client, load_reference(), refresh_s=0).current()
    return ToolPorts(
        # The TOTP keyset these settings name, else the environment's (the stack's file).
        staff=FirestoreStaffStore(
            client,
            totp_sealer=lambda: totp_sealer_from_settings(
                settings if settings.totp_keyset or settings.totp_keyset_file else None
            ),
        ),
        clock=SystemClock(),
        settings=settings,
        publisher=publisher or _Unpublished(),
        agency=_Agency(reference),
    )


def data_dir() -> Path:
    """The local stack's data directory (LAPOR_DATA_DIR, as tools.stack reads it)."""
    return Path(os.environ.get("LAPOR_DATA_DIR") or ".lapor")


def tool_settings() -> Settings:
    """The deployment's settings; on the emulator without LAPOR_TOKEN_SECRET, the local
    stack's secret (``.lapor/secret``): a link's token is derived under it, so it must
    be the secret notify uses."""
    environ = dict(os.environ)
    secret_file = data_dir() / "secret"
    if "LAPOR_TOKEN_SECRET" not in environ and secret_file.is_file():
        environ["LAPOR_TOKEN_SECRET"] = secret_file.read_text(encoding="utf-8").strip()
    # The key that seals staff TOTP secrets, as the stack keeps it (tools.stack).
    totp_keyset = data_dir() / "totp-keyset.json"
    if "LAPOR_TOTP_KEYSET" not in environ and totp_keyset.is_file():
        environ.setdefault("LAPOR_TOTP_KEYSET_FILE", str(totp_keyset))
    return Settings.from_env(environ)


# --- the demo accounts ---------------------------------------------------------------------


def ensure_demo_staff(ports: ToolPorts, path: Path) -> dict[str, dict[str, str]]:
    """The demo accounts, each signing in with the password and TOTP secret in ``path``:
    made when missing, given the file's credentials again when the database kept an
    account the file no longer matches (or the other way round). Writes ``path``."""
    known: dict[str, dict[str, str]] = {}
    if path.exists():
        try:
            known = json.loads(path.read_text())
        except ValueError:
            known = {}
    out: dict[str, dict[str, str]] = {}
    for name, email, display, agency_id, role in DEMO_STAFF:
        entry = known.get(name) or {}
        password = entry.get("password") or _demo_password()
        secret = entry.get("totp_secret") or pyotp.random_base32()
        account = ports.staff.account_by_email(email)
        if account is None:
            staff_usecases.create_account(
                email, display, role, agency_id, password, ports, totp_secret=secret
            )
        elif not _signs_in_with(account, password, secret):
            _give_credentials(account, password, secret, ports)
        out[name] = {
            "email": email,
            "password": password,
            "totp_secret": secret,
            "agency_id": agency_id,
            "role": role.value,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    path.chmod(0o600)
    return out


def _demo_password() -> str:
    return "demo-" + secrets.token_urlsafe(12)


def _signs_in_with(account: StaffAccount, password: str, secret: str) -> bool:
    # Any Argon2 parameters: the hash names its own.
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    if not account.active or account.totp_secret != secret or account.password_hash is None:
        return False
    try:
        return PasswordHasher().verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _give_credentials(account: StaffAccount, password: str, secret: str, ports: ToolPorts) -> None:
    password_hash = staff_usecases.hash_password(password, ports.settings)
    now = ports.clock.now()

    def decide(fresh: StaffAccount) -> StaffUpdate:
        changed = replace(fresh, password_hash=password_hash, password_changed_at=now,
                          totp_secret=secret, totp_last_step=0, active=True)  # fmt: skip
        return StaffUpdate(account=changed.ended_sessions())

    ports.staff.update_account(account.account_id, decide)


def ensure_demo_staff_on_emulator(
    firestore_host: str, project: str, token_secret: str, path: Path, totp_keyset_file: str = ""
) -> dict[str, dict[str, str]]:
    """``ensure_demo_staff`` against the emulator at ``firestore_host`` (LocalStack)."""
    from tools.seed import emulator_client

    client = emulator_client(firestore_host, project)
    try:
        settings = Settings(
            token_secret=token_secret, project=project, totp_keyset_file=totp_keyset_file
        )
        return ensure_demo_staff(tool_ports(client, settings), path)
    finally:
        client.close()


def demo_code(email: str, path: Path, now: dt.datetime | None = None) -> str:
    """The current TOTP code of the demo account ``email`` (KeyError: no such demo account)."""
    wanted = normal_email(email)
    accounts = json.loads(path.read_text()) if path.exists() else {}
    for entry in accounts.values():
        if entry.get("email") == wanted:
            return staff_usecases.current_code(entry["totp_secret"], now or dt.datetime.now(dt.UTC))
    raise KeyError(email)


# --- the commands ----------------------------------------------------------------------------


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.staff")
    sub = parser.add_subparsers(dest="command", required=True)
    roles = sorted(r.value for r in STAFF_ROLES)
    create = sub.add_parser("create", help="an account that signs in at once (asks the password)")
    invite = sub.add_parser("invite", help="an account, and its invitation e-mailed")
    for command in (create, invite):
        command.add_argument("--email", required=True)
        command.add_argument("--name", required=True)
        command.add_argument("--role", required=True, choices=roles)
        command.add_argument("--agency", required=True)
    changes = {
        "deactivate": staff_usecases.deactivate,
        "reactivate": staff_usecases.reactivate,
        "reset-code": staff_usecases.reset_second_factor,
    }
    for name in changes:
        sub.add_parser(name, help=f"{name} the account of --email").add_argument(
            "--email", required=True
        )
    code = sub.add_parser("code", help="a demo account's TOTP code now (from the demo file)")
    code.add_argument("email")
    demo = sub.add_parser("demo", help="make the demo accounts (.lapor/demo-staff.json)")
    for command in (create, invite, demo, *(sub.choices[name] for name in changes)):
        command.add_argument("--allow-production", action="store_true")
    args = parser.parse_args(list(argv))

    if args.command == "code":
        try:
            print(demo_code(args.email, data_dir() / DEMO_STAFF_FILE))
        except KeyError:
            print(f"lapor staff: {args.email} is no demo account in {data_dir() / DEMO_STAFF_FILE}",
                  file=sys.stderr)  # fmt: skip
            return 1
        return 0

    from tools.seed import command_line_client

    client = command_line_client("staff", args.allow_production)
    if client is None:
        return 2
    try:
        ports = tool_ports(client, tool_settings())
        if args.command == "create":
            password = _read_password("Password: ")
            made = staff_usecases.create_account(
                args.email, args.name, args.role, args.agency, password, ports
            )
            print(f"created {made.email} ({made.role.value}, {made.agency_id}): {made.account_id}")
        elif args.command == "invite":
            made = staff_usecases.invite(
                staff_usecases.SYSTEM, args.email, args.name, args.role, args.agency, ports
            )
            print(f"invited {made.email}: the e-mail goes out through the outbox")
        elif args.command == "demo":
            path = data_dir() / DEMO_STAFF_FILE
            print(ensure_demo_staff(ports, path) and path)
        else:
            account = ports.staff.account_by_email(normal_email(args.email))
            if account is None:
                print(f"lapor staff: no account for {args.email}", file=sys.stderr)
                return 1
            changed = changes[args.command](staff_usecases.SYSTEM, account.account_id, ports)
            print(f"{args.command}: {changed.email} (active: {changed.active})")
    except staff_usecases.StaffError as refused:
        print(f"lapor staff: {refused.message('en')}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"lapor staff: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
