"""An audit entry's create, built as raw protobuf (adminapp/firebase/entry_writes.py),
is the Write the pinned SDK's ``WriteBatch.create`` stages for it, byte for
byte: for each kind of entry the trail writes, chained, and for any plain
value (hypothesis). Nothing is sent: the client is never connected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.types import write
from hypothesis import given
from hypothesis import strategies as st

from adminapp.client import Client
from adminapp.domain.audit import ACCESS_EVENT, EXPORT_EVENT, DataSubject
from adminapp.firebase.audit import AUDIT, AuditTrail
from adminapp.firebase.audit_chain import AuditChain
from adminapp.firebase.entry_writes import create_write

NOW = datetime(2026, 12, 5, 8, 30, 15, 123456, tzinfo=UTC)
CLIENT = Client(ip="203.0.113.9", user_agent="Mozilla/5.0 (X11; Linux x86_64)", request_id="r1")


@pytest.fixture(scope="module")
def client() -> firestore.Client:
    # Built, never connected: the SDK stages writes without the network,
    # and anonymous credentials could not sign a request if one were sent.
    return firestore.Client(project="demo-entry-writes", credentials=AnonymousCredentials())


def sdk_write(client: firestore.Client, path: str, entry: dict):
    batch = client.batch()
    batch.create(client.document(path), entry)
    [staged] = batch._write_pbs
    return write.Write.pb(staged)


KINDS = ("search", "list page", "role change", "export")


def trail_entries() -> list[tuple[str, dict]]:
    """One entry of each kind the trail writes (KINDS), as AuditTrail builds
    and AuditChain links them."""
    trail = AuditTrail(None, lambda: NOW, retention=timedelta(days=730), chain_key=b"k" * 32)
    made = [
        trail._entry(
            ACCESS_EVENT,
            actor="admin@example.com",
            target="ada@example.com",
            target_uid="uid-ada",
            outcome="ok",
            reason=None,
            client=CLIENT,
            task="search",
            subjects=(DataSubject(uid="uid-ada", email="Ada@Example.com"),),
            query="ada@example.com",
        ),
        trail._entry(
            ACCESS_EVENT,
            actor="admin@example.com",
            target=None,
            target_uid=None,
            outcome="ok",
            reason=None,
            client=CLIENT,
            task="print",
            subjects=tuple(DataSubject(uid=f"uid-{n}", email=None) for n in range(50)),
        ),
        trail._entry(
            "role_changed",
            actor="owner@example.com",
            target="admin@example.com",
            target_uid=None,
            outcome="ok",
            reason="viewer -> admin",
            client=None,
            role="admin",
            previous_role="viewer",
        ),
        trail._entry(
            EXPORT_EVENT,
            actor="owner@example.com",
            target=None,
            target_uid=None,
            outcome="ok",
            reason="monthly inspection, 한국어 사유",
            client=CLIENT,
            export={
                "dataset": "audit",
                "format": "csv",
                "filters": {"event": ACCESS_EVENT, "since": "20261101", "actor": None},
                "rows": 100_000,
                "export_id": "e1",
            },
        ),
    ]
    chain = AuditChain(b"k" * 32, lambda: NOW)
    chain.link(("records", entry) for _id, entry in made[:2])
    chain.link(("rights", entry) for _id, entry in made[2:])
    return [(f"{AUDIT}/{entry_id}", entry) for entry_id, entry in made]


# Named ids: an entry's own id is random, and every pytest-xdist worker
# must collect the same tests.
@pytest.mark.parametrize(
    ("path", "entry"),
    [pytest.param(*made, id=kind) for kind, made in zip(KINDS, trail_entries(), strict=True)],
)
def test_each_kind_of_entry_encodes_as_the_sdk_encodes_it(client, path, entry):
    assert entry["mac"] and entry["link"]  # chained, as committed
    ours = create_write(client.document(path)._document_path, entry)
    theirs = sdk_write(client, path, entry)
    assert ours == theirs
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(
        deterministic=True
    )


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1), inner),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1).filter(lambda name: "`" not in name), PLAIN))
def test_any_plain_value_encodes_as_the_sdk_encodes_it(client, entry):
    path = f"{AUDIT}/any"
    ours = create_write(client.document(path)._document_path, entry)
    assert ours == sdk_write(client, path, entry)


def test_a_value_only_the_sdk_encodes_is_left_to_it(client):
    path = client.document(f"{AUDIT}/sentinel")._document_path
    assert create_write(path, {"time": firestore.SERVER_TIMESTAMP}) is None
    assert create_write(path, {"nested": {"ref": client.document("a/b")}}) is None
