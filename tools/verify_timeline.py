"""Verify an export of a report's timeline (GET /api/v1/reports/{code}/timeline).

    python -m tools.verify_timeline export.json [--head HASH] [--anchor URL_OR_FILE ...]
    curl -s https://.../api/v1/reports/LPR-.../timeline | python -m tools.verify_timeline -

Recomputes every event's hash from its fields and checks that each follows the one
before it (docs/timeline-integrity.md). ``--head``: a hash kept from an earlier export
of the same report, which must still be in this one (so no event at or before it was
removed or changed since, the last ones included). ``--anchor``: a day's published
anchor of the timelines (``https://.../data/jangkar/2026-10-08.json``, or its file),
whose root is recomputed and whose head for this report must be in the export; repeat
it for several days. Exit 0 when it verifies, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Sequence
from typing import Any

from shared.domain import anchor, chain


def check(export: Any, kept_head: str | None = None, anchors: Sequence[Any] = ()) -> list[str]:
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
    for published in anchors:
        problems.extend(anchor.check(published, export))
    return problems


def read_anchor(where: str) -> Any:
    """A published anchor, fetched from its address or read from its file."""
    if where.startswith(("https://", "http://")):
        with urllib.request.urlopen(where, timeout=30) as answer:
            return json.loads(answer.read())
    with open(where, encoding="utf-8") as file:
        return json.load(file)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", help="the export's file, or - for standard input")
    parser.add_argument("--head", help="a head hash kept from an earlier export")
    parser.add_argument(
        "--anchor",
        action="append",
        default=[],
        help="a day's published anchor (its URL or file); may be repeated",
    )
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
    try:
        anchors = [read_anchor(where) for where in args.anchor]
    except (OSError, ValueError) as error:
        print(f"cannot read the anchor: {error}")
        return 1
    problems = check(export, args.head, anchors)
    if problems:
        print("NOT VERIFIED")
        for problem in problems:
            print(f"- {problem}")
        return 1
    legacy = chain.verify(export["events"]).legacy
    print(f"verified: {len(export['events'])} events, head {export['head']}")
    for published in anchors:
        print(f"in the anchor of {published['day']} (root {published['root']})")
    if legacy:
        print(f"written before the chain (shown, not protected): events {list(legacy)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
