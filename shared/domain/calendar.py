"""Working-day arithmetic for Indonesian public-service deadlines.

Deadlines in the SP4N-LAPOR! guideline count *working* days: Saturdays, Sundays,
national public holidays and cuti bersama (joint leave, the ``government`` category
of the ``holidays`` package) do not count, and an agency may add local days off.
All arithmetic is on calendar dates in the deployment's time zone, because "three
working days" means three office days in Jakarta, not 72 hours in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKEND = frozenset({5, 6})  # Saturday, Sunday


@lru_cache(maxsize=64)
def _indonesian_days_off(year: int) -> frozenset[dt.date]:
    # Imported on first use: ~45 ms that a cold start serving the form need not pay.
    import holidays as holidays_lib

    days = holidays_lib.country_holidays("ID", years=year, categories=("public", "government"))
    return frozenset(days.keys())


class WorkingCalendar:
    """Counts working days; pure apart from the bundled holiday tables."""

    def __init__(
        self,
        local_days_off: Iterable[dt.date] = (),
        timezone: str = "Asia/Jakarta",
    ) -> None:
        self.local_days_off = frozenset(local_days_off)
        self.tz = ZoneInfo(timezone)

    def local_date(self, moment: dt.datetime) -> dt.date:
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        return moment.astimezone(self.tz).date()

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() in WEEKEND:
            return False
        if day in self.local_days_off:
            return False
        return day not in _indonesian_days_off(day.year)

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The date of the ``count``-th working day after ``start`` (start itself not counted).

        ``count == 0`` gives ``start`` if it is a working day, else the next one.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        if count == 0:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
            return day
        remaining = count
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def shift_working_days(self, day: dt.date, count: int) -> dt.date:
        """``count`` working days after ``day``, or before it when ``count`` is negative.

        ``shift_working_days(due, -1)`` is the last working day before ``due``: the day a
        reminder goes out. ``count == 0`` behaves as in :meth:`add_working_days`.
        """
        if count >= 0:
            return self.add_working_days(day, count)
        remaining = -count
        while remaining:
            day -= dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many office days have passed since start.

        Negative when end is before start, so "days overdue" reads naturally.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The last instant of ``day`` in the calendar's zone: a deadline is met all that day."""
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.tz)
