"""The Firestore channel the app builds for production (the emulator's is
used by every other test): Google's endpoint over TLS, the SDK's own options,
and streamed reads on the thread that waits for them
(adminapp/firebase/backend.py). Building a channel connects nothing, so no
network is needed."""

from __future__ import annotations

import grpc._channel
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from adminapp.firebase.backend import _read_streams_on_the_calling_thread


def test_the_production_channel_reads_streams_on_the_calling_thread(monkeypatch):
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    client = firestore.Client(project="demo-adminapp", credentials=AnonymousCredentials())
    _read_streams_on_the_calling_thread(client)
    transport = client._firestore_api._transport
    assert transport._host == "firestore.googleapis.com:443"
    assert isinstance(
        transport.batch_get_documents, grpc._channel._SingleThreadedUnaryStreamMultiCallable
    )
    assert isinstance(transport.run_query, grpc._channel._SingleThreadedUnaryStreamMultiCallable)
    # Unary calls (commits, transactions) keep gRPC's usual path.
    assert not isinstance(transport.commit, grpc._channel._SingleThreadedUnaryStreamMultiCallable)
    client.close()
