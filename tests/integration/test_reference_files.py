"""Reference data read from a directory: the files on disk, and a file that is missing.

What the files may contain is checked without a disk in tests/unit/test_reference.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.reference import (
    DATA_DIR,
    PLACES_DIR,
    REFERENCE_FILES,
    ReferenceDataError,
    load_reference,
)


def copy_bundled(directory: Path, *, leave_out: str | None = None) -> Path:
    for name in REFERENCE_FILES:
        if name != leave_out:
            shutil.copyfile(DATA_DIR / name, directory / name)
    # The rules name districts, checked against the places beside the files.
    shutil.copytree(DATA_DIR / PLACES_DIR, directory / PLACES_DIR)
    return directory


def test_a_directory_holding_the_bundled_files_reads_as_the_bundled_data(tmp_path: Path) -> None:
    read = load_reference(copy_bundled(tmp_path))
    bundled = load_reference()
    assert read is not bundled
    assert (read.agencies, read.routing_rules, read.categories, read.regencies) == (
        bundled.agencies,
        bundled.routing_rules,
        bundled.categories,
        bundled.regencies,
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    copy_bundled(tmp_path, leave_out="routing_rules.toml")
    with pytest.raises(ReferenceDataError, match=r"routing_rules.toml: cannot read"):
        load_reference(tmp_path)


def test_a_rule_for_a_district_the_places_do_not_list_is_refused(tmp_path: Path) -> None:
    copy_bundled(tmp_path)
    (tmp_path / PLACES_DIR / "32.tsv").write_text("32.03.01\tCianjur\n", "utf-8")
    with pytest.raises(ReferenceDataError, match=r"rule 'cugenang-jalan': region '32.03.11' does"):
        load_reference(tmp_path)
