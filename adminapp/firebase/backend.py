"""The Firebase Admin SDK, created lazily, with our timeout and failure policy.

No client is built at import time or in ``create_app``: gunicorn forks its
workers after loading the app, and a gRPC channel must not cross a fork. Each
process builds its clients on first use.

Every call to Firebase goes through :meth:`FirebaseBackend.firestore_call` or
:meth:`FirebaseBackend.auth_call`, which count round trips (into
``adminapp/round_trips.py``, for ``make bench`` and the ``Server-Timing``
header) and turn "the dependency did not answer" into
:class:`BackendUnavailable`, so the app fails closed with a 503.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import firebase_admin
import google.auth.credentials
import grpc
import requests
from firebase_admin import auth, credentials, exceptions, firestore, tenant_mgt
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.cloud.firestore import WriteBatch
from google.cloud.firestore_v1 import base_client as firestore_base
from google.cloud.firestore_v1.services.firestore import client as firestore_gapic
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry as HttpRetry

from .. import round_trips
from ..config import Settings
from ..errors import BackendUnavailable, Contended

log = logging.getLogger(__name__)

_app_names = itertools.count(1)


class _EmulatorCredential(credentials.Base):
    """Anonymous credentials: the emulators need none, production never gets these."""

    def get_credential(self):
        return google.auth.credentials.AnonymousCredentials()


# Errors that mean "Firestore did not answer", as opposed to a refused write.
_FIRESTORE_DOWN = (
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.RetryError,
    api_exceptions.InternalServerError,
    api_exceptions.Unknown,
    api_exceptions.GatewayTimeout,
    api_exceptions.TooManyRequests,
    api_exceptions.Unauthenticated,
    api_exceptions.PermissionDenied,
)
_AUTH_DOWN = (
    exceptions.UnavailableError,
    exceptions.DeadlineExceededError,
    exceptions.UnknownError,
    exceptions.InternalError,
    exceptions.UnauthenticatedError,
    exceptions.PermissionDeniedError,
    exceptions.ResourceExhaustedError,
    requests.RequestException,
)


class FirebaseBackend:
    """One Admin SDK app per Flask app, and the clients built from it."""

    def __init__(self, settings: Settings, firestore_client=None):
        """``firestore_client``: a client to use instead of building one
        (the in-memory Firestore of the fast tests); None in the app."""
        self.settings = settings
        self._lock = threading.Lock()
        self._app: firebase_admin.App | None = None
        self._auth: auth.Client | None = None
        self._firestore = firestore_client
        # What to do once a batch has been committed (see after_commit).
        self._after_commit: weakref.WeakKeyDictionary[WriteBatch, list[Callable[[], None]]] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def app(self) -> firebase_admin.App:
        with self._lock:
            if self._app is None:
                self._app = firebase_admin.initialize_app(
                    self._credential(),
                    {
                        "projectId": self.settings.project_id,
                        # Applies to token-certificate fetches and every Auth call.
                        "httpTimeout": self.settings.backend_timeout,
                    },
                    # Unique per Flask app, so several apps can share a process.
                    name=f"adminapp-{next(_app_names)}",
                )
            return self._app

    @property
    def auth(self) -> auth.Client:
        """The Firebase Auth client for the staff's accounts: the tenant's
        (FIREBASE_TENANT_ID) or the project's. Every Auth call of the app goes
        through it, so that tokens, account checks, revocations, user
        creation and reset links all concern the same set of users."""
        app = self.app
        with self._lock:
            if self._auth is None:
                tenant = self.settings.tenant_id
                # The project-level client is the one auth.verify_id_token(app=)
                # and friends use; the SDK has no public getter for it.
                client = (
                    tenant_mgt.auth_for_tenant(tenant, app=app) if tenant else auth._get_client(app)
                )
                _bound_auth_client(client)
                self._auth = client
            return self._auth

    @property
    def firestore(self) -> firestore.firestore.Client:
        if self._firestore is not None:
            return self._firestore
        app = self.app
        with self._lock:
            if self._firestore is None:
                client = firestore.client(app)
                _read_streams_on_the_calling_thread(client)
                _bound_firestore_defaults(client, self.settings.backend_timeout)
                # Published only once set up: another thread reads
                # self._firestore without the lock (above), and would
                # otherwise use the client before its bounds are in place,
                # or have the SDK build a channel of its own over ours.
                self._firestore = client
            return self._firestore

    def _credential(self) -> credentials.Base:
        if self.settings.emulated and not self.settings.credentials_file:
            return _EmulatorCredential()
        if self.settings.credentials_file:
            return credentials.Certificate(self.settings.credentials_file)
        return credentials.ApplicationDefault()

    def commit(self, batch: WriteBatch, what: str, *, lost_race: Exception | None = None) -> None:
        """Commit a write batch: one Firestore round trip, bounded in time.
        Then run what was registered with :meth:`after_commit`, whether or
        not the commit answered (a timed-out commit may still have landed).

        With ``lost_race``, a batch whose condition no longer holds (a
        document it updates changed or went since it was read, or one it
        creates was made meanwhile: another request wrote first) raises that
        refusal instead of Google's error."""
        try:
            with self.firestore_call(what):
                batch.commit(**self.rpc_options())
        except (
            api_exceptions.FailedPrecondition,
            api_exceptions.NotFound,
            api_exceptions.AlreadyExists,
        ):
            if lost_race is None:
                raise
            raise lost_race from None
        finally:
            with self._lock:
                callbacks = self._after_commit.pop(batch, [])
            for callback in callbacks:
                callback()

    def after_commit(self, batch: WriteBatch, callback: Callable[[], None]) -> None:
        """Run ``callback`` when :meth:`commit` has committed ``batch``: a
        store that stages a write can act once the write is visible to others."""
        with self._lock:
            self._after_commit.setdefault(batch, []).append(callback)

    def rpc_options(self) -> dict:
        """Timeout and retry for one Firestore call: the whole call, retries
        included, ends within the backend timeout."""
        budget = self.settings.backend_timeout
        return {
            "timeout": budget,
            "retry": Retry(initial=0.05, maximum=0.5, multiplier=2, timeout=budget),
        }

    @contextmanager
    def firestore_call(self, what: str) -> Iterator[None]:
        """Wrap one Firestore round trip."""
        round_trips.current().firestore += 1
        try:
            yield
        except _FIRESTORE_DOWN as error:
            log.warning("firestore call failed: %s: %s", what, type(error).__name__)
            raise BackendUnavailable("Firestore", type(error).__name__) from error
        except ValueError as error:
            cause = error.__cause__ or error.__context__
            # A transaction aborted by other writers on each of its attempts:
            # the SDK raises ValueError from the last abort.
            if isinstance(cause, api_exceptions.Aborted):
                log.warning("firestore transaction contended: %s", what)
                raise Contended(what) from error
            # A transaction whose BeginTransaction failed cannot be rolled
            # back: the SDK raises ValueError from its rollback, with the
            # outage as the context. That is an outage too, not a bug.
            if not isinstance(cause, _FIRESTORE_DOWN):
                raise
            log.warning("firestore call failed: %s: %s", what, type(cause).__name__)
            raise BackendUnavailable("Firestore", type(cause).__name__) from error

    @contextmanager
    def auth_call(self, what: str) -> Iterator[None]:
        """Wrap one Firebase Auth round trip."""
        round_trips.current().auth += 1
        try:
            yield
        except _AUTH_DOWN as error:
            log.warning("firebase auth call failed: %s: %s", what, type(error).__name__)
            raise BackendUnavailable("Firebase Authentication", type(error).__name__) from error

    def close(self) -> None:
        with self._lock:
            if self._firestore is not None:
                self._firestore.close()
            if self._app is not None:
                firebase_admin.delete_app(self._app)
            self._app = self._auth = self._firestore = None


