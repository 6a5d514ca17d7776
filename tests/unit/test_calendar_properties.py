"""Properties of working-day arithmetic over generated dates and local days off
(issue 11, item 1): adding n working days and counting them back gives n, the result
moves forward with its inputs, and no weekend, national holiday, cuti bersama or local
day off is ever counted or landed on."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.calendar import WorkingCalendar

EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True)

# Years the bundled holiday tables cover, around the years Lapor runs in.
days = st.dates(dt.date(2024, 1, 1), dt.date(2029, 12, 31))
counts = st.integers(0, 70)
local_days_off = st.frozensets(days, max_size=8)


@EXAMPLES
@given(days, counts, local_days_off)
def test_adding_n_working_days_then_counting_gives_n(
    start: dt.date, n: int, off: frozenset[dt.date]
) -> None:
    calendar = WorkingCalendar(off)
    due = calendar.add_working_days(start, n)
    assert calendar.is_working_day(due)
    assert due >= start
    if n > 0:
        assert calendar.working_days_between(start, due) == n
        # ... and it is the first such day: the day before counts one fewer.
        assert calendar.working_days_between(start, due - dt.timedelta(days=1)) == n - 1


@EXAMPLES
@given(days, days, counts, counts)
def test_adding_is_monotone_in_the_start_and_the_count(
    first: dt.date, second: dt.date, n: int, m: int
) -> None:
    calendar = WorkingCalendar()
    early, late = sorted((first, second))
    low, high = sorted((n, m))
    assert calendar.add_working_days(early, low) <= calendar.add_working_days(late, low)
    assert calendar.add_working_days(early, low) <= calendar.add_working_days(early, high)


@EXAMPLES
@given(days, st.integers(0, 120), local_days_off)
def test_no_day_off_is_ever_counted(start: dt.date, span: int, off: frozenset[dt.date]) -> None:
    calendar = WorkingCalendar(off)
    end = start + dt.timedelta(days=span)
    between = [start + dt.timedelta(days=i) for i in range(1, span + 1)]
    assert calendar.working_days_between(start, end) == sum(
        1 for day in between if calendar.is_working_day(day)
    )
    for day in between:
        if day.weekday() >= 5 or day in off:
            assert not calendar.is_working_day(day)


@EXAMPLES
@given(days, st.integers(1, 60), days)
def test_a_local_day_off_takes_exactly_one_working_day_out(
    start: dt.date, span: int, extra: dt.date
) -> None:
    plain = WorkingCalendar()
    with_day_off = WorkingCalendar([extra])
    end = start + dt.timedelta(days=span)
    lost = plain.working_days_between(start, end) - with_day_off.working_days_between(start, end)
    counted_before = start < extra <= end and plain.is_working_day(extra)
    assert lost == (1 if counted_before else 0)


@EXAMPLES
@given(days, days, days)
def test_counting_adds_up_and_reverses(a: dt.date, b: dt.date, c: dt.date) -> None:
    calendar = WorkingCalendar()
    assert calendar.working_days_between(a, b) == -calendar.working_days_between(b, a)
    assert calendar.working_days_between(a, b) + calendar.working_days_between(
        b, c
    ) == calendar.working_days_between(a, c)


@EXAMPLES
@given(days, st.integers(-60, 60))
def test_shifting_back_from_a_working_day_returns_to_it(start: dt.date, n: int) -> None:
    calendar = WorkingCalendar()
    working = calendar.add_working_days(start, 0)
    assert calendar.shift_working_days(calendar.shift_working_days(working, n), -n) == working
