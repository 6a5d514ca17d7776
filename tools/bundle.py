"""Bundle each Cloud Function for deployment: ``build/<name>/`` and ``build/<name>.zip``.

Cloud Functions uploads one folder and installs its ``requirements.txt``; a path
dependency on ``../shared`` does not work there. So each bundle is the function's own
folder (``main.py``) with ``shared/`` copied beside it, Python and data alike
(templates, reference TOML/JSON), less caches and tests, and a ``requirements.txt``
written from pyproject.toml's runtime dependencies. Every function gets all of them:
the composition root (shared/wiring.py) can build every adapter, so a shorter list per
function would be a guess kept in step by hand; an installed library that is never
imported costs nothing at a cold start.

The zip is deterministic (sorted entries, fixed timestamps and permissions), so its
md5 changes only when the code does: Terraform names the uploaded object
``<name>-<md5>.zip``, and only a function whose code changed is redeployed.

    python -m tools.bundle                 # every functions/<name>/ with a main.py
    python -m tools.bundle submit route    # only these
    python -m tools.bundle --out /tmp/b    # somewhere other than build/
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.deps import requirements

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
SHARED_DIR = REPO_ROOT / "shared"
BUILD_DIR = REPO_ROOT / "build"

# The earliest time a zip entry can carry: the same for every build.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
EXCLUDED_DIRS = frozenset(
    {"__pycache__", "tests", "test", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
EXCLUDED_NAMES = frozenset({".DS_Store"})
REQUIREMENTS = "requirements.txt"


class BundleError(Exception):
    """A function folder that cannot be bundled (missing, without main.py, or with a
    requirements.txt of its own)."""


@dataclass(frozen=True)
class Bundle:
    name: str
    directory: Path
    zip_path: Path
    md5: str
    files: tuple[str, ...]  # paths inside the bundle, sorted


def function_names(functions_dir: Path = FUNCTIONS_DIR) -> list[str]:
    """Every ``functions/<name>/`` that has a ``main.py``, sorted."""
    return sorted(p.parent.name for p in functions_dir.glob("*/main.py"))


def _included(relative: Path) -> bool:
    if any(part in EXCLUDED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
        return False
    name = relative.name
    if name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES):
        return False
    return not (name.startswith("test_") and name.endswith(".py"))


def _walk(root: Path) -> Iterator[Path]:
    """Files under ``root`` that belong in a bundle, as paths relative to it, sorted."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and _included(path.relative_to(root)):
            yield path.relative_to(root)


def bundle_sources(name: str, *, functions_dir: Path = FUNCTIONS_DIR) -> dict[str, Path]:
    """The files copied into the bundle of ``name``: bundle path -> source file
    (``build`` writes the requirements.txt beside them)."""
    source = functions_dir / name
    if not (source / "main.py").is_file():
        raise BundleError(f"{source}: no main.py, not a function")
    if (source / REQUIREMENTS).exists():
        raise BundleError(
            f"{source / REQUIREMENTS}: the deployed requirements are written from "
            "pyproject.toml's dependencies; add the library there instead"
        )
    files: dict[str, Path] = {}
    for relative in _walk(source):
        files[relative.as_posix()] = source / relative
    for relative in _walk(SHARED_DIR):
        files[f"shared/{relative.as_posix()}"] = SHARED_DIR / relative
    return dict(sorted(files.items()))


def deployed_requirements() -> bytes:
    """The bundle's requirements.txt: pyproject.toml's runtime dependencies."""
    lines = [
        "# Written by tools/bundle.py from pyproject.toml's dependencies.",
        *requirements(dev=False),
    ]
    return ("\n".join(lines) + "\n").encode()


def write_zip(zip_path: Path, files: Iterable[tuple[str, bytes]]) -> str:
    """Write a zip whose bytes depend only on the names and contents; return its md5."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w") as archive:
        for arcname, content in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 & 0xFFFF) << 16  # a regular file, rw-r--r--
            info.create_system = 3  # Unix, whatever system builds it
            archive.writestr(info, content, compresslevel=9)
    return hashlib.md5(zip_path.read_bytes(), usedforsecurity=False).hexdigest()


def build(name: str, *, out_dir: Path = BUILD_DIR, functions_dir: Path = FUNCTIONS_DIR) -> Bundle:
    """Make ``out_dir/<name>/`` (replaced entirely) and ``out_dir/<name>.zip``."""
    contents = {
        arcname: source.read_bytes()
        for arcname, source in bundle_sources(name, functions_dir=functions_dir).items()
    }
    contents[REQUIREMENTS] = deployed_requirements()
    directory = out_dir / name
    if directory.exists():
        shutil.rmtree(directory)
    for arcname, content in contents.items():
        target = directory / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    zip_path = out_dir / f"{name}.zip"
    md5 = write_zip(zip_path, contents.items())
    return Bundle(name, directory, zip_path, md5, tuple(sorted(contents)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bundle", description=__doc__)
    parser.add_argument("names", nargs="*", help="functions to bundle (default: all)")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="output directory")
    args = parser.parse_args(argv)
    names = args.names or function_names()
    unknown = sorted(set(names) - set(function_names()))
    if unknown:
        parser.error(f"no functions/<name>/main.py for: {', '.join(unknown)}")
    for name in names:
        made = build(name, out_dir=args.out)
        print(f"{made.md5}  {made.zip_path}  ({len(made.files)} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
