"""An admin session as the rules see it: the cookie's claims, the record,
and the two words kept apart (the session *id*, the secret in the cookie;
its *key*, a hash, safe to show). ``adminapp/firebase/sessions.py`` stores
the records."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_SESSION_KEY = re.compile(r"[0-9a-f]{64}")


def session_key(session_id: str) -> str:
    """The Firestore document id of a session: a hash, never the id itself.

    Two words, kept apart: the session *id* is the secret in the cookie; the
    session *key* is its hash, safe to show (pages, API, CLI) and to send
    back to end that session.
    """
    return hashlib.sha256(session_id.encode()).hexdigest()


def valid_session_key(value: object) -> bool:
    """Whether ``value`` has the form of a session key (64 hex characters)."""
    return isinstance(value, str) and _SESSION_KEY.fullmatch(value) is not None


@dataclass(frozen=True)
class CookieClaims:
    session_id: str
    email: str

    @property
    def key(self) -> str:
        return session_key(self.session_id)


@dataclass(frozen=True)
class SessionRecord:
    key: str
    uid: str
    email: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    auth_time: datetime
    auth_checked_at: datetime
    ip: str = ""
    user_agent: str = ""
    ended_at: datetime | None = None
    ended_reason: str | None = None
    # How gate 1 was passed: Firebase's sign_in_provider ("google.com"), and
    # Firebase's own second factor ("phone", "totp") when the project uses
    # Identity Platform MFA. ACCEPT_FIREBASE_SECOND_FACTOR decides whether
    # the latter counts as the admin's second factor.
    sign_in_provider: str = ""
    firebase_second_factor: str | None = None
    # -- the second factor (adminapp/services/mfa/) --------------
    # Kept apart from the fields above: the guard reads them with the
    # record, so a second factor costs no read of its own.
    # Waiting for the second factor: only its pages and sign-out open.
    mfa_pending: bool = False
    # The kind of factor that opened this full session ("totp", "passkey",
    # "recovery_codes"), and when; None for a session that never proved one.
    mfa_factor: str | None = None
    mfa_verified_at: datetime | None = None
    # The last second-factor proof (sign-in or step-up), for STEP_UP_MINUTES.
    mfa_step_up_at: datetime | None = None
    # Wrong codes in this session; at MAX_FAILURES the session is ended.
    mfa_failures: int = 0
    # The WebAuthn challenge issued to this session (base64url), single use.
    mfa_challenge: str | None = None
    mfa_challenge_at: datetime | None = None
    # The record's update time when read (not stored): see stage_end_once.
    version: datetime | None = None

    @property
    def proved_at(self) -> datetime | None:
        """When this session last proved a second factor."""
        return self.mfa_step_up_at or self.mfa_verified_at

    def to_document(self) -> dict:
        return {
            "uid": self.uid,
            "email": self.email,
            "created_at": self.created_at,
            "last_seen_at": self.last_seen_at,
            "expires_at": self.expires_at,
            "auth_time": self.auth_time,
            "auth_checked_at": self.auth_checked_at,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "ended_at": self.ended_at,
            "ended_reason": self.ended_reason,
            "sign_in_provider": self.sign_in_provider,
            "firebase_second_factor": self.firebase_second_factor,
            "mfa_pending": self.mfa_pending,
            "mfa_factor": self.mfa_factor,
            "mfa_verified_at": self.mfa_verified_at,
            "mfa_step_up_at": self.mfa_step_up_at,
            "mfa_failures": self.mfa_failures,
            "mfa_challenge": self.mfa_challenge,
            "mfa_challenge_at": self.mfa_challenge_at,
            # Queryable flag for "open sessions of this admin": Firestore
            # cannot filter on a missing or null field the same way everywhere.
            "active": self.ended_at is None,
        }

    def why_over(self, now: datetime, idle_timeout: timedelta) -> str | None:
        """Why this session no longer opens anything (``session_ended``,
        ``session_expired``, ``session_idle``), or None while it is live."""
        if self.ended_at is not None:
            return "session_ended"
        if now >= self.expires_at:
            return "session_expired"
        if now - self.last_seen_at > idle_timeout:
            return "session_idle"
        return None
