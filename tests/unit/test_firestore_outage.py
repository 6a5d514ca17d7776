"""Which failures of the Firestore client are an outage, and what an adapter marked with
translates_outages raises for them (no emulator: the errors are made here)."""

from __future__ import annotations

import pytest
from google.api_core.exceptions import (
    AlreadyExists,
    DeadlineExceeded,
    NotFound,
    RetryError,
    ServiceUnavailable,
)

from shared.adapters.firestore_outage import is_outage, translates_outages
from shared.ports import StoreUnavailable


def rollback_after(outage: Exception) -> ValueError:
    """What a transaction raises when its begin failed: its rollback's ValueError,
    raised while handling the outage."""
    failed = ValueError("The transaction has no transaction ID, so it cannot be rolled back.")
    failed.__context__ = outage
    return failed


@pytest.mark.parametrize(
    "error",
    [
        ServiceUnavailable("down"),
        DeadlineExceeded("slow"),
        RetryError("gave up", cause=ServiceUnavailable("down")),
        rollback_after(RetryError("gave up", cause=ServiceUnavailable("down"))),
    ],
)
def test_unreachable_or_too_slow_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error", [NotFound("no"), AlreadyExists("taken"), ValueError("bad"), KeyError("x")]
)
def test_an_answer_is_not_an_outage(error: Exception) -> None:
    assert not is_outage(error)


@translates_outages
class Adapter:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def read(self) -> None:
        raise self.error

    def _helper(self) -> None:
        raise self.error


def test_a_marked_adapter_raises_store_unavailable_for_an_outage_and_nothing_else() -> None:
    with pytest.raises(StoreUnavailable) as raised:
        Adapter(RetryError("Timeout of 4.0s exceeded", cause=None)).read()
    assert "Timeout of 4.0s" in str(raised.value)
    assert isinstance(raised.value.__cause__, RetryError)
    with pytest.raises(AlreadyExists):
        Adapter(AlreadyExists("taken")).read()
    with pytest.raises(ServiceUnavailable):  # private methods run inside public ones
        Adapter(ServiceUnavailable("down"))._helper()
    assert getattr(Adapter, "translates_outages", False)
