"""The Pub/Sub topology as data: the one list the local stack, tests and Terraform follow.

Pure on purpose (no Google imports): ``tools.stack.ensure_pubsub`` creates it in the
emulator, and infra checks can compare it with the Terraform definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

REPORT_SUBMITTED = "report-submitted"
REPORT_SUBMITTED_DEAD_LETTER = "report-submitted-dead-letter"

TOPICS: tuple[str, ...] = (REPORT_SUBMITTED, REPORT_SUBMITTED_DEAD_LETTER)


@dataclass(frozen=True)
class Subscription:
    """A push subscription delivering ``topic`` to the function named ``push_function``.

    The push endpoint is that function's URL, known only when the stack runs. Failed
    deliveries are retried with exponential backoff between ``min_backoff_s`` and
    ``max_backoff_s``, then moved to ``dead_letter_topic`` after
    ``max_delivery_attempts`` (Pub/Sub accepts 5-100).
    """

    name: str
    topic: str
    push_function: str
    dead_letter_topic: str
    max_delivery_attempts: int = 5
    min_backoff_s: int = 10
    max_backoff_s: int = 600


# The route function does not exist yet; it will subscribe to REPORT_SUBMITTED here.
SUBSCRIPTIONS: tuple[Subscription, ...] = ()
