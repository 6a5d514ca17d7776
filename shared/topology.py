"""The Pub/Sub topology and the schedules as data: the one list the local stack, tests
and Terraform follow.

Pure on purpose (no Google imports): ``tools.stack.ensure_pubsub`` creates it in the
emulator, ``tools.stack.LocalStack`` runs the schedules, and infra checks can compare
both with the Terraform definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

REPORT_SUBMITTED = "report-submitted"
REPORT_SUBMITTED_DEAD_LETTER = "report-submitted-dead-letter"
AGENCY_NOTIFICATIONS = "agency-notifications"
AGENCY_NOTIFICATIONS_DEAD_LETTER = "agency-notifications-dead-letter"
REPORTER_NOTIFICATIONS = "reporter-notifications"
REPORTER_NOTIFICATIONS_DEAD_LETTER = "reporter-notifications-dead-letter"

TOPICS: tuple[str, ...] = (
    REPORT_SUBMITTED,
    REPORT_SUBMITTED_DEAD_LETTER,
    AGENCY_NOTIFICATIONS,
    AGENCY_NOTIFICATIONS_DEAD_LETTER,
    REPORTER_NOTIFICATIONS,
    REPORTER_NOTIFICATIONS_DEAD_LETTER,
)

# Outbox entries on these topics stay pending until their consumer settles them in
# the write that acts on them: route deletes ``report.submitted`` in the routing
# commit, notify deletes a notification in the write that records its first attempt
# (Pub/Sub retries it from there). So a message published but never acted on is
# published again by the sweeper, and settling costs no commit of its own (a
# submission stays one commit). Entries on any other topic (none today) are deleted
# as soon as the bus accepts them.
CONSUMER_SETTLED_TOPICS: frozenset[str] = frozenset(
    {REPORT_SUBMITTED, AGENCY_NOTIFICATIONS, REPORTER_NOTIFICATIONS}
)


@dataclass(frozen=True)
class Subscription:
    """A push subscription delivering ``topic`` to the function named ``push_function``.

    The push endpoint is that function's URL, known only when the stack runs. Failed
    deliveries are retried with exponential backoff between ``min_backoff_s`` and
    ``max_backoff_s``, then moved to ``dead_letter_topic`` after
    ``max_delivery_attempts`` (Pub/Sub accepts 5-100). The subscriptions that read a
    dead-letter topic have none themselves: their handlers only record the failure
    (a Firestore write), so they retry with backoff until the message expires.
    """

    name: str
    topic: str
    push_function: str
    dead_letter_topic: str | None
    max_delivery_attempts: int = 5
    min_backoff_s: int = 10
    max_backoff_s: int = 600


def retry_delays_s(spec: Subscription) -> list[int]:
    """The waits between the delivery attempts of a message the subscriber keeps
    refusing, before it is dead-lettered: Pub/Sub's exponential backoff doubles from
    ``min_backoff_s`` up to ``max_backoff_s`` (roughly: Pub/Sub adds jitter). Their sum
    is how long a receiver may be down and still get the message."""
    return [
        min(spec.min_backoff_s * 2**n, spec.max_backoff_s)
        for n in range(spec.max_delivery_attempts - 1)
    ]


# An agency's receiver or the mail relay may be down for an hour (a deploy, a power
# cut at the regency office) and must still get the notification: 25 attempts are
# retried for about three hours (10 s doubling to 10 min, then every 10 min) before the
# message is dead-lettered and the delivery shows failed to the admins.
NOTIFY_MAX_DELIVERY_ATTEMPTS = 25


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        name="route",
        topic=REPORT_SUBMITTED,
        push_function="route",
        dead_letter_topic=REPORT_SUBMITTED_DEAD_LETTER,
    ),
    # Agency webhooks: the notify function retries 5xx/408/429/timeouts through this
    # policy, then the message moves to the dead-letter topic ...
    # A report routing gave up on waits for an admin, with the reason on the report.
    Subscription(
        name="route-dead-letter",
        topic=REPORT_SUBMITTED_DEAD_LETTER,
        push_function="route",
        dead_letter_topic=None,
    ),
    Subscription(
        name="notify",
        topic=AGENCY_NOTIFICATIONS,
        push_function="notify",
        dead_letter_topic=AGENCY_NOTIFICATIONS_DEAD_LETTER,
        max_delivery_attempts=NOTIFY_MAX_DELIVERY_ATTEMPTS,
    ),
    # ... whence the same function (it tells the two apart by the dead-letter
    # attributes Pub/Sub adds) records the delivery as failed. Its own dead-letter
    # topic is itself: a marking that keeps failing goes round again, never lost.
    # A notification delivery gave up on shows as failed in the report's delivery log.
    Subscription(
        name="notify-dead-letter",
        topic=AGENCY_NOTIFICATIONS_DEAD_LETTER,
        push_function="notify",
        dead_letter_topic=None,
    ),
    # The reporter's e-mail and SMS: the same function, the same retries and the same
    # marking of what Pub/Sub gave up on (it tells the topics apart by the push source).
    Subscription(
        name="notify-reporter",
        topic=REPORTER_NOTIFICATIONS,
        push_function="notify",
        dead_letter_topic=REPORTER_NOTIFICATIONS_DEAD_LETTER,
        max_delivery_attempts=NOTIFY_MAX_DELIVERY_ATTEMPTS,
    ),
    Subscription(
        name="notify-reporter-dead-letter",
        topic=REPORTER_NOTIFICATIONS_DEAD_LETTER,
        push_function="notify",
        dead_letter_topic=None,
    ),
)


@dataclass(frozen=True)
class Schedule:
    """An HTTP job Cloud Scheduler calls (with an OIDC token) on ``cron`` in ``time_zone``.

    Locally, ``tools.stack.LocalStack`` calls ``method`` ``path`` on the function's URL
    on the same cron in the same zone, with the ``X-CloudScheduler-ScheduleTime`` header
    Cloud Scheduler sends; a schedule with ``interval_s`` (a frequent chore) is called
    every ``interval_s`` seconds instead. ``LAPOR_<NAME>_INTERVAL_S`` sets an interval
    for any schedule (``LAPOR_SWEEP_INTERVAL_S=10`` sweeps every 10 s).
    """

    function: str
    path: str
    method: str
    cron: str
    time_zone: str = "Asia/Jakarta"
    interval_s: int | None = None


# The header Cloud Scheduler sends with each call: the time the run was scheduled for,
# the same on every retry of that run (the local scheduler sends it too).
SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(function="sweep", path="/", method="POST", cron="*/5 * * * *", interval_s=300),
    # The daily run of escalations, automatic closing and archiving, for that day.
    Schedule(function="escalate", path="/", method="POST", cron="0 7 * * *"),
    # Reporters' identities erased once their retention period ran out (before 07:00's
    # escalation run, which may close more reports).
    Schedule(function="retention", path="/", method="POST", cron="0 3 * * *"),
    # The published figures of the day before.
    Schedule(function="report", path="/", method="POST", cron="0 1 * * *"),
    # The hourly e-mail digest of the agencies that chose one.
    Schedule(function="digest", path="/", method="POST", cron="0 * * * *"),
)
