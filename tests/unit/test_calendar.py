"""The working-day calendar at its edges: weekends, holidays, cuti bersama, year ends."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.domain.calendar import WorkingCalendar

CAL = WorkingCalendar()
D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 12, 7), True),  # Monday
        (D(2026, 12, 5), False),  # Saturday
        (D(2026, 12, 6), False),  # Sunday
        (D(2026, 8, 17), False),  # Hari Kemerdekaan
        (D(2026, 12, 25), False),  # Natal
        (D(2026, 12, 24), False),  # cuti bersama Natal
        (D(2026, 3, 20), False),  # cuti bersama Idulfitri
        (D(2026, 3, 25), True),  # first office day after Lebaran
        (D(2027, 1, 1), False),  # Tahun Baru
    ],
)
def test_working_days(day: dt.date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_adding_skips_a_weekend() -> None:
    assert CAL.add_working_days(D(2026, 12, 4), 1) == D(2026, 12, 7)  # Fri -> Mon


def test_adding_skips_cuti_bersama_and_christmas() -> None:
    assert CAL.add_working_days(D(2026, 12, 23), 1) == D(2026, 12, 28)


def test_adding_across_the_year_end_skips_new_year() -> None:
    # Thu 31 Dec 2026 + 1: Fri 1 Jan is Tahun Baru, then the weekend.
    assert CAL.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_lebaran_week_is_not_counted() -> None:
    # Tue 17 Mar 2026; 18 Mar (cuti) .. 24 Mar (cuti) are all off.
    assert CAL.add_working_days(D(2026, 3, 17), 1) == D(2026, 3, 25)


def test_zero_days_is_the_next_working_day() -> None:
    assert CAL.add_working_days(D(2026, 12, 5), 0) == D(2026, 12, 7)
    assert CAL.add_working_days(D(2026, 12, 7), 0) == D(2026, 12, 7)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2026, 12, 7), -1)


def test_local_days_off_are_skipped() -> None:
    cianjur = WorkingCalendar(local_days_off=[D(2026, 12, 8)])  # a local anniversary
    assert cianjur.add_working_days(D(2026, 12, 7), 1) == D(2026, 12, 9)
    assert CAL.add_working_days(D(2026, 12, 7), 1) == D(2026, 12, 8)


def test_days_between_counts_only_working_days_and_is_signed() -> None:
    assert CAL.working_days_between(D(2026, 12, 4), D(2026, 12, 7)) == 1
    assert CAL.working_days_between(D(2026, 12, 7), D(2026, 12, 7)) == 0
    assert CAL.working_days_between(D(2026, 12, 23), D(2026, 12, 28)) == 1
    assert CAL.working_days_between(D(2026, 12, 28), D(2026, 12, 23)) == -1


def test_between_inverts_add() -> None:
    start = D(2026, 11, 30)
    for n in range(0, 40):
        end = CAL.add_working_days(start, n)
        assert CAL.working_days_between(start, end) == n


def test_local_date_uses_jakarta_time() -> None:
    # 20:00 UTC on Sunday is 03:00 Monday in Jakarta.
    moment = dt.datetime(2026, 12, 6, 20, 0, tzinfo=dt.UTC)
    assert CAL.local_date(moment) == D(2026, 12, 7)
    assert WorkingCalendar(timezone="Asia/Jayapura").local_date(moment) == D(2026, 12, 7)
    with pytest.raises(ValueError):
        CAL.local_date(dt.datetime(2026, 12, 6, 20, 0))


def test_end_of_day_is_in_the_calendar_zone() -> None:
    end = CAL.end_of_day(D(2026, 12, 7))
    assert end.utcoffset() == dt.timedelta(hours=7)
    assert (end.hour, end.minute) == (23, 59)


def test_shifting_back_finds_the_last_working_day_before() -> None:
    assert CAL.shift_working_days(D(2026, 12, 10), -1) == D(2026, 12, 9)
    # Mon 28 Dec 2026 - 1: the weekend, Christmas and its cuti bersama are skipped.
    assert CAL.shift_working_days(D(2026, 12, 28), -1) == D(2026, 12, 23)
    # Wed 25 Mar 2026 - 1: the whole Nyepi and Lebaran week is skipped.
    assert CAL.shift_working_days(D(2026, 3, 25), -1) == D(2026, 3, 17)


def test_shifting_forward_or_by_zero_is_adding() -> None:
    for day in (D(2026, 12, 5), D(2026, 12, 23), D(2027, 3, 5)):
        for n in (0, 1, 5):
            assert CAL.shift_working_days(day, n) == CAL.add_working_days(day, n)


def test_shifting_back_inverts_adding_from_a_working_day() -> None:
    start = D(2026, 11, 30)
    for n in range(1, 40):
        assert CAL.shift_working_days(CAL.add_working_days(start, n), -n) == start
