"""What every Firestore adapter does when Firestore cannot be reached: give up within a
few seconds, and say so as :class:`~shared.ports.StoreUnavailable`.

The client library's own defaults retry an unreachable Firestore for 60 s (a commit)
to 300 s (a read): a request would hang for minutes while the platform holds it, then
die as a 500. :func:`bound_calls` caps each call, retries included, at the settings'
``firestore_timeout_s``; :func:`translates_outages` marks an adapter class so its
callers see one exception for "unreachable, try again later", whichever of gRPC's or
google.api_core's the library raised. Nothing else in the code names them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import grpc
from google.api_core.exceptions import DeadlineExceeded, RetryError, ServiceUnavailable
from google.cloud import firestore

from shared.ports import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)

_UNAVAILABLE_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def outage(error: BaseException) -> BaseException | None:
    """The error in ``error``'s chain saying Firestore could not be reached or did not
    answer in time (its retries included), if any.

    Follows the chain of causes: a transaction whose begin failed that way raises a
    ValueError from its rollback (no transaction id to roll back), not the outage."""
    seen: BaseException | None = error
    for _ in range(8):  # a chain is short; the bound guards against a cycle
        if seen is None:
            return None
        current: BaseException = seen
        if isinstance(current, ServiceUnavailable | DeadlineExceeded | RetryError):
            return current
        code = getattr(current, "code", None)
        rpc_failed = isinstance(seen, grpc.RpcError)  # grpc is untyped: keep ``current`` typed
        if rpc_failed and callable(code) and code() in _UNAVAILABLE_CODES:
            return current
        seen = current.__cause__ or current.__context__
    return None


def is_outage(error: BaseException) -> bool:
    return outage(error) is not None


def _translated(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except Exception as failed:
            found = outage(failed)
            if found is not None:
                raise StoreUnavailable(str(found)) from failed
            raise

    return call


def translates_outages(cls: C) -> C:
    """Class decorator: each public method of ``cls`` raises :class:`StoreUnavailable`
    for an outage (:func:`is_outage`). The adapters return lists, never lazy iterators,
    so every read happens inside the method."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, _translated(member))
    cls.translates_outages = True  # type: ignore[attr-defined]  # checked by a test
    return cls


def bound_calls(client: firestore.Client, timeout_s: float) -> firestore.Client:
    """Cap every call ``client`` makes, its retries included, at ``timeout_s``.

    The library offers a timeout per call only, so this sets the defaults of the GAPIC
    layer every call goes through (private attributes of google-cloud-firestore: the
    integration test tests/integration/test_store_unavailable.py fails if they move).
    A stream (a query, a batch read) is capped too, answer included: a Firestore that
    holds a connection open and answers nothing would otherwise hold a read for 300 s
    (measured on a frozen emulator). Every read here is paged, so none needs longer.
    Each call keeps its library's choice of which errors to retry (a commit never
    retries a deadline)."""
    _reconnect_quickly(client)
    transport = client._firestore_api._transport
    for wrapped in transport._wrapped_methods.values():
        if wrapped._retry is not None:
            wrapped._retry = wrapped._retry.with_timeout(timeout_s)
        wrapped._timeout = timeout_s
    return client


# gRPC waits 1 s after a failed connection, then 1.6 times longer each time, up to
# 2 minutes: a Firestore back after a minute's outage would go unused for a minute
# more. A call made while the channel waits fails at once, so a short wait costs little.
_RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
# What the library itself gives its channels (google.cloud.firestore_v1.base_client).
_MESSAGE_SIZE_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
]


def _reconnect_quickly(client: firestore.Client) -> None:
    """Give ``client`` its channel as the library builds it (base_client's
    ``_firestore_api_helper``: the emulator's insecure one, or production's), plus
    :data:`_RECONNECT_OPTIONS`, which the library offers no way to pass."""
    from google.cloud.firestore_v1.services.firestore import client as gapic
    from google.cloud.firestore_v1.services.firestore.transports.grpc import (
        FirestoreGrpcTransport,
    )

    if client._emulator_host is not None:
        channel = grpc.insecure_channel(
            client._emulator_host,
            options=[
                ("Authorization", "Bearer owner"),
                *_MESSAGE_SIZE_OPTIONS,
                *_RECONNECT_OPTIONS,
            ],
        )
    else:
        channel = FirestoreGrpcTransport.create_channel(
            client._target,
            credentials=client._credentials,
            options=[
                ("grpc.keepalive_time_ms", 30000),
                *_MESSAGE_SIZE_OPTIONS,
                *_RECONNECT_OPTIONS,
            ],
        )
    client._transport = FirestoreGrpcTransport(host=client._target, channel=channel)
    client._firestore_api_internal = gapic.FirestoreClient(
        transport=client._transport, client_options=client._client_options
    )
    gapic._client_info = client._client_info  # type: ignore[attr-defined]
