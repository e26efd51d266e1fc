"""The product's end users in Firebase Authentication, for the users console.

Every call is one Admin SDK call inside ``backend.auth_call`` (timeout, no
retries, :class:`BackendUnavailable` when Firebase does not answer). Firebase's
own refusals become refusals of the one family in ``adminapp.errors``: an
unknown user is :class:`UserNotFound`, a malformed uid, email, phone number,
page token or claims payload is :class:`InvalidInput`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from firebase_admin import auth, exceptions

from ..domain.end_users import (
    MAX_PAGE_SIZE,
    MAX_PAGE_TOKEN_LENGTH,
    EndUser,
    SecondFactor,
    UserNotFound,
    UsersPage,
)
from ..errors import InvalidInput
from ..i18n_marks import N_
from .backend import FirebaseBackend


def _time(milliseconds) -> datetime | None:
    return datetime.fromtimestamp(milliseconds / 1000, UTC) if milliseconds else None


def second_factors_of(user: auth.UserRecord) -> tuple[SecondFactor, ...]:
    # firebase-admin 7.7 does not expose enrolled factors on UserRecord; the
    # REST answer it wraps has them as ``mfaInfo`` (accounts:lookup).
    raw = getattr(user, "_data", {}).get("mfaInfo") or []
    return tuple(
        SecondFactor(
            factor_id="totp" if "totpInfo" in item else "phone",
            display_name=item.get("displayName"),
            phone=item.get("phoneInfo"),
            enrolled_at=item.get("enrolledAt"),
            enrolment_id=str(item.get("mfaEnrollmentId") or ""),
        )
        for item in raw
    )


def end_user(user: auth.UserRecord) -> EndUser:
    return EndUser(
        uid=user.uid,
        email=user.email,
        email_verified=bool(user.email_verified),
        display_name=user.display_name,
        phone=user.phone_number,
        providers=tuple(info.provider_id for info in user.provider_data),
        created_at=_time(user.user_metadata.creation_timestamp),
        last_sign_in_at=_time(user.user_metadata.last_sign_in_timestamp),
        tokens_valid_after=_time(user.tokens_valid_after_timestamp),
        disabled=bool(user.disabled),
        custom_claims=dict(user.custom_claims or {}),
        second_factors=second_factors_of(user),
    )


class FirebaseUsers:
    def __init__(self, backend: FirebaseBackend):
        self._backend = backend

    @contextmanager
    def _call(self, what: str, key: str) -> Iterator[None]:
        """One Auth call, with Firebase's refusals turned into ours."""
        try:
            with self._backend.auth_call(what):
                yield
        except auth.UserNotFoundError:
            raise UserNotFound(key) from None
        except ValueError as error:
            # The SDK checks arguments before calling: a malformed uid,
            # email, phone number, page token or claims payload.
            raise InvalidInput(str(error)) from None
        except exceptions.InvalidArgumentError as error:
            raise InvalidInput(
                N_("Firebase refused this: %(error)s"), params={"error": error}
            ) from None

    def get_user(self, uid: str) -> EndUser:
        with self._call("get_user", uid):
            return end_user(auth.get_user(uid, app=self._backend.app))

    def get_user_by_email(self, email: str) -> EndUser:
        with self._call("get_user_by_email", email):
            return end_user(auth.get_user_by_email(email, app=self._backend.app))

    def get_user_by_phone(self, phone: str) -> EndUser:
        with self._call("get_user_by_phone_number", phone):
            return end_user(auth.get_user_by_phone_number(phone, app=self._backend.app))

    def list_users(self, token: str | None, size: int) -> UsersPage:
        if token is not None and not 0 < len(token) <= MAX_PAGE_TOKEN_LENGTH:
            raise InvalidInput(N_("That page link is not valid; start from the first page."))
        with self._call("list_users", "(list)"):
            page = auth.list_users(
                page_token=token, max_results=min(size, MAX_PAGE_SIZE), app=self._backend.app
            )
        return UsersPage(
            users=[end_user(user) for user in page.users], next_token=page.next_page_token or None
        )

    def set_disabled(self, uid: str, disabled: bool) -> None:
        with self._call("update_user", uid):
            auth.update_user(uid, disabled=disabled, app=self._backend.app)

    def mark_email_verified(self, uid: str) -> None:
        with self._call("update_user", uid):
            auth.update_user(uid, email_verified=True, app=self._backend.app)

    def revoke_refresh_tokens(self, uid: str) -> None:
        with self._call("revoke_refresh_tokens", uid):
            auth.revoke_refresh_tokens(uid, app=self._backend.app)

    def set_custom_user_claims(self, uid: str, claims: dict) -> None:
        with self._call("set_custom_user_claims", uid):
            auth.set_custom_user_claims(uid, claims or None, app=self._backend.app)

    def delete_user(self, uid: str) -> None:
        with self._call("delete_user", uid):
            auth.delete_user(uid, app=self._backend.app)
