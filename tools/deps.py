"""Print the dependencies declared in pyproject.toml, one requirement per line.

pyproject.toml is the single list of dependencies; ``make venv`` pipes this into
``pip install -r``, so there is no second list to keep in step.

    python -m tools.deps          # runtime + dev
    python -m tools.deps --runtime
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def requirements(*, dev: bool = True, pyproject: Path = PYPROJECT) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    found: list[str] = list(project.get("dependencies", []))
    if dev:
        found += project.get("optional-dependencies", {}).get("dev", [])
    return found


def main(argv: list[str]) -> int:
    print("\n".join(requirements(dev="--runtime" not in argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
