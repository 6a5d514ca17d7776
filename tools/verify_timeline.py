"""Verify an export of a report's timeline (GET /api/v1/reports/{code}/timeline).

    python -m tools.verify_timeline export.json [--head HASH]
    curl -s https://.../api/v1/reports/LPR-.../timeline | python -m tools.verify_timeline -

Recomputes every event's hash from its fields and checks that each follows the one
before it (docs/timeline-integrity.md). ``--head``: a hash kept from an earlier export
of the same report, which must still be in this one (so no event at or before it was
removed or changed since, the last ones included). Exit 0 when it verifies, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from shared.domain import chain


def check(export: Any, kept_head: str | None = None) -> list[str]:
    """The problems found in ``export`` (none: it verifies)."""
    if not isinstance(export, dict) or not isinstance(export.get("events"), list):
        return ["not a timeline export: no events"]
    verdict = chain.verify(export["events"])
    problems = list(verdict.problems)
    if export.get("head") != verdict.head:
        problems.append("the export's head is not its last event's hash")
    hashes = [entry.get("hash") for entry in export["events"] if isinstance(entry, dict)]
    if kept_head is not None and kept_head not in hashes:
        problems.append("the kept head is not in this export (events removed or changed)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", help="the export's file, or - for standard input")
    parser.add_argument("--head", help="a head hash kept from an earlier export")
    args = parser.parse_args(argv)
    if args.export == "-":
        text = sys.stdin.read()
    else:
        with open(args.export, encoding="utf-8") as file:
            text = file.read()
    try:
        export = json.loads(text)
    except json.JSONDecodeError as error:
        print(f"not JSON: {error}")
        return 1
    problems = check(export, args.head)
    if problems:
        print("NOT VERIFIED")
        for problem in problems:
            print(f"- {problem}")
        return 1
    legacy = chain.verify(export["events"]).legacy
    print(f"verified: {len(export['events'])} events, head {export['head']}")
    if legacy:
        print(f"written before the chain (shown, not protected): events {list(legacy)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
