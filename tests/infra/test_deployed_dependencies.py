"""What Cloud Functions installs for a function covers what its bundle imports.

Cloud Functions installs the bundle's requirements.txt and nothing else; tools/bundle.py
writes it from pyproject.toml's runtime dependencies, so a library that only the dev
extras (or nothing) declare would fail in production at the first call that imports it
(a lazy import, later still). Here every import in the function's own files is followed
through ``shared/`` as bundled (``tools.bundle.bundle_sources``), anywhere in a module
(function bodies included, ``if TYPE_CHECKING:`` blocks excepted), and each third-party
module must come from a distribution the requirements install, directly or through what
those require (read from the installed distributions' metadata, as pip resolves them).
A runtime dependency that no bundle imports is refused too, so the list stays exact.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement

from tools import bundle

FUNCTIONS = bundle.function_names()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- what a bundle imports ------------------------------------------------------------


def _module_name(bundle_path: str) -> str | None:
    path = PurePosixPath(bundle_path)
    if path.suffix != ".py":
        return None
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: anywhere but under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _runtime_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        yield from _runtime_imports(node)


def _imported(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom
) -> tuple[str, list[str]]:
    """The module a statement imports from, and the most specific names it may import
    (``from a import b`` imports module ``a.b`` when there is one, else a name of ``a``)."""
    if isinstance(node, ast.Import):
        return node.names[0].name, [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = ".".join(package[: len(package) - (node.level - 1)])
        base = f"{anchor}.{base}" if base else anchor
    names = [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return base, names or [base]


def bundle_imports(name: str) -> tuple[set[str], set[str]]:
    """(third-party modules, first-party modules missing from the bundle) imported by
    the function's own files and everything of the bundle they import in turn."""
    modules: dict[str, tuple[Path, bool] | None] = {}  # None: a namespace package
    for bundle_path, source in bundle.bundle_sources(name).items():
        module = _module_name(bundle_path)
        if module is not None:
            modules[module] = (source, bundle_path.endswith("__init__.py"))
    for module in list(modules):
        parts = module.split(".")
        for i in range(1, len(parts)):
            modules.setdefault(".".join(parts[:i]), None)
    first_party = {module.split(".")[0] for module in modules}
    third_party: set[str] = set()
    missing: set[str] = set()
    seen: set[str] = set()
    pending = [m for m in modules if m.split(".")[0] != "shared"]  # the function's own
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        pending.extend(p for i in range(1, len(parts)) if (p := ".".join(parts[:i])) in modules)
        found = modules[module]
        if found is None:
            continue
        source, is_package = found
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        for node in _runtime_imports(tree):
            base, names = _imported(module, is_package, node)
            top = base.split(".")[0]
            if top == "__future__" or top in sys.stdlib_module_names:
                continue
            if top not in first_party:
                third_party.update(names)
            elif base not in modules:
                missing.add(base)
            else:
                pending.extend([base, *(n for n in names if n in modules)])
    return third_party, missing


# --- which distribution provides a module, and what a requirement installs -------------


@cache
def module_owners() -> Mapping[str, frozenset[str]]:
    """Dotted module or package name -> the installed distributions whose files hold it.

    Built from the distributions' file lists rather than from top-level names, because
    ``google`` is a namespace shared by many distributions."""
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        for file in dist.files or ():
            parts = PurePosixPath(str(file)).parts
            if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".data")):
                continue
            stem, _, suffix = parts[-1].partition(".")
            if suffix.split(".")[-1] not in {"py", "so", "pyd"}:
                continue
            dotted = [*parts[:-1]] if stem == "__init__" else [*parts[:-1], stem]
            for i in range(1, len(dotted) + 1):
                owners.setdefault(".".join(dotted[:i]), set()).add(canonical(dist.metadata["Name"]))
    return {module: frozenset(dists) for module, dists in owners.items()}


def providers(module: str) -> frozenset[str]:
    """The distributions providing ``module``: the longest dotted prefix anyone holds."""
    owners = module_owners()
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        found = owners.get(".".join(parts[:i]))
        if found:
            return found
    return frozenset()


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution pip installs for ``requirements``, from installed metadata."""
    found: set[str] = set()
    pending = list(requirements)
    while pending:
        requirement = pending.pop()
        name = canonical(requirement.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not for this platform or Python (its marker was false for pip too)
        found.add(name)
        extras = {"", *requirement.extras}
        for text in dist.requires or ():
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras
            ):
                pending.append(needed)
    return found


def deployed_requirements() -> list[Requirement]:
    lines = bundle.deployed_requirements().decode().splitlines()
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


# --- the checks ------------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_requirements_install_every_library_the_bundle_imports(name: str) -> None:
    third_party, missing = bundle_imports(name)
    assert not missing, f"{name} imports {sorted(missing)}, which its bundle does not contain"
    installed = installed_closure(deployed_requirements())
    gaps = {
        module: sorted(providers(module)) or ["no installed distribution"]
        for module in sorted(third_party)
        if not providers(module) & installed
    }
    assert not gaps, (
        f"the {name} bundle imports what its requirements.txt (pyproject.toml's "
        f"dependencies) does not install; module: distributions that would: {gaps}"
    )


def test_every_runtime_dependency_is_imported_by_some_bundle() -> None:
    imported = {
        dist
        for name in FUNCTIONS
        for module in bundle_imports(name)[0]
        for dist in providers(module)
    }
    unused = [str(r) for r in deployed_requirements() if canonical(r.name) not in imported]
    assert not unused, f"pyproject.toml's dependencies list what no function imports: {unused}"
