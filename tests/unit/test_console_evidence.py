"""The console's pure pieces of a report's files: sizes as people read them, and the
thumbnail's size the page declares (width/height, so the page does not jump)."""

from __future__ import annotations

import pytest

from shared.web.console.evidence_pages import _thumbnail_size, human_size


@pytest.mark.parametrize(
    ("size", "lang", "shown"),
    [
        (300, "id", "1 KB"),  # never "0 KB"
        (860_000, "id", "840 KB"),
        (2_516_582, "id", "2,4 MB"),
        (2_516_582, "en", "2.4 MB"),
        (8 * 1024 * 1024, "id", "8 MB"),
        (20 * 1024 * 1024, "en", "20 MB"),
    ],
)
def test_sizes_read_as_people_read_them(size: int, lang: str, shown: str) -> None:
    assert human_size(size, lang) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("width", "height", "thumbnail"),
    [
        (4000, 3000, (320, 240)),
        (3000, 4000, (240, 320)),
        (200, 100, (200, 100)),  # never enlarged
        (10000, 10, (320, 1)),  # never nothing
        (0, 0, (320, 320)),  # unknown: a square box
    ],
)
def test_the_thumbnail_fits_its_box_as_pillow_makes_it(
    width: int, height: int, thumbnail: tuple[int, int]
) -> None:
    assert _thumbnail_size(width, height, 320) == thumbnail
