"""Every composite query the code runs has its index in infra/firestore_indexes.json.

The emulator serves any query without one; production refuses it (FAILED_PRECONDITION)
at the first request. Queries are registered in ``COMPOSITE_QUERIES`` of each Firestore
adapter module (``shared/adapters/firestore*.py``); each is built on an offline client and
its structured query turned into the index it needs: the equality fields (any order),
then the inequality and order-by fields in order. The queries Firestore's automatic
single-field indexes serve are registered in ``SINGLE_FIELD_QUERIES``: checked to use
one field at most, and that field not exempted from indexing. Every ``*_query``
builder of an adapter module is in one of its two.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.types import StructuredQuery

import shared.adapters

INDEX_FILE = Path(__file__).resolve().parents[2] / "infra" / "firestore_indexes.json"
ADAPTER_MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"shared.adapters.{info.name}")
    for info in pkgutil.iter_modules(shared.adapters.__path__)
    if info.name.startswith("firestore")
)
COMPOSITE_QUERIES = tuple(
    q for module in ADAPTER_MODULES for q in getattr(module, "COMPOSITE_QUERIES", ())
)
SINGLE_FIELD_QUERIES = tuple(
    q for module in ADAPTER_MODULES for q in getattr(module, "SINGLE_FIELD_QUERIES", ())
)


def _field_filters(where: Any) -> list[Any]:
    if "composite_filter" in where:
        return [f for sub in where.composite_filter.filters for f in _field_filters(sub)]
    if "field_filter" in where:
        return [where.field_filter]
    return []


def _scope(selector: Any) -> str:
    """An index serves a query of one collection, or of every collection of that id."""
    return "COLLECTION_GROUP" if selector.all_descendants else "COLLECTION"


def needed_index(query: Any) -> tuple[str, frozenset[str], tuple[tuple[str, str], ...]]:
    proto = query._to_protobuf()
    collection = f"{proto.from_[0].collection_id} ({_scope(proto.from_[0])})"
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
            f"{index['collectionGroup']} ({index.get('queryScope', 'COLLECTION')})",
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
    # An index of one collection does not serve a collection group query.
    outbox = offline_client.collection_group("outbox")
    grouped = outbox.where(filter=firestore.FieldFilter("status", "==", "pending")).order_by(
        "created_at"
    )
    assert not covered(needed_index(grouped))


# --- queries an automatic single-field index serves -------------------------------------


def indexed_fields(query: Any) -> tuple[str, set[str], set[str]]:
    """The collection, and the fields a query filters or orders on (the document id
    aside), and which of them it orders descending."""
    proto = query._to_protobuf()
    fields = {f.field.field_path for f in _field_filters(proto.where)}
    fields |= {o.field.field_path for o in proto.order_by}
    descending = {
        o.field.field_path
        for o in proto.order_by
        if o.direction == StructuredQuery.Direction.DESCENDING
    }
    return proto.from_[0].collection_id, fields - {"__name__"}, descending


def exempted(collection: str, field: str, descending: bool) -> bool:
    """Whether firestore_indexes.json takes away the single-field index a query needs."""
    document = json.loads(INDEX_FILE.read_text())
    for override in document.get("fieldOverrides", []):
        if (override["collectionGroup"], override["fieldPath"]) != (collection, field):
            continue
        if "indexes" not in override:
            return False  # a TTL policy alone keeps the automatic indexes
        wanted = "DESCENDING" if descending else "ASCENDING"
        return not any(
            index.get("order") == wanted and index.get("queryScope", "COLLECTION") == "COLLECTION"
            for index in override["indexes"]
        )
    return False


@pytest.mark.parametrize(
    ("what", "build"), SINGLE_FIELD_QUERIES, ids=[n for n, _ in SINGLE_FIELD_QUERIES]
)
def test_every_single_field_query_keeps_its_automatic_index(
    what: str, build: Any, offline_client: firestore.Client
) -> None:
    query = build(offline_client)
    collection, fields, descending = indexed_fields(query)
    assert len(fields) <= 1, f"{what}: {fields} needs a composite index (COMPOSITE_QUERIES)"
    for field in fields:
        assert not exempted(collection, field, field in descending), (
            f"{what}: {INDEX_FILE.name} exempts {collection}.{field} from indexing"
        )
        if query._to_protobuf().from_[0].all_descendants:
            assert group_indexed(collection, field, field in descending), (
                f"{what}: {INDEX_FILE.name} has no collection-group index on "
                f"{collection}.{field} (Firestore makes none by itself)"
            )


def group_indexed(collection: str, field: str, descending: bool) -> bool:
    """Whether firestore_indexes.json turns on the single-field index a collection-group
    query needs: Firestore keeps automatic ones only for single collections."""
    wanted = "DESCENDING" if descending else "ASCENDING"
    document = json.loads(INDEX_FILE.read_text())
    return any(
        index.get("order") == wanted and index.get("queryScope") == "COLLECTION_GROUP"
        for override in document.get("fieldOverrides", [])
        if (override["collectionGroup"], override["fieldPath"]) == (collection, field)
        for index in override.get("indexes", [])
    )


@pytest.mark.parametrize("module", ADAPTER_MODULES, ids=lambda m: m.__name__)
def test_every_query_builder_of_an_adapter_is_in_its_inventory(module: ModuleType) -> None:
    """A new ``*_query`` function in an adapter module is registered in its
    COMPOSITE_QUERIES or SINGLE_FIELD_QUERIES, so the checks above see the index it needs."""
    inventory = (
        *getattr(module, "COMPOSITE_QUERIES", ()),
        *getattr(module, "SINGLE_FIELD_QUERIES", ()),
    )
    referenced = {name for _, build in inventory for name in build.__code__.co_names}
    builders = {
        name
        for name, value in vars(module).items()
        if callable(value)
        and not name.startswith("_")
        and name.endswith(("_query", "_queries"))
        and getattr(value, "__module__", None) == module.__name__
    }
    assert not builders - referenced, f"not in an inventory: {sorted(builders - referenced)}"


def test_the_adapter_modules_are_found() -> None:
    names = {module.__name__ for module in ADAPTER_MODULES}
    assert {"shared.adapters.firestore", "shared.adapters.firestore_audit"} <= names
    assert len(COMPOSITE_QUERIES) > 10


def test_the_single_field_check_fails_for_an_exempted_or_composite_query(
    offline_client: firestore.Client,
) -> None:
    reports = offline_client.collection("reports")
    _, fields, _ = indexed_fields(
        reports.where(filter=firestore.FieldFilter("state", "==", "x")).order_by("submitted_at")
    )
    assert len(fields) == 2
    assert exempted("reports", "title", descending=False)
    assert not exempted("reports", "next_due_on", descending=False)
    assert not group_indexed("reports", "next_due_on", descending=False)
    assert group_indexed("response_templates", "agency_id", descending=False)
