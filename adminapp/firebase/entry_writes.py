"""An audit entry's create, built as the raw protobuf Firestore receives.

Every look at personal data writes one audit entry (PIPA access records,
docs/pipa.md), so the users console pays for one entry's write on every
page. The SDK builds a write through proto-plus wrappers: about 30 of them
for an entry of 25 fields, each converted again to the protobuf under it,
which was a third of the entry's CPU in the app (docs/performance.md). The
entry's values are plain (text, numbers, times, lists, maps), so this module
builds the same ``Write`` from the protobuf classes directly.

What the SDK would send is the reference:
``tests/unit/test_entry_writes.py`` checks that every kind of entry the
trail writes encodes here exactly as the pinned SDK's ``create`` encodes it,
and the chain's verification reads the entries back through the SDK. A
value of any other type (a sentinel such as SERVER_TIMESTAMP, a reference)
is left to the SDK: :func:`create_write` answers None.
"""

from __future__ import annotations

from datetime import datetime

from google.cloud._helpers import _datetime_to_pb_timestamp
from google.cloud.firestore_v1.types import common, document, write
from google.protobuf import struct_pb2

_Value = document.Value.pb()
_ArrayValue = document.ArrayValue.pb()
_MapValue = document.MapValue.pb()
_Document = document.Document.pb()
_Write = write.Write.pb()
_Precondition = common.Precondition.pb()


class _NotPlain(TypeError):
    """A value this module leaves to the SDK."""


def _value(value: object):
    # In the SDK's order (_helpers.encode_value): bool before int, as a
    # bool is an int.
    if value is None:
        return _Value(null_value=struct_pb2.NULL_VALUE)
    if isinstance(value, bool):
        return _Value(boolean_value=value)
    if isinstance(value, int):
        return _Value(integer_value=value)
    if isinstance(value, float):
        return _Value(double_value=value)
    if type(value) is datetime:  # not the SDK's DatetimeWithNanoseconds
        return _Value(timestamp_value=_datetime_to_pb_timestamp(value))
    if isinstance(value, str):
        return _Value(string_value=value)
    if type(value) in (list, tuple):
        return _Value(array_value=_ArrayValue(values=[_value(item) for item in value]))
    if type(value) is dict:
        return _Value(map_value=_MapValue(fields=_fields(value)))
    raise _NotPlain(type(value).__name__)


def _fields(values: dict) -> dict:
    if not all(type(name) is str and name for name in values):
        raise _NotPlain("a field name that is not plain text")
    return {name: _value(item) for name, item in values.items()}


def create_write(document_path: str, entry: dict):
    """The ``Write`` that creates ``document_path`` with ``entry`` (failing
    if it exists), as ``WriteBatch.create`` would stage it; None when the
    entry holds a value that only the SDK encodes."""
    try:
        fields = _fields(entry)
    except _NotPlain:
        return None
    return _Write(
        update=_Document(name=document_path, fields=fields),
        current_document=_Precondition(exists=False),
    )
