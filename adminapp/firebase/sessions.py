"""Admin session records: ``admin_sessions/{sha256(session id)}`` in Firestore.

The session id is 256 random bits. Firestore stores only its SHA-256 (a
leaked database export opens no session); the browser holds the id itself in
the signed cookie (``adminapp/web/cookie.py``), with the admin's email, so
that the guard can fetch the session record and the admin document in one
batched read.

Retention: each record carries ``expire_at``, its planned end
(``expires_at``) plus ``SESSION_RETENTION_DAYS``, written when it is opened
and never moved. Firestore's TTL policy on that field
(``firestore.indexes.json``) deletes the record after it: an ended session
stays visible for investigation that long, and no record stays for ever.
Records written before the field existed have none, and stay until
``flask sessions backfill-expiry`` gives them one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from google.api_core.exceptions import FailedPrecondition
from google.cloud.firestore import DocumentSnapshot, FieldFilter, Increment, WriteBatch

from ..cache.session_cache import SessionCache
from ..cache.session_invalidation import SessionInvalidation, channel_name
from ..client import Client
from ..config import Settings
from ..domain.sessions import CookieClaims, SessionRecord
from .admins import Admin, AdminDirectory, admin_from_snapshot
from .backend import FirebaseBackend
from .expiry import count_expiry
from .roles import RoleStore, book_from_snapshot

SESSIONS = "admin_sessions"
# The field Firestore's TTL policy deletes a record after.
EXPIRE_AT = "expire_at"
SESSION_ID_BYTES = 32
# Firestore's limit on the writes of one batch.
MAX_BATCH_WRITES = 500


@dataclass(frozen=True)
class ExpiryReport:
    """What Firestore's TTL policy will delete, and when (no session data)."""

    # UTC day of expire_at -> records, for the records whose day is to come.
    by_day: dict[date, int]
    # Past their expire_at: Firestore deletes them within about a day.
    overdue: int
    # Written before expire_at existed: kept until backfilled or deleted.
    without_expiry: int


def record_from_snapshot(snapshot: DocumentSnapshot) -> SessionRecord | None:
    if not snapshot.exists:
        return None
    data = snapshot.to_dict() or {}
    try:
        return SessionRecord(
            key=snapshot.id,
            uid=data["uid"],
            email=data["email"],
            created_at=data["created_at"],
            last_seen_at=data["last_seen_at"],
            expires_at=data["expires_at"],
            auth_time=data["auth_time"],
            auth_checked_at=data["auth_checked_at"],
            ip=data.get("ip") or "",
            user_agent=data.get("user_agent") or "",
            ended_at=data.get("ended_at"),
            ended_reason=data.get("ended_reason"),
            sign_in_provider=data.get("sign_in_provider") or "",
            firebase_second_factor=data.get("firebase_second_factor"),
            # Anything but an explicit False keeps a session pending.
            mfa_pending=data.get("mfa_pending", False) is not False,
            mfa_factor=data.get("mfa_factor") or None,
            mfa_verified_at=data.get("mfa_verified_at"),
            mfa_step_up_at=data.get("mfa_step_up_at"),
            mfa_failures=int(data.get("mfa_failures") or 0),
            mfa_challenge=data.get("mfa_challenge") or None,
            mfa_challenge_at=data.get("mfa_challenge_at"),
            version=snapshot.update_time,
        )
    except (KeyError, TypeError, ValueError):
        # A damaged record opens nothing.
        return None


