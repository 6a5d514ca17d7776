"""Issue and revoke agency API keys from the command line.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.api_keys issue --agency dinkes-cianjur --role agency_admin \\
        --label "Dinkes admin"

The same use cases as the console's API keys page (shared.usecases.agency_admin): a key
is ``lpr_`` + 32 random bytes (urlsafe base64), printed once and stored only as its
SHA-256 (``api_keys/{sha256 hex}`` -> agency_id, role, label, created_at, created_by,
revoked, revoked_at): whoever reads the database cannot call the API with what they
read. The command line may issue any role for any agency; the change log records it as
``system``.

``ensure_demo_keys`` is for ``make run``: it issues one key per demo role when the
file it writes (``.lapor/demo-keys.json``, local only, git-ignored) is absent or no
longer matches the database, so a restarted stack keeps working keys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.domain.report import Role
from shared.ports import ApiKeyPorts, Clock, FixedClock, SystemClock
from shared.usecases import agency_admin
from shared.usecases.agency import API_KEY_PREFIX, STAFF_ROLES, Caller, key_hash

DEMO_KEYS_FILE = Path(".lapor") / "demo-keys.json"
# (name in the file, agency, role, label): one caller of each kind in the demo tree.
DEMO_KEYS: tuple[tuple[str, str, Role, str], ...] = (
    ("national_admin", "nasional", Role.NATIONAL_ADMIN, "demo: Admin Nasional"),
    ("pemkab_cianjur_admin", "pemkab-cianjur", Role.AGENCY_ADMIN, "demo: Admin Pemkab Cianjur"),
    ("dpupr_cianjur_admin", "dpupr-cianjur", Role.AGENCY_ADMIN, "demo: Admin DPUPR Cianjur"),
    ("uptd_jalan_officer", "uptd-jalan-cianjur", Role.UNIT_OFFICER, "demo: UPTD Jalan"),
    ("dinkes_cianjur_admin", "dinkes-cianjur", Role.AGENCY_ADMIN, "demo: Admin Dinkes Cianjur"),
)
# Who the change log says acted: the command line runs every agency.
COMMAND_LINE = Caller(
    "nasional", Role.NATIONAL_ADMIN, key_label="command line (tools.api_keys)", actor_id="system"
)


def key_ports(client: Any, now: dt.datetime | None = None) -> ApiKeyPorts:
    """The ports on ``client``, with the agencies as the running reference has them
    (agencies the national admin added in the console included)."""
    from shared.adapters.firestore_agency_admin import FirestoreAgencyAdminStore
    from shared.adapters.firestore_reference import FirestoreReferenceSource
    from shared.reference import load_reference

    clock: Clock = SystemClock() if now is None else FixedClock(now)
    reference = FirestoreReferenceSource(client, load_reference(), refresh_s=0).current()
    return ApiKeyPorts(FirestoreAgencyAdminStore(client), clock, reference)


def issue_key(
    client: Any,
    agency_id: str,
    role: Role | str,
    label: str,
    *,
    now: dt.datetime | None = None,
) -> str:
    """Store a new key for ``agency_id`` with ``role`` and return it (shown only now).
    ValueError for an unknown agency, a role that is not a staff role or a bad label."""
    try:
        issued = agency_admin.issue_api_key(
            COMMAND_LINE, agency_id, role, label, key_ports(client, now)
        )
    except agency_admin.NotFound:
        raise ValueError(f"unknown agency {agency_id!r}") from None
    except agency_admin.Invalid as refused:
        roles = sorted(r.value for r in STAFF_ROLES)
        raise ValueError(f"refused ({refused}); a role is one of {roles}") from None
    return issued.key


def revoke_key(client: Any, key: str) -> bool:
    """Revoke ``key``; False when no such key was ever issued."""
    try:
        agency_admin.revoke_api_key(COMMAND_LINE, key_hash(key), key_ports(client))
    except agency_admin.NotFound:
        return False
    return True


def ensure_demo_keys(client: Any, path: Path = DEMO_KEYS_FILE) -> dict[str, dict[str, str]]:
    """The demo keys, issuing any missing from ``path`` or from the database; writes
    ``path`` (mode 0600). LocalStack calls this after seeding."""
    known: dict[str, dict[str, str]] = {}
    if path.exists():
        try:
            known = json.loads(path.read_text())
        except ValueError:
            known = {}
    out: dict[str, dict[str, str]] = {}
    for name, agency_id, role, label in DEMO_KEYS:
        entry = known.get(name) or {}
        key = entry.get("key", "")
        valid = (
            key.startswith(API_KEY_PREFIX)
            and key_ports(client).store.api_key(key_hash(key)) is not None
        )
        if not valid:
            key = issue_key(client, agency_id, role, label)
        out[name] = {"key": key, "agency_id": agency_id, "role": role.value, "label": label}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    path.chmod(0o600)
    return out


def ensure_demo_keys_on_emulator(
    firestore_host: str, project: str, path: Path = DEMO_KEYS_FILE
) -> Path:
    """``ensure_demo_keys`` against the emulator at ``firestore_host``; returns the path."""
    from tools.seed import emulator_client

    client = emulator_client(firestore_host, project)
    try:
        ensure_demo_keys(client, path)
    finally:
        client.close()
    return path


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.api_keys")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="issue a key and print it once")
    issue.add_argument("--agency", required=True)
    issue.add_argument("--role", required=True, choices=sorted(r.value for r in STAFF_ROLES))
    issue.add_argument("--label", default="")
    revoke = sub.add_parser("revoke", help="revoke a key (read from stdin)")
    demo = sub.add_parser("demo", help="issue the demo keys into .lapor/demo-keys.json")
    for command in (issue, revoke, demo):
        command.add_argument("--allow-production", action="store_true")
    args = parser.parse_args(list(argv))
    from tools.seed import command_line_client

    client = command_line_client("api_keys", args.allow_production)
    if client is None:
        return 2
    try:
        if args.command == "issue":
            print(issue_key(client, args.agency, args.role, args.label or args.agency))
        elif args.command == "revoke":
            if not revoke_key(client, sys.stdin.readline().strip()):
                print("no such key", file=sys.stderr)
                return 1
        else:
            print(ensure_demo_keys(client) and DEMO_KEYS_FILE)
    except ValueError as exc:
        print(f"lapor api_keys: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
