"""An in-memory Firestore for fast tests of the services' rules.

Not a mock of our stores: a stand-in for the one layer under the SDK, the
generated ``FirestoreClient`` (commit, batch_get_documents, run_query,
begin_transaction, rollback), so the real ``google.cloud.firestore`` client,
its batches, transactions, preconditions and queries, and the real stores of
``adminapp/firebase/`` all run unchanged on it. It keeps what our rules rely
on, as Firestore does:

- a write conditional on ``update_time`` or ``exists`` fails with
  FAILED_PRECONDITION (or NOT_FOUND / ALREADY_EXISTS) and writes nothing;
- a commit applies all of its writes or none;
- a transaction's commit is ABORTED (and the SDK retries it) when a document
  it read changed after the read;
- update times strictly increase;
- transforms (``Increment``, server timestamps) apply inside the commit.

Queries support what the app uses: equality, ranges, ``array_contains`` and
``in``, ``order_by`` and ``limit`` (no cursors, as the app uses none).
``tests/integration/test_memory_firestore.py`` runs the same checks against
this and against the emulator, so the two cannot drift apart unseen.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import google.auth.credentials
from google.api_core import exceptions
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.types import document as document_pb
from google.cloud.firestore_v1.types import firestore as firestore_pb
from google.cloud.firestore_v1.types import query as query_pb
from google.cloud.firestore_v1.types import write as write_pb
from google.protobuf import timestamp_pb2

PROJECT = "demo-memory"


def memory_client(project: str = PROJECT) -> firestore.Client:
    """A real Firestore client whose RPCs are answered from memory."""
    client = firestore.Client(
        project=project, credentials=google.auth.credentials.AnonymousCredentials()
    )
    client._firestore_api_internal = MemoryFirestoreApi(client)
    return client


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class _Stored:
    __slots__ = ("create_time", "fields", "update_time")

    def __init__(self, fields: dict, create_time: datetime, update_time: datetime):
        self.fields = fields
        self.create_time = create_time
        self.update_time = update_time


class MemoryFirestoreApi:
    """The generated client's methods the SDK calls, answered from a dict."""

    def __init__(self, client: firestore.Client):
        self._client = client
        self._lock = threading.RLock()
        self._documents: dict[str, _Stored] = {}
        self._last_time = datetime.fromtimestamp(0, UTC)
        # transaction id -> {document name: update time when read (None: missing)}
        self._reads: dict[bytes, dict[str, datetime | None]] = {}
        self.commits = 0  # how many commits reached the store (tests may look)

    # -- the RPCs --------------------------------------------------------------

    def begin_transaction(self, request=None, **_options):
        transaction = secrets.token_bytes(12)
        with self._lock:
            self._reads[transaction] = {}
        return firestore_pb.BeginTransactionResponse(transaction=transaction)

    def rollback(self, request=None, **_options):
        with self._lock:
            self._reads.pop(_field(request, "transaction"), None)

    def batch_get_documents(self, request=None, **_options) -> Iterator:
        transaction = _field(request, "transaction") or None
        with self._lock:
            now = self._now()
            answers = []
            for name in _field(request, "documents"):
                stored = self._documents.get(name)
                self._remember_read(transaction, name, stored)
                if stored is None:
                    answers.append(
                        firestore_pb.BatchGetDocumentsResponse(
                            missing=name, read_time=_timestamp(now)
                        )
                    )
                else:
                    answers.append(
                        firestore_pb.BatchGetDocumentsResponse(
                            found=self._document(name, stored), read_time=_timestamp(now)
                        )
                    )
        return iter(answers)

    def run_query(self, request=None, **_options) -> Iterator:
        parent = _field(request, "parent")
        query = _field(request, "structured_query")
        transaction = _field(request, "transaction") or None
        with self._lock:
            now = self._now()
            matches = [
                (name, stored)
                for name, stored in self._documents.items()
                if _in_collection(name, parent, query) and self._matches(stored, query.where)
            ]
            for order in reversed(list(query.order_by)):
                matches.sort(
                    key=lambda item, order=order: _sort_key(
                        self._value(item[1], order.field.field_path)
                    ),
                    reverse=order.direction == query_pb.StructuredQuery.Direction.DESCENDING,
                )
            if not query.order_by:
                matches.sort(key=lambda item: item[0])
            # proto-plus unwraps the Int32Value: an int, or absent.
            limit = query.limit if "limit" in query else None
            if limit is not None:
                matches = matches[:limit]
            for name, stored in matches:
                self._remember_read(transaction, name, stored)
            answers = [
                firestore_pb.RunQueryResponse(
                    document=self._document(name, stored), read_time=_timestamp(now)
                )
                for name, stored in matches
            ]
        if not answers:
            answers = [firestore_pb.RunQueryResponse(read_time=_timestamp(now))]
        return iter(answers)

    def commit(self, request=None, **_options):
        # The request as the SDK's client hands it to gRPC: a CommitRequest,
        # whose writes are proto-plus Writes however they were staged
        # (WriteBatch.create's, or a raw protobuf: firebase/entry_writes.py).
        request = firestore_pb.CommitRequest(request)
        transaction = request.transaction or None
        writes = list(request.writes)
        with self._lock:
            if transaction is not None:
                self._check_reads(transaction)
            now = self._now()
            # Everything is checked and computed on a copy; only a commit
            # that passes every precondition replaces the store.
            staged = dict(self._documents)
            results = []
            for write in writes:
                results.append(self._apply(staged, write, now))
            self._documents = staged
            self.commits += 1
            return firestore_pb.CommitResponse(write_results=results, commit_time=_timestamp(now))

    # -- clearing, for tests -----------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self._documents.clear()
            self._reads.clear()

    # -- the parts ------------------------------------------------------------------

    def _now(self) -> datetime:
        """Strictly increasing, so no two writes share an update time."""
        moment = datetime.now(UTC)
        if moment <= self._last_time:
            moment = self._last_time + timedelta(microseconds=1)
        self._last_time = moment
        return moment

    def _remember_read(self, transaction, name: str, stored: _Stored | None) -> None:
        if transaction is None:
            return
        reads = self._reads.get(transaction)
        if reads is None:
            raise exceptions.InvalidArgument("unknown transaction")
        reads.setdefault(name, stored.update_time if stored else None)

    def _check_reads(self, transaction: bytes) -> None:
        reads = self._reads.pop(transaction, None)
        if reads is None:
            raise exceptions.InvalidArgument("unknown or finished transaction")
        for name, seen in reads.items():
            stored = self._documents.get(name)
            if (stored.update_time if stored else None) != seen:
                raise exceptions.Aborted(f"contention on {name}")

    def _apply(self, staged: dict, write, now: datetime):
        kind = write._pb.WhichOneof("operation")
        name = write.update.name if kind == "update" else write.delete
        current = staged.get(name)
        self._check_precondition(write, name, current)
        if kind == "delete":
            staged.pop(name, None)
            return write_pb.WriteResult(update_time=_timestamp(now))
        fields = copy.deepcopy(current.fields) if current else {}
        new_fields = dict(write.update.fields)
        if "update_mask" in write:
            for path in write.update_mask.field_paths:
                _set_path(fields, path, _get_path(new_fields, path))
        else:
            fields = new_fields
        transform_results = []
        for transform in write.update_transforms:
            result = self._transform(fields, transform, now)
            transform_results.append(result)
        staged[name] = _Stored(fields, current.create_time if current else now, now)
        return write_pb.WriteResult(
            update_time=_timestamp(now), transform_results=transform_results
        )

    @staticmethod
    def _check_precondition(write, name: str, current: _Stored | None) -> None:
        if "current_document" not in write:
            return
        condition = write.current_document
        which = condition._pb.WhichOneof("condition_type")
        if which == "exists":
            if condition.exists and current is None:
                raise exceptions.NotFound(f"no entity to update: {name}")
            if not condition.exists and current is not None:
                raise exceptions.AlreadyExists(f"entity already exists: {name}")
        elif which == "update_time":
            wanted = condition.update_time  # proto-plus gives a datetime
            if current is None or current.update_time != wanted:
                raise exceptions.FailedPrecondition(f"the stored version differs: {name}")

    def _transform(self, fields: dict, transform, now: datetime):
        path = transform.field_path
        which = transform._pb.WhichOneof("transform_type")
        if which == "set_to_server_value":
            value = _helpers.encode_value(now)
        elif which == "increment":
            raw = _get_path(fields, path)
            before = None if raw is None else _helpers.decode_value(raw, self._client)
            step = _helpers.decode_value(transform.increment, self._client)
            base = before if isinstance(before, int | float) and not isinstance(before, bool) else 0
            value = _helpers.encode_value(base + step)
        else:
            raise exceptions.Unimplemented(f"transform {which}")
        _set_path(fields, path, value)
        return value

    def _document(self, name: str, stored: _Stored):
        return document_pb.Document(
            name=name,
            fields=stored.fields,
            create_time=_timestamp(stored.create_time),
            update_time=_timestamp(stored.update_time),
        )

    def _value(self, stored: _Stored, path: str):
        raw = _get_path(stored.fields, path)
        return None if raw is None else _helpers.decode_value(raw, self._client)

    def _matches(self, stored: _Stored, where) -> bool:
        if not where or not where._pb.WhichOneof("filter_type"):
            return True
        which = where._pb.WhichOneof("filter_type")
        if which == "composite_filter":
            parts = [self._matches(stored, f) for f in where.composite_filter.filters]
            op = where.composite_filter.op
            return (
                all(parts)
                if op == query_pb.StructuredQuery.CompositeFilter.Operator.AND
                else any(parts)
            )
        if which == "unary_filter":
            value = self._value(stored, where.unary_filter.field.field_path)
            operator = query_pb.StructuredQuery.UnaryFilter.Operator
            return {
                operator.IS_NULL: value is None,
                operator.IS_NOT_NULL: value is not None,
            }.get(where.unary_filter.op, False)
        condition = where.field_filter
        value = self._value(stored, condition.field.field_path)
        wanted = _helpers.decode_value(condition.value, self._client)
        operator = query_pb.StructuredQuery.FieldFilter.Operator
        op = condition.op
        if op == operator.EQUAL:
            return value == wanted and value is not None
        if op == operator.ARRAY_CONTAINS:
            return isinstance(value, list) and wanted in value
        if op == operator.IN:
            return value in wanted
        if value is None or not _comparable(value, wanted):
            return False
        return {
            operator.LESS_THAN: value < wanted,
            operator.LESS_THAN_OR_EQUAL: value <= wanted,
            operator.GREATER_THAN: value > wanted,
            operator.GREATER_THAN_OR_EQUAL: value >= wanted,
            operator.NOT_EQUAL: value != wanted,
        }.get(op, False)


