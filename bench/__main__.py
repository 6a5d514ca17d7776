"""``python -m bench [name ...]``: run the named benchmarks (all when none is named),
then print the figure sheet (bench/sheet.py). ``python -m bench sheet [--markdown]``
prints the sheet from the stored results without running anything."""

from __future__ import annotations

import sys

from bench import agency, attachments, console, cost, jobs, load, notify, route, sheet, submit

# In this order: cost prices what the others have just counted.
BENCHES = {
    "submit": submit.run,
    "route": route.run,
    "agency": agency.run,
    "console": console.run,
    "jobs": jobs.run,
    "notify": notify.run,
    "attachments": attachments.run,
    "load": load.run,
    "cost": cost.run,
}


def main(argv: list[str]) -> int:
    if argv[:1] == ["sheet"]:
        sheet.print_sheet(as_markdown="--markdown" in argv[1:])
        return 0
    names = argv or list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}, sheet")
        return 2
    for name in names:
        BENCHES[name]()
    sheet.print_sheet()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
