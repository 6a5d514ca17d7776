"""Every composite query the code runs has its index in infra/firestore_indexes.json.

The emulator serves any query without one; production refuses it (FAILED_PRECONDITION)
at the first request. Queries are registered in
``shared.adapters.firestore.COMPOSITE_QUERIES``; each is built on an offline client and
its structured query turned into the index it needs: the equality fields (any order),
then the inequality and order-by fields in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.types import StructuredQuery

from shared.adapters.firestore import COMPOSITE_QUERIES

INDEX_FILE = Path(__file__).resolve().parents[2] / "infra" / "firestore_indexes.json"


def _field_filters(where: Any) -> list[Any]:
    if "composite_filter" in where:
        return [f for sub in where.composite_filter.filters for f in _field_filters(sub)]
    if "field_filter" in where:
        return [where.field_filter]
    return []


def needed_index(query: Any) -> tuple[str, frozenset[str], tuple[tuple[str, str], ...]]:
    proto = query._to_protobuf()
    collection = proto.from_[0].collection_id
    equal = frozenset(
        f.field.field_path
        for f in _field_filters(proto.where)
        # "in" picks its index like an equality (one index entry per value).
        if f.op
        in (StructuredQuery.FieldFilter.Operator.EQUAL, StructuredQuery.FieldFilter.Operator.IN)
    )
    ordered = tuple(
        (
            o.field.field_path,
            "ASCENDING" if o.direction == StructuredQuery.Direction.ASCENDING else "DESCENDING",
        )
        for o in proto.order_by
        if o.field.field_path != "__name__"
    )
    return collection, equal, ordered


def declared_indexes() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    document = json.loads(INDEX_FILE.read_text())
    return [
        (
            index["collectionGroup"],
            tuple((f["fieldPath"], f.get("order", "ASCENDING")) for f in index["fields"]),
        )
        for index in document["indexes"]
    ]


def covered(need: tuple[str, frozenset[str], tuple[tuple[str, str], ...]]) -> bool:
    collection, equal, ordered = need
    for name, fields in declared_indexes():
        head, tail = fields[: len(equal)], fields[len(equal) :]
        if name == collection and {f for f, _ in head} == equal and tail == ordered:
            return True
    return False


@pytest.fixture(scope="module")
def offline_client() -> firestore.Client:
    return firestore.Client(project="index-check", credentials=AnonymousCredentials())


@pytest.mark.parametrize(
    ("what", "build"), COMPOSITE_QUERIES, ids=[n for n, _ in COMPOSITE_QUERIES]
)
def test_every_composite_query_has_its_index(
    what: str, build: Any, offline_client: firestore.Client
) -> None:
    need = needed_index(build(offline_client))
    assert covered(need), f"{what}: no index in {INDEX_FILE.name} for {need}"


def test_the_check_itself_fails_for_a_query_without_an_index(
    offline_client: firestore.Client,
) -> None:
    query = (
        offline_client.collection("outbox")
        .where(filter=firestore.FieldFilter("topic", "==", "x"))
        .order_by("created_at")
    )
    assert not covered(needed_index(query))
