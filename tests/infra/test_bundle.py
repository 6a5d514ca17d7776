"""The bundle step: what Cloud Functions receives is complete, standalone and stable.

A bundle is ``functions/<name>/`` plus ``shared/`` (code and data). It must import with
nothing but itself on the path (Cloud Functions has no repo checkout), and its zip must
be byte-identical across builds so the md5-named upload changes only with the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools import bundle
from tools.deps import requirements
from tools.stack import Emulators

REPO_ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: -I ignores PYTHONPATH and the user site and leaves the
# working directory off sys.path, so only the bundle (and the venv's installed
# libraries, as Cloud Functions installs requirements.txt) can provide `shared`.
IMPORT_PROBE = """
import json, sys
bundle_dir, name, signature, repo_root = sys.argv[1:5]
sys.path.insert(0, bundle_dir)
import functions_framework
import main
import shared
report = {"main": main.__file__, "shared": shared.__file__,
          "repo_on_path": any(p.rstrip("/") == repo_root for p in sys.path)}
if signature == "http":
    app = functions_framework.create_app(target=name, source=main.__file__, signature_type="http")
    client = app.test_client()
    report["form"] = client.get("/").status_code
    report["form_has_title"] = "Lapor" in client.get("/").get_data(as_text=True)
print(json.dumps(report))
"""


def _probe(bundle_dir: Path, name: str, signature: str = "none") -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LAPOR_TOKEN_SECRET"] = "bundle-probe-secret-0123456789"
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            IMPORT_PROBE,
            str(bundle_dir),
            name,
            signature,
            str(REPO_ROOT),
        ],
        cwd=bundle_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"importing the {name} bundle failed:\n{done.stderr}"
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bundles")


@pytest.fixture(scope="module")
def submit_bundle(out_dir: Path) -> bundle.Bundle:
    return bundle.build("submit", out_dir=out_dir)


def test_every_function_folder_with_a_main_is_bundled() -> None:
    expected = sorted(p.parent.name for p in (REPO_ROOT / "functions").glob("*/main.py"))
    assert bundle.function_names() == expected
    assert "submit" in expected


def test_submit_bundle_has_its_entry_point_templates_and_reference_data(
    submit_bundle: bundle.Bundle,
) -> None:
    files = set(submit_bundle.files)
    for needed in (
        "main.py",
        "requirements.txt",
        "shared/__init__.py",
        "shared/config.py",
        "shared/web/templates/form.html",
        "shared/reference/agencies.toml",
    ):
        assert needed in files, f"{needed} missing from the submit bundle"
        assert (submit_bundle.directory / needed).is_file()
    with zipfile.ZipFile(submit_bundle.zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(files)


def test_every_data_file_under_shared_is_bundled(submit_bundle: bundle.Bundle) -> None:
    shared = REPO_ROOT / "shared"
    data = {
        f"shared/{p.relative_to(shared).as_posix()}"
        for p in shared.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    assert data, "expected templates and reference data under shared/"
    assert data <= set(submit_bundle.files)


def test_the_requirements_are_the_projects_runtime_dependencies(
    submit_bundle: bundle.Bundle,
) -> None:
    text = (submit_bundle.directory / "requirements.txt").read_text()
    listed = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert listed == requirements(dev=False)
    assert "pytest" not in text  # nothing from the dev extras


def test_a_function_with_a_requirements_file_of_its_own_is_refused(tmp_path: Path) -> None:
    (tmp_path / "functions" / "demo").mkdir(parents=True)
    (tmp_path / "functions" / "demo" / "main.py").write_text("def demo(request):\n    return ''\n")
    (tmp_path / "functions" / "demo" / "requirements.txt").write_text("requests\n")
    with pytest.raises(bundle.BundleError, match=r"pyproject\.toml"):
        bundle.build("demo", out_dir=tmp_path / "build", functions_dir=tmp_path / "functions")


def test_caches_and_tests_stay_out(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    (functions / "demo" / "__pycache__").mkdir(parents=True)
    (functions / "demo" / "tests").mkdir()
    (functions / "demo" / "main.py").write_text("def demo(request):\n    return 'ok'\n")
    (functions / "demo" / "__pycache__" / "main.cpython-312.pyc").write_bytes(b"\0")
    (functions / "demo" / "tests" / "test_demo.py").write_text("")
    (functions / "demo" / "test_main.py").write_text("")

    made = bundle.build("demo", out_dir=tmp_path / "build", functions_dir=functions)

    assert "main.py" in made.files
    assert not [f for f in made.files if "__pycache__" in f or f.endswith(".pyc")]
    assert not [f for f in made.files if "test" in Path(f).name or "/tests/" in f"/{f}"]


def test_a_folder_without_main_is_refused(tmp_path: Path) -> None:
    (tmp_path / "functions" / "nothing").mkdir(parents=True)
    with pytest.raises(bundle.BundleError, match=r"no main\.py"):
        bundle.build("nothing", out_dir=tmp_path / "build", functions_dir=tmp_path / "functions")


def test_two_builds_give_the_same_md5(tmp_path: Path, submit_bundle: bundle.Bundle) -> None:
    again = bundle.build("submit", out_dir=tmp_path)
    assert again.md5 == submit_bundle.md5
    assert again.md5 == hashlib.md5(again.zip_path.read_bytes()).hexdigest()


def test_a_changed_file_changes_the_md5_and_only_then(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    (functions / "demo").mkdir(parents=True)
    (functions / "demo" / "main.py").write_text("def demo(request):\n    return 'ok'\n")
    first = bundle.build("demo", out_dir=tmp_path / "a", functions_dir=functions)
    os.utime(functions / "demo" / "main.py", (0, 0))  # touched, not changed
    touched = bundle.build("demo", out_dir=tmp_path / "b", functions_dir=functions)
    (functions / "demo" / "main.py").write_text("def demo(request):\n    return 'changed'\n")
    changed = bundle.build("demo", out_dir=tmp_path / "c", functions_dir=functions)

    assert touched.md5 == first.md5
    assert changed.md5 != first.md5


def test_the_submit_bundle_serves_the_form_with_only_itself_on_the_path(
    submit_bundle: bundle.Bundle, emulators: Emulators
) -> None:
    # The form names the agencies of the running reference, so it reads Firestore (the
    # emulator; never seeded here: the bundled files run, as on a new deployment).
    result = _probe(submit_bundle.directory, "submit", "http")

    assert Path(str(result["shared"])).is_relative_to(submit_bundle.directory)
    assert Path(str(result["main"])).is_relative_to(submit_bundle.directory)
    assert result["repo_on_path"] is False
    assert result["form"] == 200
    assert result["form_has_title"] is True


@pytest.mark.parametrize("name", [n for n in bundle.function_names() if n != "submit"])
def test_every_other_bundle_imports_with_only_itself_on_the_path(name: str, out_dir: Path) -> None:
    made = bundle.build(name, out_dir=out_dir)
    result = _probe(made.directory, name)
    assert Path(str(result["shared"])).is_relative_to(made.directory)