class SessionStore:
    def __init__(
        self,
        backend: FirebaseBackend,
        directory: AdminDirectory,
        roles: RoleStore,
        settings: Settings,
        clock: Callable[[], datetime],
    ):
        self._backend = backend
        self._directory = directory
        self._roles = roles
        self._settings = settings
        self._clock = clock
        # Off (TTL 0) by default: then every guarded request reads Firestore.
        self._cache: SessionCache[SessionRecord, Admin] = SessionCache(settings.session_cache_ttl)
        # With a cache and a Redis, changes reach every process's cache within
        # a second; the cache is not used while that channel is down.
        self._invalidation: SessionInvalidation | None = None
        if self._cache.enabled and settings.session_invalidation_url:
            self._invalidation = SessionInvalidation(
                settings.session_invalidation_url,
                channel_name(settings.project_id),
                self._cache,
                settings.session_cache_ttl.total_seconds(),
            )

    def _ref(self, key: str):
        return self._backend.firestore.collection(SESSIONS).document(key)

    def stage_open(
        self,
        batch: WriteBatch,
        *,
        uid: str,
        email: str,
        auth_time: datetime,
        client: Client,
        now: datetime,
        sign_in_provider: str = "",
        firebase_second_factor: str | None = None,
        pending: bool = False,
        factor: str | None = None,
    ) -> tuple[CookieClaims, SessionRecord]:
        """Create a new session, opened at ``now``, in the caller's batch. A
        fresh id every time: nothing from before the sign-in can be carried
        into it.

        ``pending``: the session waits for the second factor and lives
        PENDING_SESSION_MINUTES. ``factor``: the kind of second factor that
        was just proved (a full session)."""
        claims = CookieClaims(session_id=secrets.token_urlsafe(SESSION_ID_BYTES), email=email)
        lifetime = (
            self._settings.pending_session_lifetime if pending else self._settings.session_lifetime
        )
        record = SessionRecord(
            key=claims.key,
            uid=uid,
            email=email,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            auth_time=auth_time,
            auth_checked_at=now,
            ip=client.ip,
            user_agent=client.user_agent,
            sign_in_provider=sign_in_provider,
            firebase_second_factor=firebase_second_factor,
            mfa_pending=pending,
            mfa_factor=factor,
            mfa_verified_at=now if factor else None,
            mfa_step_up_at=now if factor else None,
        )
        document = {**record.to_document(), EXPIRE_AT: self.expire_at(record.expires_at)}
        batch.create(self._ref(record.key), document)
        return claims, record

    def expire_at(self, expires_at: datetime) -> datetime:
        """When Firestore's TTL policy may delete a session planned to end
        at ``expires_at``."""
        return expires_at + self._settings.session_retention

    def expiry_report(self) -> ExpiryReport:
        """Count the records by the day their expire_at falls on."""
        query = self._backend.firestore.collection(SESSIONS).select([EXPIRE_AT])
        with self._backend.firestore_call("count session records by expiry"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        counts = count_expiry(
            ((snapshot.to_dict() or {}).get(EXPIRE_AT) for snapshot in snapshots),
            self._clock(),
            datetime.date,
        )
        return ExpiryReport(counts.by_period, counts.overdue, counts.without_expiry)

    def backfill_expiry(self) -> int:
        """Give every record without expire_at one (from its expires_at, as
        a new record gets); the number of records changed."""
        query = self._backend.firestore.collection(SESSIONS).select([EXPIRE_AT, "expires_at"])
        with self._backend.firestore_call("find session records without expiry"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        missing = []
        for snapshot in snapshots:
            data = snapshot.to_dict() or {}
            if not isinstance(data.get(EXPIRE_AT), datetime):
                ends = data.get("expires_at")
                # A damaged record without an end: retained from now.
                ends = ends if isinstance(ends, datetime) else self._clock()
                missing.append((snapshot.reference, self.expire_at(ends)))
        for start in range(0, len(missing), MAX_BATCH_WRITES):
            batch = self._backend.firestore.batch()
            for reference, when in missing[start : start + MAX_BATCH_WRITES]:
                batch.update(reference, {EXPIRE_AT: when})
            self._backend.commit(batch, "backfill session expiry")
        return len(missing)

    def load(self, claims: CookieClaims) -> tuple[SessionRecord | None, Admin | None]:
        """The session record and its admin's document, in one round trip, or
        none when this process read a live pair within SESSION_CACHE_SECONDS.
        The custom roles' document comes in the same batch: an admin with a
        custom role carries its permissions (``Admin.granted``), and a cached
        admin is dropped with every role change (:meth:`forget_everyone`)."""
        if self._invalidation is not None:
            self._invalidation.ensure_running()
        cached = self._cache.get(claims.key)
        if cached is not None:
            return cached
        stamp = self._cache.stamp()
        refs = [self._ref(claims.key), self._directory.ref(claims.email), self._roles.ref()]
        with self._backend.firestore_call("load session and admin"):
            snapshots = {
                snapshot.reference.path: snapshot
                for snapshot in self._backend.firestore.get_all(refs, **self._backend.rpc_options())
            }
        session_snapshot = snapshots.get(refs[0].path)
        admin_snapshot = snapshots.get(refs[1].path)
        book = book_from_snapshot(snapshots.get(refs[2].path))
        session = record_from_snapshot(session_snapshot) if session_snapshot else None
        admin = admin_from_snapshot(admin_snapshot, book) if admin_snapshot else None
        if session is not None and admin is not None and session.email == claims.email:
            # Only complete pairs: a refusal is re-read, never served from memory.
            self._cache.put(claims.key, session.email, session, admin, stamp)
        return session, admin

    def forget(self, key: str) -> None:
        """Drop a session from every process's cache (it was just ended):
        this one at once, the others through the invalidation channel."""
        self._cache.forget(key)
        if self._invalidation is not None:
            self._invalidation.publish(keys=[key])

    def forget_admin(self, email: str) -> None:
        """Drop an admin's sessions from every process's cache: call after
        any change to the admin or their account (role, status, removal,
        password, second factor) has been written, so that every instance
        applies it at the next request."""
        self._cache.forget_admin(email)
        if self._invalidation is not None:
            self._invalidation.publish(emails=[email])

    def forget_everyone(self) -> None:
        """Drop every cached session from every process's cache: call after
        a custom role changed (any cached admin may hold it), once written."""
        self._cache.forget_all()
        if self._invalidation is not None:
            self._invalidation.publish(everyone=True)

    def close(self) -> None:
        """Stop this process's subscriber (tests and shutdown)."""
        if self._invalidation is not None:
            self._invalidation.close()

    def get(self, key: str) -> SessionRecord | None:
        with self._backend.firestore_call("get session"):
            snapshot = self._ref(key).get(**self._backend.rpc_options())
        return record_from_snapshot(snapshot)

    def open_for(self, email: str | None) -> list[SessionRecord]:
        """An admin's live sessions (everyone's with None), most recently
        active first."""
        query = self._backend.firestore.collection(SESSIONS).where(
            filter=FieldFilter("active", "==", True)
        )
        if email is not None:
            query = query.where(filter=FieldFilter("email", "==", email))
        with self._backend.firestore_call("list open sessions"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        now = self._clock()
        records = [record for record in map(record_from_snapshot, snapshots) if record]
        idle = self._settings.session_idle_timeout
        live = [r for r in records if r.why_over(now, idle) is None]
        return sorted(live, key=lambda record: record.last_seen_at, reverse=True)

    def stage_end(self, batch: WriteBatch, key: str, reason: str) -> None:
        # Forgotten here now, and everywhere once the end is written: a
        # process told earlier could re-read the session still open.
        self._cache.forget(key)
        self._backend.after_commit(batch, lambda: self.forget(key))
        batch.update(
            self._ref(key),
            {"ended_at": self._clock(), "ended_reason": reason, "active": False},
        )

    def stage_end_once(self, batch: WriteBatch, session: SessionRecord, reason: str) -> None:
        """End a session only if its record is unchanged since ``session`` was
        read: a pending session is spent once, by one request."""
        self.forget(session.key)
        option = self._backend.firestore.write_option(exists=True)
        if session.version is not None:
            option = self._backend.firestore.write_option(last_update_time=session.version)
        batch.update(
            self._ref(session.key),
            {"ended_at": self._clock(), "ended_reason": reason, "active": False},
            option=option,
        )

    def stage_rotate(
        self,
        batch: WriteBatch,
        pending: SessionRecord,
        *,
        client: Client,
        now: datetime,
        factor: str,
    ) -> tuple[CookieClaims, SessionRecord]:
        """A pending session's second factor was proved: spend its record
        (once, :meth:`stage_end_once`) and open a full session for the same
        sign-in under a new id (privilege changes rotate the session id)."""
        self.stage_end_once(batch, pending, "second_factor_passed")
        return self.stage_open(
            batch,
            uid=pending.uid,
            email=pending.email,
            auth_time=pending.auth_time,
            client=client,
            now=now,
            factor=factor,
        )

    def stage_step_up(self, batch: WriteBatch, key: str, now: datetime) -> None:
        """Record a second-factor proof on a full session (a step-up)."""
        self.forget(key)
        batch.update(self._ref(key), {"mfa_step_up_at": now, "mfa_failures": 0})

    def update_second_factor(self, key: str, changes: dict) -> None:
        """Change a session's second-factor fields (the WebAuthn challenge;
        wrong answers are counted by :meth:`count_second_factor_failure`).
        This process's cached copy is dropped; the next request re-reads."""
        self.forget(key)
        with self._backend.firestore_call("update session second factor"):
            self._ref(key).update(changes, **self._backend.rpc_options())

    def count_second_factor_failure(self, key: str) -> int:
        """Add one wrong second-factor answer to a session's count and return
        the count after it. One atomic write: Firestore increments on the
        server and sends the new value back in the same round trip, so
        concurrent wrong answers each get their own number (a read, +1 and a
        write back would let them all read the same count)."""
        self.forget(key)
        with self._backend.firestore_call("count second-factor failure"):
            result = self._ref(key).update(
                {"mfa_failures": Increment(1)}, **self._backend.rpc_options()
            )
        [count] = result.transform_results
        return count.integer_value

    def take_challenge(self, session: SessionRecord, *, lost_race: Exception) -> SessionRecord:
        """Clear the WebAuthn challenge of ``session``, only if the record is
        unchanged since it was read: of two requests holding one challenge,
        one gets it (the other gets ``lost_race``). The record as it is now,
        its version included."""
        self.forget(session.key)
        cleared = {"mfa_challenge": None, "mfa_challenge_at": None}
        option = self._backend.firestore.write_option(last_update_time=session.version)
        try:
            with self._backend.firestore_call("take WebAuthn challenge"):
                result = self._ref(session.key).update(
                    cleared, option=option, **self._backend.rpc_options()
                )
        except FailedPrecondition:
            raise lost_race from None
        return replace(session, **cleared, version=result.update_time)

    def record_activity(self, session: SessionRecord, *, auth_checked: bool) -> None:
        now = self._clock()
        update = {"last_seen_at": now}
        if auth_checked:
            update["auth_checked_at"] = now
        with self._backend.firestore_call("record session activity"):
            self._ref(session.key).update(update, **self._backend.rpc_options())
        # Keep the cached copy in step, or every request until it expires
        # would see old activity and write again.
        self._cache.update(session.key, replace(session, **update))
