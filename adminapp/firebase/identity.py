"""Everything adminapp says to Firebase Authentication.

ID tokens are verified by the Admin SDK (signature, audience, issuer, expiry,
revocation); on top of that we apply the admin area's own sign-in policy:
the staff's tenant, a recent sign-in, a verified email and an allowed
sign-in provider.

Every call goes through ``backend.auth``: the client of the tenant named by
FIREBASE_TENANT_ID, or the project's own when it is unset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from firebase_admin import auth, tenant_mgt

from ..addresses import (
    DOMAIN_REFUSAL,
    InvalidEmail,
    domain_refusal_params,
    identity_key,
    in_domains,
)
from ..config import Settings
from ..domain.role_rules import RESERVED_CLAIMS
from ..errors import BackendUnavailable, Conflict, Refused
from ..i18n_marks import N_
from ..logs import log_event
from .backend import FirebaseBackend
from .users import SecondFactor, second_factors_of

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class FirebaseIdentity:
    """Who a verified ID token says the caller is."""

    uid: str
    email: str  # the identity key (adminapp/addresses.py): admin documents are keyed by it
    email_verified: bool
    provider: str
    auth_time: datetime
    # Firebase's own second factor of this sign-in ("phone", "totp"), from
    # firebase.sign_in_second_factor; None when there was none. Which
    # enrolment it was: firebase.second_factor_identifier.
    second_factor: str | None = None
    second_factor_id: str | None = None
    # What ROLE_RULES read (adminapp/domain/role_rules.py): the token's custom
    # claims (everything Firebase did not put there itself), and a SAML
    # sign-in's attributes (firebase.sign_in_attributes).
    custom_claims: Mapping = field(default_factory=dict, compare=False)
    sign_in_attributes: Mapping = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class AccountState:
    """What Firebase Auth currently says about a user."""

    disabled: bool
    tokens_valid_after: datetime | None


@dataclass(frozen=True)
class ExistingAccount:
    """A Firebase account that an invitation found already there."""

    uid: str
    # Its sign-in methods: "password", "google.com", "phone", "saml.acme", …
    providers: frozenset[str]


@dataclass(frozen=True)
class TakenBack:
    """What :meth:`Identity.take_back` did to an account."""

    # Firebase's cut-off (``tokens_valid_after``, whole seconds).
    cutoff: datetime
    # How many of Firebase's own second factors were removed from it.
    second_factors_removed: int


class AccountChanged(Conflict):
    """The account went away while we were working on it."""

    code = "account_changed"

    def __init__(self):
        super().__init__(N_("The Firebase account changed while we worked on it. Try again."))


class SignInRefused(Refused):
    """The caller is not let in: 401 when who they are is not established,
    403 when it is and they may not enter. ``code`` goes to logs and the
    audit trail, ``message`` to the person."""

    status = 401

    def __init__(
        self, code: str, message: str, status: int | None = None, params: dict | None = None
    ):
        super().__init__(message, code=code, status=status, params=params)


INVALID_TOKEN = N_("The sign-in token is not valid. Sign in again.")


def _wrong_tenant() -> SignInRefused:
    return SignInRefused(
        "wrong_tenant",
        N_(
            "This account belongs to another set of users of this Firebase project "
            "(another tenant); only staff accounts can sign in to the admin area."
        ),
        403,
    )


def _mapping(value: object) -> Mapping:
    # Firebase sends a map; anything else matches no rule.
    return value if isinstance(value, dict) else {}


class Identity:
    def __init__(self, backend: FirebaseBackend, settings: Settings, clock: Clock):
        self._backend = backend
        self._settings = settings
        self._clock = clock

    def verify_sign_in(self, id_token: str) -> FirebaseIdentity:
        """Verify a token presented to open a session: it must also come from
        a sign-in made in the last few minutes, so that a token stolen from
        an old browser tab cannot open a new session."""
        identity = self.verify(id_token)
        age = self._clock() - identity.auth_time
        if age > self._settings.recent_sign_in:
            raise SignInRefused(
                "stale_sign_in", N_("Your sign-in is too old. Sign in again with your password.")
            )
        return identity

    def verify(self, id_token: str) -> FirebaseIdentity:
        """Verify an ID token (one Firebase Auth round trip for the revocation
        check) and apply the admin sign-in policy."""
        claims = self._verified_claims(id_token)
        if not claims.get("email"):
            raise SignInRefused(
                "no_email", N_("This account has no email address; admin accounts need one."), 403
            )
        try:
            email = identity_key(claims["email"])
        except InvalidEmail:
            # Firebase accepts addresses we refuse to key an admin by (a
            # leading space, "/", …): such an account is never an admin.
            raise SignInRefused(
                "invalid_email",
                N_("This account's email address is not a plain address; it cannot be an admin."),
                403,
            ) from None
        firebase = claims.get("firebase") or {}
        provider = str(firebase.get("sign_in_provider") or "")
        if provider not in self._settings.allowed_sign_in_providers:
            raise SignInRefused(
                "provider_not_allowed",
                N_("This sign-in method is not allowed for the admin area."),
                403,
            )
        verified = claims.get("email_verified") is True
        if self._settings.require_email_verified and not verified:
            if provider not in self._settings.trust_unverified_email_providers:
                raise SignInRefused(
                    "email_unverified",
                    N_("Verify your email address before signing in to the admin area."),
                    403,
                )
            # TRUST_UNVERIFIED_EMAIL_PROVIDERS: an IdP that never sends
            # email_verified; named in the log each time it is relied on.
            log_event("unverified_email_trusted", provider=provider, actor=email)
        if not in_domains(email, self._settings.allowed_email_domains):
            raise SignInRefused(
                "email_domain_not_allowed",
                DOMAIN_REFUSAL,
                403,
                params=domain_refusal_params(self._settings.allowed_email_domains),
            )
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
            raise SignInRefused("invalid_token", INVALID_TOKEN)
        return FirebaseIdentity(
            uid=claims["uid"],
            email=email,
            email_verified=verified,
            provider=provider,
            auth_time=datetime.fromtimestamp(auth_time, UTC),
            second_factor=str(firebase.get("sign_in_second_factor") or "") or None,
            second_factor_id=str(firebase.get("second_factor_identifier") or "") or None,
            custom_claims={
                name: value for name, value in claims.items() if name not in RESERVED_CLAIMS
            },
            sign_in_attributes=_mapping(firebase.get("sign_in_attributes")),
        )

    def _verified_claims(self, id_token: str) -> dict:
        invalid = SignInRefused("invalid_token", INVALID_TOKEN)
        client = self._backend.auth
        try:
            with self._backend.auth_call("verify_id_token"):
                # Identity Platform tenants share the project's aud and iss:
                # only the firebase.tenant claim tells their tokens apart, and
                # the project's client does not read it. Check it before the
                # revocation check, which looks the uid up among *our* users
                # and would find an unrelated account that has the same uid.
                self._refuse_other_tenants(client.verify_id_token(id_token))
                return client.verify_id_token(id_token, check_revoked=True)
        except tenant_mgt.TenantIdMismatchError:
            # A tenant's client refuses other tenants' and project-level tokens.
            raise _wrong_tenant() from None
        # The specific errors subclass InvalidIdTokenError, so they come first.
        except auth.ExpiredIdTokenError:
            raise SignInRefused(
                "expired_token", N_("Your sign-in has expired. Sign in again.")
            ) from None
        except auth.RevokedIdTokenError:
            raise SignInRefused(
                "revoked_token", N_("This sign-in was revoked. Sign in again.")
            ) from None
        except auth.UserDisabledError:
            raise SignInRefused("user_disabled", N_("This account is disabled."), 403) from None
        except auth.UserNotFoundError:
            raise SignInRefused("user_not_found", N_("This account no longer exists.")) from None
        except (auth.InvalidIdTokenError, ValueError):
            raise invalid from None

    def _refuse_other_tenants(self, claims: dict) -> None:
        tenant = (claims.get("firebase") or {}).get("tenant") or ""
        if tenant != self._settings.tenant_id:
            raise _wrong_tenant()

    def account_state(self, uid: str) -> AccountState | None:
        """The user's current standing, or None when the account is gone."""
        try:
            with self._backend.auth_call("get_user"):
                user = self._backend.auth.get_user(uid)
        except auth.UserNotFoundError:
            return None
        valid_after = user.tokens_valid_after_timestamp
        return AccountState(
            disabled=user.disabled,
            tokens_valid_after=(
                datetime.fromtimestamp(valid_after / 1000, UTC) if valid_after else None
            ),
        )

    def second_factors(self, uid: str) -> tuple[SecondFactor, ...]:
        """The enrolments of Firebase's own multi-factor authentication on a
        staff account (none when the account is gone)."""
        try:
            with self._backend.auth_call("get_user"):
                user = self._backend.auth.get_user(uid)
        except auth.UserNotFoundError:
            return ()
        return second_factors_of(user)

    def revoke_refresh_tokens(self, uid: str) -> None:
        """Sign the user out of Firebase everywhere."""
        with self._backend.auth_call("revoke_refresh_tokens"):
            self._backend.auth.revoke_refresh_tokens(uid)

    def ensure_user(self, email: str, password: str | None = None) -> tuple[str, bool]:
        """The uid of the Firebase user with this email, created when there is
        none. Returns ``(uid, created)``; an existing user is left alone.

        A created user's email is marked verified: only the owner of the
        address can use it, because the password is set from a link sent
        there (or given by the operator on the command line).
        """
        try:
            with self._backend.auth_call("get_user_by_email"):
                return self._backend.auth.get_user_by_email(email).uid, False
        except auth.UserNotFoundError:
            pass
        fields = {"email": email, "email_verified": True}
        if password is not None:
            fields["password"] = password
        with self._backend.auth_call("create_user"):
            user = self._backend.auth.create_user(**fields)
        return user.uid, True

    def existing_account(self, email: str) -> ExistingAccount | None:
        """The Firebase account with this email and its sign-in methods, if
        there is one."""
        try:
            with self._backend.auth_call("get_user_by_email"):
                user = self._backend.auth.get_user_by_email(email)
        except auth.UserNotFoundError:
            return None
        return ExistingAccount(
            uid=user.uid, providers=frozenset(info.provider_id for info in user.provider_data)
        )

    def take_back(self, uid: str, *, new_password: str | None) -> TakenBack:
        """End every sign-in an account had, remove the second factors
        enrolled on it in Firebase, and replace its password with
        ``new_password`` (None leaves an account without one as it is).
        Revoking the refresh tokens also makes Firebase refuse, for any change
        to the account, the ID tokens issued before now. The cut-off returned
        is Firebase's own (``tokens_valid_after``, whole seconds): a sign-in
        after it came from someone who knows the new password or signed in
        with one of the account's providers since.

        The factors go because whoever made the account chose them: a phone
        of theirs, kept, would be asked for a code at the invitee's first
        sign-in and lock the invitee out (the app does not trust such an
        enrolment either: services/mfa/firebase_factors.py)."""
        try:
            enrolled = self.second_factors(uid)
            if enrolled:
                self._remove_second_factors(uid)
            if new_password is not None:
                with self._backend.auth_call("update_user"):
                    self._backend.auth.update_user(uid, password=new_password)
            self.revoke_refresh_tokens(uid)
        except auth.UserNotFoundError:
            raise AccountChanged() from None
        state = self.account_state(uid)
        if state is None:
            raise AccountChanged()
        if state.tokens_valid_after is None:
            # Never guess a cut-off that could let an earlier sign-in count.
            raise BackendUnavailable("Firebase Authentication", "no tokens_valid_after")
        return TakenBack(state.tokens_valid_after, len(enrolled))

    def _remove_second_factors(self, uid: str) -> None:
        # firebase-admin 7.7's update_user has no multi-factor argument (the
        # Node SDK's multiFactor: {enrolledFactors: null}); the request it
        # would send is accounts:update with an empty ``mfa``, made here
        # through the SDK's own authorised, timed-out client for the same
        # project or tenant.
        with self._backend.auth_call("update_user"):
            self._backend.auth._user_manager._make_request(
                "post", "/accounts:update", json={"localId": uid, "mfa": {}}
            )

    def uid_for(self, email: str) -> str | None:
        """The uid of the Firebase user with this email, if there is one."""
        try:
            with self._backend.auth_call("get_user_by_email"):
                return self._backend.auth.get_user_by_email(email).uid
        except auth.UserNotFoundError:
            return None
