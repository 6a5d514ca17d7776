"""Issue and revoke agency API keys.

    FIRESTORE_EMULATOR_HOST=127.0.0.1:8681 GOOGLE_CLOUD_PROJECT=lapor-local \\
        python -m tools.api_keys issue --agency dinkes-cianjur --role agency_admin \\
        --label "Dinkes admin"

A key is ``lpr_`` + 32 random bytes (urlsafe base64). It is printed once and stored
only as its SHA-256 (``api_keys/{sha256 hex}`` -> agency_id, role, label, created_at,
revoked): whoever reads the database cannot call the API with what they read.

``ensure_demo_keys`` is for ``make run``: it issues one key per demo role when the
file it writes (``.lapor/demo-keys.json``, local only, git-ignored) is absent or no
longer matches the database, so a restarted stack keeps working keys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.domain.report import Role
from shared.usecases.agency import API_KEY_PREFIX, STAFF_ROLES, key_hash

API_KEYS = "api_keys"
DEMO_KEYS_FILE = Path(".lapor") / "demo-keys.json"
# (name in the file, agency, role, label): one caller of each kind in the demo tree.
DEMO_KEYS: tuple[tuple[str, str, Role, str], ...] = (
    ("national_admin", "nasional", Role.NATIONAL_ADMIN, "demo: Admin Nasional"),
    ("pemkab_cianjur_admin", "pemkab-cianjur", Role.AGENCY_ADMIN, "demo: Admin Pemkab Cianjur"),
    ("dpupr_cianjur_admin", "dpupr-cianjur", Role.AGENCY_ADMIN, "demo: Admin DPUPR Cianjur"),
    ("uptd_jalan_officer", "uptd-jalan-cianjur", Role.UNIT_OFFICER, "demo: UPTD Jalan"),
    ("dinkes_cianjur_admin", "dinkes-cianjur", Role.AGENCY_ADMIN, "demo: Admin Dinkes Cianjur"),
)


def new_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def issue_key(
    client: Any,
    agency_id: str,
    role: Role | str,
    label: str,
    *,
    now: dt.datetime | None = None,
) -> str:
    """Store a new key for ``agency_id`` with ``role`` and return it (shown only now)."""
    from shared.reference import load_reference

    role = Role(role)
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {sorted(r.value for r in STAFF_ROLES)}")
    if not load_reference().has_agency(agency_id):
        raise ValueError(f"unknown agency {agency_id!r}")
    key = new_key()
    digest = key_hash(key)
    client.collection(API_KEYS).document(digest).create(
        {
            "schema_version": 1,
            "key_hash": digest,
            "agency_id": agency_id,
            "role": role.value,
            "label": label,
            "created_at": now or dt.datetime.now(dt.UTC),
            "revoked": False,
        }
    )
    return key


def revoke_key(client: Any, key: str) -> bool:
    ref = client.collection(API_KEYS).document(key_hash(key))
    if not ref.get().exists:
        return False
    ref.update({"revoked": True})
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
            and client.collection(API_KEYS).document(key_hash(key)).get().exists
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