# gRPC's option for unary-stream calls: BatchGetDocuments (the guard's one
# read, every get_all) and RunQuery (every query).
_STREAMS_ON_THE_CALLING_THREAD = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)


def _read_streams_on_the_calling_thread(client: firestore.firestore.Client) -> None:
    """Give ``client`` a channel whose streamed reads run on the thread that
    waits for them, before the SDK builds its own.

    By default gRPC hands every message of a stream from a shared "channel
    spin" thread to the reader through a condition variable, and the reader
    waits on it with no timeout of its own (grpc/grpc#20562). Once, in a
    fault test, a read begun just as Firestore went away waited there past
    its 1-second deadline until the run was killed: a request thread held
    for good. Read on the calling thread, a stream waits on its own call's
    completion queue, which the call's deadline always ends. It is also the
    cheaper path: no hand-over between threads on the guard's read
    (docs/performance.md).

    The SDK has no setting for channel options, so this builds the channel
    and the generated client as ``BaseClient._firestore_api_helper`` does,
    with the SDK's own options plus this one
    (``tests/security/test_faults.py`` checks it on the pinned SDK).
    """
    if client._emulator_host is not None:
        # The SDK's emulator channel: plain text, with the emulator's token.
        channel = grpc.insecure_channel(
            client._emulator_host,
            options=[
                ("Authorization", "Bearer owner"),
                *firestore_base._GRPC_MSG_SIZE_OPTIONS,
                _STREAMS_ON_THE_CALLING_THREAD,
            ],
        )
    else:
        channel = FirestoreGrpcTransport.create_channel(
            client._target,
            credentials=client._credentials,
            options=[*firestore_base._DEFAULT_CHANNEL_OPTIONS, _STREAMS_ON_THE_CALLING_THREAD],
        )
    client._transport = FirestoreGrpcTransport(host=client._target, channel=channel)
    client._firestore_api_internal = firestore_gapic.FirestoreClient(
        transport=client._transport, client_options=client._client_options
    )


def _bound_firestore_defaults(client: firestore.firestore.Client, budget: float) -> None:
    """Cap the SDK's own default timeout and retry deadline at our budget.

    ``rpc_options()`` covers every call that accepts options, but a
    transaction's BeginTransaction, Commit and Rollback take none, and their
    defaults retry an unavailable Firestore for 60 seconds: a worker would
    hang for a minute on an admin change during an outage. There is no
    public setting for this, so the generated client's wrapped methods are
    adjusted in place (``tests/security/test_faults.py`` proves the bound on
    the pinned SDK version).
    """
    transport = client._firestore_api._transport
    for method in transport._wrapped_methods.values():
        method._timeout = budget
        if method._retry is not None:
            method._retry = method._retry.with_timeout(budget)


# One attempt per Firebase Auth call, so a call never outlasts httpTimeout
# (BACKEND_TIMEOUT_SECONDS). The Admin SDK's default retries once more after
# a connection or read timeout, and up to four times (with growing sleeps,
# honouring Retry-After) on a 500 or 503: one call could hold a worker for
# many times httpTimeout. A failed call is a 503 and the client tries again.
_AUTH_RETRY = HttpRetry(total=0, raise_on_status=False, respect_retry_after_header=False)


def _bound_auth_client(client: auth.Client) -> None:
    """Give the Auth client's HTTP session :data:`_AUTH_RETRY`. The SDK has
    no option for this; ``tests/security/test_faults.py`` proves the bound."""
    session = client._user_manager.http_client.session
    adapter = HTTPAdapter(max_retries=_AUTH_RETRY)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
