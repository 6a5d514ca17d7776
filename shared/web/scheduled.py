"""The run date of a scheduled job, read from its HTTP request.

Cloud Scheduler calls a job with ``X-CloudScheduler-ScheduleTime``: the time the run
was scheduled for (RFC 3339, UTC), the same on every retry of that run, so a retried
run is the same run. Someone running a job by hand names the day with ``?date=`` or a
JSON body ``{"date": "YYYY-MM-DD"}``; with neither, the run is for now. Days are
local to the deployment's time zone.

:func:`answer_run` is the whole HTTP side of such a job: POST only, the run, the
Firestore operations it cost, a JSON answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from flask import Request, Response

from shared.topology import SCHEDULE_TIME_HEADER
from shared.web.http import Problem, json_response, problem

if TYPE_CHECKING:
    from shared.adapters.firestore import StoreStats

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _bad(detail: str) -> Problem:
    return Problem(problem(400, "invalid_run_date", "Invalid run date", detail, lang="en"))


def _named_day(request: Request) -> str | None:
    """The day the caller named, if any: the query first, then the JSON body."""
    if "date" in request.args:
        return request.args["date"]
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise _bad("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _bad('the body must be a JSON object such as {"date": "2026-03-02"}')
    value = body.get("date")
    if value is not None and not isinstance(value, str):
        raise _bad("date must be a string YYYY-MM-DD")
    return value


def run_date(request: Request, now: dt.datetime, timezone: str, days_before: int = 0) -> dt.date:
    """The local day the run is for; raise :class:`Problem` (400) for a bad date.

    A named day is taken as it is; otherwise the scheduled time (else ``now``) in
    ``timezone``, ``days_before`` days back (a job about yesterday passes 1).
    """
    named = _named_day(request)
    if named is not None:
        try:
            if not _DAY.fullmatch(named):
                raise ValueError(named)
            return dt.date.fromisoformat(named)
        except ValueError:
            raise _bad(f"date {named!r} is not a day YYYY-MM-DD") from None
    local = scheduled_time(request, now).astimezone(ZoneInfo(timezone)).date()
    return local - dt.timedelta(days=days_before)


def scheduled_time(request: Request, now: dt.datetime) -> dt.datetime:
    """The time the run was scheduled for (the same on every retry of it), else ``now``;
    raise :class:`Problem` (400) for a header that is not an RFC 3339 time."""
    scheduled = request.headers.get(SCHEDULE_TIME_HEADER)
    if not scheduled:
        return now
    try:
        moment = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{SCHEDULE_TIME_HEADER} {scheduled!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise _bad(f"{SCHEDULE_TIME_HEADER} {scheduled!r} has no offset")
    return moment


class RunResult(Protocol):
    def as_json(self) -> dict[str, Any]: ...


def answer_run(
    request: Request,
    run: Callable[[], RunResult],
    counted: Callable[[], Sequence[StoreStats]],
) -> Response:
    """Answer a scheduled job's request: 405 unless POST; else ``run()`` (which reads
    the run's date or time from the request, so its :class:`Problem` is the answer),
    and its counts with the Firestore operations of the stores ``counted()`` names."""
    if request.method != "POST":
        return problem(
            405, "method_not_allowed", "Method not allowed", "POST only",
            headers={"Allow": "POST"}, lang="en",
        )  # fmt: skip
    stores = counted()
    before = [stats.snapshot() for stats in stores]
    try:
        result = run()
    except Problem as refused:
        return refused.response
    used = [stats.since(then) for stats, then in zip(stores, before, strict=True)]
    operations = {
        name: sum(getattr(one, name) for one in used) for name in ("reads", "writes", "commits")
    }
    return json_response({**result.as_json(), "operations": operations})
