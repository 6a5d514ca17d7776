"""Reference data read from a directory: the files on disk, and a file that is missing.

What the files may contain is checked without a disk in tests/unit/test_reference.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.reference import DATA_DIR, REFERENCE_FILES, ReferenceDataError, load_reference


def copy_bundled(directory: Path, *, leave_out: str | None = None) -> Path:
    for name in REFERENCE_FILES:
        if name != leave_out:
            shutil.copyfile(DATA_DIR / name, directory / name)
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
