"""The figure sheet reads every committed results file: a benchmark whose JSON changes
shape breaks this test, not the README's table at the end of a long `make bench`."""

from __future__ import annotations

import json

import pytest

from bench import sheet
from bench.__main__ import BENCHES


def test_every_benchmark_has_headline_figures() -> None:
    assert set(sheet.HEADLINES) == set(BENCHES)


@pytest.mark.parametrize("name", sorted(sheet.HEADLINES))
def test_each_committed_results_file_gives_its_headlines(name: str) -> None:
    path = sheet.RESULTS / f"{name}.json"
    if not path.is_file():
        pytest.fail(f"{path} is not committed: run `make bench` ({name}) and commit it")
    rows = sheet.HEADLINES[name](json.loads(path.read_text(encoding="utf-8")))
    assert rows and all(len(row) == 3 and all(row[:2]) for row in rows)


def test_a_benchmark_not_run_shows_as_such() -> None:
    submit = {
        "machine": {"date": "2026-11-30"},
        "through_function": {"p50_ms": 18.9},
        "firestore_per_submit": {"document_writes": 9, "commits": 1, "document_reads": 0},
    }
    table = sheet.rows({"submit": (submit, "2026-11-30")})
    assert table[0] == (
        "submit",
        "submit, one report (API)",
        "18.9 ms",
        "p50, in-process",
        "2026-11-30",
    )
    assert ("route", "(not run yet)", "", "", "") in table
    lines = sheet.markdown(table).splitlines()
    assert lines[0] == "| benchmark | figure | value | note | measured |"
    assert len(lines) == 2 + len(table)
