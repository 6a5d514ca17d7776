"""Districts and villages read from a directory: each province's file only when one of
its places is asked for, so a request about Jawa Barat never reads (nor pays for) the
other 37 provinces. What a places file may contain is checked in tests/unit/test_places.py.
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


def test_only_the_asked_provinces_file_is_read(tmp_path: Path) -> None:
    for name in REFERENCE_FILES:
        shutil.copyfile(DATA_DIR / name, tmp_path / name)
    (tmp_path / PLACES_DIR).mkdir()
    shutil.copyfile(DATA_DIR / PLACES_DIR / "32.tsv", tmp_path / PLACES_DIR / "32.tsv")
    (tmp_path / PLACES_DIR / "33.tsv").write_text("not a places file\n", "utf-8")
    copy = load_reference(tmp_path)

    assert len(copy.districts_of("32.03")) == 32  # 33.tsv, broken, is not read for this
    assert copy.districts_of("35.01") == ()  # Jawa Timur has no file here: no districts
    with pytest.raises(ReferenceDataError, match=r"33\.tsv:1"):
        copy.districts_of("33.01")