def _field(request, name: str):
    if isinstance(request, dict):
        return request.get(name)
    return getattr(request, name)


def _in_collection(name: str, parent: str, query) -> bool:
    prefix = parent.rstrip("/") + "/"
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix) :].split("/")
    ids = {selector.collection_id for selector in query.from_}
    descendants = any(selector.all_descendants for selector in query.from_)
    if descendants:
        return rest[-2] in ids
    return len(rest) == 2 and rest[0] in ids


def _get_path(fields: dict, path: str):
    parts = path.split(".")
    value = fields.get(parts[0])
    for part in parts[1:]:
        if value is None or value._pb.WhichOneof("value_type") != "map_value":
            return None
        value = value.map_value.fields.get(part)
    return value


def _set_path(fields: dict, path: str, value) -> None:
    parts = path.split(".")
    if len(parts) == 1:
        if value is None:
            fields.pop(path, None)
        else:
            fields[path] = value
        return
    head = fields.get(parts[0])
    inner = dict(head.map_value.fields) if head is not None and "map_value" in head else {}
    _set_path(inner, ".".join(parts[1:]), value)
    fields[parts[0]] = document_pb.Value(map_value=document_pb.MapValue(fields=inner))


def _comparable(a, b) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return True
    return type(a) is type(b) or (isinstance(a, datetime) and isinstance(b, datetime))


_TYPE_ORDER = {type(None): 0, bool: 1, int: 2, float: 2, datetime: 3, str: 4, bytes: 5}


def _sort_key(value):
    rank = next((r for t, r in _TYPE_ORDER.items() if isinstance(value, t)), 9)
    return (rank, value if rank in (1, 2, 3, 4, 5) else 0)
