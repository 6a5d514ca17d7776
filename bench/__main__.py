"""``python -m bench [name ...]``: run the named benchmarks (all when none is named)."""

from __future__ import annotations

import sys

from bench import agency, attachments, console, cost, jobs, notify, route, submit

# In this order: cost prices what the others have just counted.
BENCHES = {
    "submit": submit.run,
    "route": route.run,
    "agency": agency.run,
    "console": console.run,
    "jobs": jobs.run,
    "notify": notify.run,
    "attachments": attachments.run,
    "cost": cost.run,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    for name in names:
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
