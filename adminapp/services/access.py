"""Opening, resuming and ending admin sessions: the second gate's rules.

The views and the guard call this module; it calls the identity, directory,
session and audit services, which call Firebase.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from google.api_core.exceptions import FailedPrecondition, NotFound

from ..client import Client
from ..config import Settings
from ..firebase.admins import Admin, AdminDirectory
from ..firebase.audit import AuditTrail, log_event
from ..firebase.backend import FirebaseBackend
from ..firebase.identity import FirebaseIdentity, Identity, SignInRefused
from ..firebase.sessions import CookieClaims, SessionRecord, SessionStore

log = logging.getLogger(__name__)

NOT_ADMIN = "This account is not an admin of this site."


class SessionNotFound(Exception):
    """No open session with that key (for this admin)."""


class AccessRefused(Exception):
    """A session cookie no longer opens the admin area.

    ``forbidden`` means the person is known but may not enter (403);
    otherwise they are treated as signed out (401 or the login page).
    """

    def __init__(self, reason: str, message: str, *, forbidden: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.forbidden = forbidden


@dataclass(frozen=True)
class SignedIn:
    claims: CookieClaims
    session: SessionRecord
    admin: Admin


@dataclass(frozen=True)
class Resumed:
    """Who is making a guarded request. ``session`` is None for API calls
    authenticated with a Firebase ID token instead of a session cookie."""

    session: SessionRecord | None
    admin: Admin


SIGNED_OUT = "Your session has ended. Sign in again."


class Access:
    def __init__(
        self,
        *,
        backend: FirebaseBackend,
        identity: Identity,
        directory: AdminDirectory,
        sessions: SessionStore,
        audit: AuditTrail,
        settings: Settings,
        clock: Callable[[], datetime],
    ):
        self._backend = backend
        self._identity = identity
        self._directory = directory
        self._sessions = sessions
        self._audit = audit
        self._settings = settings
        self._clock = clock

    # -- sign-in -------------------------------------------------------------

    def sign_in(self, id_token: str, client: Client) -> SignedIn:
        """Exchange a Firebase ID token for a new admin session.

        Costs one Firebase Auth round trip (verification with the revocation
        check) and two Firestore round trips: read the admin document, then
        one batch with the session, the uid binding and the audit entry.
        """
        identity, admin, refusal = self._identify(
            self._identity.verify_sign_in, id_token, client, "sign_in"
        )
        batch = self._audit.batch()
        if refusal is not None:
            self._audit.stage(
                batch,
                "sign_in",
                actor=identity.email,
                outcome="refused",
                reason=refusal.reason,
                client=client,
            )
            self._backend.commit(batch, "refused sign-in")
            raise refusal
        now = self._clock()
        # The conditional write first. Firestore commits a batch atomically
        # whatever its order; the local emulator applies writes one by one,
        # and this order lets it, too, write nothing when the condition fails.
        self._directory.stage_sign_in(batch, admin, identity.uid, now)
        claims, session = self._sessions.stage_open(
            batch,
            uid=identity.uid,
            email=identity.email,
            auth_time=identity.auth_time,
            client=client,
            now=now,
        )
        self._audit.stage(batch, "sign_in", actor=identity.email, client=client)
        self._commit_sign_in(batch, "sign-in")
        return SignedIn(claims=claims, session=session, admin=admin)

    def authenticate_bearer(self, id_token: str, client: Client) -> Admin:
        """An API call made with a Firebase ID token rather than a session
        (scripts and services have no browser to carry a cookie).

        The same checks as a sign-in, except the recent-sign-in rule: an ID
        token lives one hour and a script refreshes it without a password.
        Costs one Firebase Auth and one Firestore round trip.
        """
        identity, admin, refusal = self._identify(
            self._identity.verify, id_token, client, "access_refused", auth="bearer"
        )
        if refusal is not None:
            log_event(
                "access_refused",
                auth="bearer",
                actor=identity.email,
                reason=refusal.reason,
                ip=client.ip,
            )
            raise refusal
        if admin.uid is None:
            batch = self._backend.firestore.batch()
            self._directory.stage_sign_in(batch, admin, identity.uid, self._clock())
            self._commit_sign_in(batch, "bind admin uid")
        return admin

    def _commit_sign_in(self, batch, what: str) -> None:
        try:
            self._backend.commit(batch, what)
        except (FailedPrecondition, NotFound):
            # Between our read and our write, another sign-in bound this admin
            # to a uid, or an owner removed the admin.
            raise SignInRefused(
                "uid_conflict", "Sign-in could not be completed. Sign in again.", 409
            ) from None

    def _identify(self, verify, id_token: str, client: Client, event: str, **log_fields):
        """Verify the token, then read the admin document: ``(identity, admin,
        refusal)``, where ``refusal`` is why this admin may not enter, if so."""
        try:
            identity = verify(id_token)
        except SignInRefused as refusal:
            # We do not know who this is: log it, but write nothing.
            log_event(event, outcome="refused", reason=refusal.reason, ip=client.ip, **log_fields)
            raise
        admin = self._directory.get(identity.email)
        return identity, admin, self._admission_refusal(identity, admin)

    @staticmethod
    def _admission_refusal(identity: FirebaseIdentity, admin: Admin | None) -> SignInRefused | None:
        if admin is None:
            return SignInRefused("not_admin", NOT_ADMIN, 403)
        if admin.disabled:
            return SignInRefused("admin_disabled", "This admin account is disabled.", 403)
        if admin.uid is not None and admin.uid != identity.uid:
            # The email now belongs to a different Firebase account than the
            # one this admin first signed in with (deleted and re-created?).
            return SignInRefused("uid_mismatch", NOT_ADMIN, 403)
        return None

    # -- every guarded request -----------------------------------------------

    def resume(self, claims: CookieClaims, client: Client) -> Resumed:
        """Check a session on a guarded request: one Firestore round trip (none
        on a session cache hit), plus a write at most every few minutes to
        record activity."""
        session, admin = self._sessions.load(claims)
        now = self._clock()
        if session is None or session.email != claims.email:
            raise self._refuse("unknown_session", SIGNED_OUT, client)
        if session.ended_at is not None:
            raise self._refuse("session_ended", SIGNED_OUT, client, actor=session.email)
        if now >= session.expires_at:
            raise self._refuse("session_expired", SIGNED_OUT, client, actor=session.email)
        if now - session.last_seen_at > self._settings.session_idle_timeout:
            raise self._refuse(
                "session_idle",
                "You were signed out after a period of inactivity.",
                client,
                actor=session.email,
            )
        if admin is None:
            raise self._refuse("admin_removed", NOT_ADMIN, client, end=session, forbidden=True)
        if admin.disabled:
            raise self._refuse(
                "admin_disabled",
                "This admin account is disabled.",
                client,
                end=session,
                forbidden=True,
            )
        if admin.uid is not None and admin.uid != session.uid:
            raise self._refuse("uid_mismatch", NOT_ADMIN, client, end=session, forbidden=True)
        self._keep_alive(session, now, client)
        return Resumed(session=session, admin=admin)

    def _refuse(
        self,
        reason: str,
        message: str,
        client: Client,
        *,
        actor: str | None = None,
        end: SessionRecord | None = None,
        forbidden: bool = False,
    ) -> AccessRefused:
        """Record a refusal at the guard. A live session of a known admin is
        ended and audited; a dead or unknown one is only logged."""
        if end is None:
            log_event("access_refused", actor=actor, reason=reason, ip=client.ip)
        else:
            batch = self._audit.batch()
            self._sessions.stage_end(batch, end.key, reason)
            self._audit.stage(
                batch,
                "access_refused",
                actor=end.email,
                outcome="refused",
                reason=reason,
                client=client,
            )
            self._backend.commit(batch, "end refused session")
        return AccessRefused(reason, message, forbidden=forbidden)

    def _keep_alive(self, session: SessionRecord, now: datetime, client: Client) -> None:
        """Re-check the Firebase account now and then, and record activity
        (sliding idle timeout) without a write on every request."""
        recheck_due = now - session.auth_checked_at >= self._settings.auth_recheck_interval
        if recheck_due:
            state = self._identity.account_state(session.uid)
            reason = None
            if state is None:
                reason = "user_deleted"
            elif state.disabled:
                reason = "user_disabled"
            elif state.tokens_valid_after and state.tokens_valid_after > session.auth_time:
                reason = "tokens_revoked"
            if reason:
                raise self._refuse(reason, SIGNED_OUT, client, end=session)
        if recheck_due or now - session.last_seen_at >= self._settings.session_activity_interval:
            self._sessions.record_activity(session, auth_checked=recheck_due)

    # -- sign-out ------------------------------------------------------------

    def sign_out(self, resumed: Resumed, client: Client) -> None:
        batch = self._audit.batch()
        self._sessions.stage_end(batch, resumed.session.key, "signed_out")
        self._audit.stage(batch, "sign_out", actor=resumed.admin.email, client=client)
        self._backend.commit(batch, "sign-out")

    def end_session(
        self, key: str, *, belonging_to: str | None, actor: str, client: Client | None
    ) -> SessionRecord:
        """End one open session. ``belonging_to`` restricts it to that admin's
        own sessions (everyone may end their own; owners may end anyone's)."""
        session = self._sessions.get(key)
        if (
            session is None
            or session.ended_at is not None
            or (belonging_to is not None and session.email != belonging_to)
        ):
            raise SessionNotFound("That session does not exist or has already ended.")
        reason = "ended_by_self" if session.email == actor else "ended_by_owner"
        batch = self._audit.batch()
        self._sessions.stage_end(batch, key, reason)
        self._audit.stage(
            batch, "session_ended", actor=actor, target=session.email, reason=reason, client=client
        )
        self._backend.commit(batch, "end session")
        return session

    def sign_out_everywhere(self, resumed: Resumed, client: Client) -> int:
        """End every session of this admin, this one included, and revoke the
        Firebase refresh tokens so no other device can mint new ID tokens."""
        ended = self.end_sessions(
            resumed.admin.email, "signed_out_everywhere", actor=resumed.admin.email, client=client
        )
        self._identity.revoke_refresh_tokens(resumed.session.uid)
        return ended

    def end_sessions(
        self,
        email: str,
        reason: str,
        *,
        actor: str | None,
        client: Client | None,
        keep_key: str | None = None,
    ) -> int:
        """End every open session of ``email`` (but ``keep_key``), with one
        audit entry when there were any; returns how many were ended. Their
        cookies stop working at their next request."""
        ended = [s for s in self._sessions.open_for(email) if s.key != keep_key]
        if keep_key is None:
            # Also whatever this process cached that the query did not list.
            self._sessions.forget_admin(email)
        # A batch holds at most 500 writes; leave room for the audit entry.
        for start in range(0, len(ended), 400):
            batch = self._audit.batch()
            for session in ended[start : start + 400]:
                self._sessions.stage_end(batch, session.key, reason)
            if start == 0:
                self._audit.stage(
                    batch, "sessions_ended", actor=actor, target=email, reason=reason, client=client
                )
            self._backend.commit(batch, "end sessions")
        return len(ended)

    def forget_admin(self, email: str) -> None:
        """Make every instance re-read an admin's sessions at their next
        request: call after a change to the admin or their account has been
        written (role, status, removal, password; a second-factor reset too,
        once factors exist)."""
        self._sessions.forget_admin(email)
