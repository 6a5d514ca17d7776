"""How the citizen pages state file sizes (the form's limits, each file on the tracking
page): as a phone counts them, in the page's language."""

from __future__ import annotations

import pytest

from shared.web.citizen_pages import size_text


@pytest.mark.parametrize(
    ("size", "lang", "shown"),
    [
        (8 * 1024 * 1024, "id", "8 MB"),
        (20 * 1024 * 1024, "en", "20 MB"),
        (1536 * 1024, "id", "1,5 MB"),
        (1536 * 1024, "en", "1.5 MB"),
        (312 * 1024, "id", "312 KB"),
        (64 * 1024, "id", "64 KB"),
        (200, "id", "1 KB"),  # never "0 KB" for a file that is there
    ],
)
def test_sizes_read_as_a_phone_counts_them(size: int, lang: str, shown: str) -> None:
    assert size_text(size, lang) == shown  # type: ignore[arg-type]
