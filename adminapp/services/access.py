"""Opening, resuming and ending admin sessions: the second gate's rules.

The views and the guard call this module; it calls the identity, directory,
session and audit services, which call Firebase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..client import Client
from ..config import Settings
from ..domain.admins import ActingAbove, Admin
from ..domain.permissions import SESSIONS_END_OTHERS, SESSIONS_READ_OTHERS
from ..domain.role_rules import RoleRule, first_match
from ..domain.roles import RoleBook
from ..domain.sessions import CookieClaims, SessionRecord, valid_session_key
from ..errors import Forbidden, NotFound, NotSignedIn
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.backend import FirebaseBackend
from ..firebase.identity import FirebaseIdentity, Identity, SignInRefused
from ..firebase.sessions import SessionStore
from ..i18n_marks import N_
from ..logs import log_event
from .mfa.firebase_factors import FirebaseFactors
from .mfa.stages import Proof, Stage, second_factor_due, stage_of

if TYPE_CHECKING:  # services/roles.py imports what imports this module
    from .roles import RoleAdministration

NOT_ADMIN = N_("This account is not an admin of this site.")
UID_MISMATCH = N_(
    "This admin already signs in with another Firebase account that has the same "
    "email address (another sign-in method, or an account deleted and re-created). "
    "Sign in the way you did before. To use this way too, the site's operator can turn on "
    "“Link accounts that use the same email” in the Firebase console (Authentication > "
    "Settings > User account linking), or an owner can remove and re-invite this admin."
)


class SessionNotFound(NotFound):
    """No open session with that key (that this admin may see)."""

    def __init__(self):
        super().__init__(N_("That session does not exist or has already ended."))


class AccessRefused(NotSignedIn):
    """A session cookie no longer opens the admin area.

    403 means the person is known but may not enter; 401 that they are
    treated as signed out (the login page, for a browser).
    """

    def __init__(
        self, code: str, message: str, *, forbidden: bool = False, params: dict | None = None
    ):
        super().__init__(message, code=code, status=403 if forbidden else None, params=params)

    @property
    def forbidden(self) -> bool:
        return self.status == 403


class BearerNeedsSecondFactor(NotSignedIn):
    """A bearer token from a password-only sign-in, for a role that needs a
    second factor: not enough to open the API."""

    code = "second_factor_required"


BEARER_SECOND_FACTOR = N_(
    "This role needs a second factor: an ID token from a password alone does not open "
    "the API. Sign in with a Firebase second factor that is trusted for this account "
    "(where the site accepts them), or have an operator mark this account as a service "
    "account (flask admins set-service-account)."
)


@dataclass(frozen=True)
class SignedIn:
    claims: CookieClaims
    session: SessionRecord


@dataclass(frozen=True)
class Resumed:
    """Who is making a guarded request. ``session`` is None for API calls
    authenticated with a Firebase ID token instead of a session cookie.
    ``proof`` is their last second-factor proof, for step-up."""

    session: SessionRecord | None
    admin: Admin
    proof: Proof


SIGNED_OUT = N_("Your session has ended. Sign in again.")
SIGN_IN_AGAIN = N_("Your role now needs a second factor. Sign in again.")
# What a person reads when their session is over, by SessionRecord.why_over.
_OVER = {
    "session_ended": SIGNED_OUT,
    "session_expired": SIGNED_OUT,
    "session_idle": N_("You were signed out after a period of inactivity."),
}


def admission_refusal(admin: Admin | None, uid: str, *, in_session: bool) -> SignInRefused | None:
    """Who may enter, decided once for sign-in, bearer calls and every
    guarded request: an enabled admin document, bound to this Firebase uid
    (or not bound yet). ``in_session`` names a missing document
    ``admin_removed`` (it existed when the session opened)."""
    if admin is None:
        return SignInRefused("admin_removed" if in_session else "not_admin", NOT_ADMIN, 403)
    if admin.disabled:
        return SignInRefused("admin_disabled", N_("This admin account is disabled."), 403)
    if admin.uid is not None and admin.uid != uid:
        # The email now belongs to a different Firebase account than the one
        # this admin first signed in with: deleted and re-created, or another
        # provider in a project that keeps one account per provider.
        return SignInRefused("uid_mismatch", UID_MISMATCH, 403)
    return None


INVITED_SIGN_IN_METHOD = N_(
    "This invitation is for signing in with %(provider)s. Sign in that way the first time."
)
ROLE_DROPPED = N_(
    "Your organisation no longer gives this account a role here (no sign-in rule matches "
    "it any more), so it is no longer an admin of this site."
)
RULE_ROLE_MISSING = N_(
    "A sign-in rule of this site gives this account the role %(role)s, which this site does "
    "not have. Ask an owner of this site to create that role, or to correct the sign-in "
    "rules (ROLE_RULES)."
)
SIGN_IN_BEFORE_INVITATION = N_(
    "This Firebase account existed before the invitation, and this sign-in is not newer "
    "than it. Sign in again; for a password, first set one with the link in the invitation "
    "email (or “Forgot your password?”)."
)


class RuleRoleMissing(SignInRefused):
    """A ROLE_RULES rule names a custom role that does not exist."""

    def __init__(self, rule: RoleRule):
        super().__init__("rule_role_missing", RULE_ROLE_MISSING, 403, params={"role": rule.role})
        self.rule = rule

    @property
    def detail(self) -> str:
        """For the trail and the log (never the person): which rule."""
        return f"{self.code}: {self.rule.describe()}"


def rule_role_refusal(rule: RoleRule, book: RoleBook) -> RuleRoleMissing | None:
    """Refuse a role a ROLE_RULES rule names that is neither built in nor one
    of the custom roles read with the admin document (never created, or
    gone): start-up could check only the name. Fail closed: no admin is
    made and no role given, at a sign-in or a bearer call alike."""
    return None if book.known(rule.role) else RuleRoleMissing(rule)


def with_role(admin: Admin, role: str, book: RoleBook) -> Admin:
    """``admin`` holding ``role`` (known to ``book``), with the custom role's
    permissions when it is one, as the guard would read it back."""
    return replace(admin, role=role, granted=book.permissions_of(role))


def first_sign_in_refusal(admin: Admin, identity: FirebaseIdentity) -> SignInRefused | None:
    """What the invitation asks of the first sign-in, the one that binds the
    admin document to a Firebase uid (sign-in and bearer alike): the invited
    sign-in method, and, when the invitation took back an account that was
    already there, a sign-in strictly after the account's revocation time.
    Both are Firebase's clock (``auth_time`` and ``tokens_valid_after``, whole
    seconds). After the cut-off the account's old password no longer works
    and Firebase refuses older ID tokens for any change to the account, so a
    password sign-in after it comes from someone who set a password since:
    the emailed link, the mailbox's owner. A bound document is past this."""
    if admin.uid is not None:
        return None
    invited = admin.invited_provider
    if invited is not None and identity.provider != invited:
        return SignInRefused(
            "invited_sign_in_method", INVITED_SIGN_IN_METHOD, 403, params={"provider": invited}
        )
    after = admin.first_sign_in_after
    if after is not None and identity.auth_time <= after:
        return SignInRefused("sign_in_before_invitation", SIGN_IN_BEFORE_INVITATION, 403)
    return None


@dataclass(frozen=True, kw_only=True)
class Access:
    backend: FirebaseBackend
    identity: Identity
    directory: AdminDirectory
    sessions: SessionStore
    audit: AuditTrail
    firebase_factors: FirebaseFactors
    roles: RoleAdministration
    settings: Settings
    clock: Callable[[], datetime]

    # -- sign-in -------------------------------------------------------------

    def sign_in(self, id_token: str, client: Client) -> SignedIn:
        """Exchange a Firebase ID token for a new admin session.

        Costs one Firebase Auth round trip (verification with the revocation
        check) and two Firestore round trips: read the admin document, then
        one batch with the session, the uid binding and the audit entry.
        ROLE_RULES add no round trip: a rule's new admin or new role goes in
        that batch; only dropping a rule-made admin costs more (their
        sessions are listed and ended).
        """
        identity = self._verified(self.identity.verify_sign_in, id_token, client, "sign_in")
        return self.admit(identity, client)

    def admit(self, identity: FirebaseIdentity, client: Client) -> SignedIn:
        """The sign-in after the ID token's verification: who may enter, and
        the new session. Only for an identity that a verified token gave
        (:meth:`sign_in`), or one that a test made up for an account it
        created (adminapp/testing/opened_sessions.py)."""
        # The custom roles come in the same batched read: a rule may name one.
        admin, book = self.directory.get_with_roles(identity.email)
        rule = self._rule_for(identity)
        if admin is None and rule is not None:
            return self._sign_in_just_in_time(identity, rule, book, client)
        refusal = admission_refusal(admin, identity.uid, in_session=False) or (
            first_sign_in_refusal(admin, identity)
        )
        if refusal is None and admin.managed_by_rule and rule is None:
            raise self._drop_by_rule(admin, client, auth="sign_in")
        rule_role = self._rule_role_change(admin, rule) if refusal is None else None
        if rule_role is not None:
            refusal = rule_role_refusal(rule, book)
        batch = self.audit.batch()
        if refusal is not None:
            self._refuse_sign_in(batch, identity, refusal, client)
        # Firebase's own second factor counts only under the one rule
        # (services/mfa/firebase_factors.py), which refuses, audits and
        # emails for an enrolment nobody approved.
        factor = self.firebase_factors.counted(identity, admin, client)
        now = self.clock()
        # The conditional write first. Firestore commits a batch atomically
        # whatever its order; the local emulator applies writes one by one,
        # and this order lets it, too, write nothing when the condition fails.
        self.directory.stage_sign_in(batch, admin, identity.uid, now, rule_role=rule_role)
        if rule_role is not None:
            self._stage_role_change_by_rule(batch, admin, rule, client)
            admin = with_role(admin, rule_role, book)
        pending = second_factor_due(admin, self.settings) and factor is None
        claims, session = self._stage_session(batch, identity, client, now, pending, factor)
        self._commit_sign_in(batch, "sign-in")
        if rule_role is not None:
            self.sessions.forget_admin(admin.email)
        return SignedIn(claims=claims, session=session)

    def _refuse_sign_in(self, batch, identity, refusal: SignInRefused, client: Client):
        """Audit a refused sign-in (the security log has it once committed),
        with nothing else in the batch, and raise the refusal."""
        # The operator's clue for a missing role: which rule names it.
        reason = refusal.detail if isinstance(refusal, RuleRoleMissing) else refusal.code
        self.audit.stage(
            batch, "sign_in", actor=identity.email, outcome="refused", reason=reason, client=client
        )
        self.backend.commit(batch, "refused sign-in")
        raise refusal

    def _stage_session(self, batch, identity, client, now, pending, factor):
        """The new session and the sign-in's audit entry, in the caller's batch."""
        # Gate 2's second factor: the session waits for it, and only its
        # pages open (services/mfa/stages.py names the stages). A trusted
        # Firebase factor proved it at gate 1: the admin is not asked twice.
        claims, session = self.sessions.stage_open(
            batch,
            uid=identity.uid,
            email=identity.email,
            auth_time=identity.auth_time,
            client=client,
            now=now,
            sign_in_provider=identity.provider,
            firebase_second_factor=identity.second_factor,
            pending=pending,
            factor=factor,
        )
        self.audit.stage(
            batch,
            "sign_in",
            actor=identity.email,
            reason="second_factor_pending" if pending else factor,
            client=client,
        )
        return claims, session

    # -- roles from the identity provider (ROLE_RULES) -----------------------
    #
    # Evaluated where a fresh, verified ID token is at hand: the exchange and
    # every bearer call. A cookie request carries no token, so the guard's
    # hot path does not change; a claim taken away takes effect at the next
    # token verification (docs/role-rules.md says how to make it sooner).

    def _rule_for(self, identity: FirebaseIdentity) -> RoleRule | None:
        return first_match(
            self.settings.role_rules, identity.custom_claims, identity.sign_in_attributes
        )

    @staticmethod
    def _rule_role_change(admin: Admin, rule: RoleRule | None) -> str | None:
        """The role a rule now gives a rule-made admin, when it differs.
        Admins added by hand (or whose role an owner set) are the operator's."""
        if admin.managed_by_rule and rule is not None and rule.role != admin.role:
            return rule.role
        return None

    def _sign_in_just_in_time(
        self, identity: FirebaseIdentity, rule: RoleRule, book: RoleBook, client: Client
    ) -> SignedIn:
        """A first sign-in that a rule admits: the admin document, the
        pending session and both audit entries in one batch. The new admin
        has no factor yet, so the session waits for one to be enrolled
        (start-up refuses a rule whose role needs none). Firebase's own
        second factor is not looked at: no enrolment of theirs is trusted yet.
        A custom role the rule names that does not exist makes nothing."""
        now = self.clock()
        batch = self.audit.batch()
        refusal = rule_role_refusal(rule, book)
        if refusal is not None:
            self._refuse_sign_in(batch, identity, refusal, client)
        admin = self.directory.stage_create_by_rule(
            batch,
            identity.email,
            rule.role,
            identity.uid,
            now,
            granted=book.permissions_of(rule.role),
        )
        self._stage_rule_event(batch, "admin_created_by_rule", admin, rule.describe(), client)
        pending = second_factor_due(admin, self.settings)
        claims, session = self._stage_session(batch, identity, client, now, pending, None)
        # If an owner invited them (or another sign-in made the document)
        # between our read and our write, nothing of ours is written.
        self._commit_sign_in(batch, "sign-in by a role rule")
        return SignedIn(claims=claims, session=session)

    def _stage_rule_event(self, batch, event: str, admin: Admin, reason: str, client) -> None:
        """A rule's change to an admin, audited in the change's batch: the
        person whose token it read is the actor and the target."""
        self.audit.stage(
            batch,
            event,
            actor=admin.email,
            target=admin.email,
            target_uid=admin.uid,
            reason=reason,
            client=client,
        )

    def _stage_role_change_by_rule(
        self, batch, admin: Admin, rule: RoleRule, client: Client
    ) -> None:
        reason = f"{admin.role} -> {rule.role}: {rule.describe()}"
        self._stage_rule_event(batch, "admin_role_changed_by_rule", admin, reason, client)

    def _drop_by_rule(self, admin: Admin, client: Client, *, auth: str) -> SignInRefused:
        """No rule matches a rule-made admin any more: the admin document
        goes (audited with the role it had), then every session of theirs
        ends. Returns the refusal for this sign-in or call. A disabled one is
        never here: admission refuses it first, and the owner's choice stays."""
        batch = self.audit.batch()
        self.directory.stage_remove_by_rule(batch, admin)
        reason = f"{admin.role}: no rule matches ({auth})"
        self._stage_rule_event(batch, "admin_role_dropped_by_rule", admin, reason, client)
        if auth == "sign_in":
            self.audit.stage(
                batch,
                "sign_in",
                actor=admin.email,
                outcome="refused",
                reason="role_dropped_by_rule",
                client=client,
            )
        self._commit_sign_in(batch, "drop a rule-made admin")
        self.end_sessions(admin.email, "role_dropped_by_rule", actor=admin.email, client=client)
        return SignInRefused("role_dropped_by_rule", ROLE_DROPPED, 403)

    def authenticate_bearer(self, id_token: str, client: Client) -> Resumed:
        """An API call made with a Firebase ID token rather than a session
        (scripts and services have no browser to carry a cookie).

        The same checks as a sign-in, except the recent-sign-in rule: an ID
        token lives one hour and a script refreshes it without a password.
        Costs one Firebase Auth and one Firestore round trip.

        A password alone opens no session, so it opens no API either: for a
        role in MFA_REQUIRED_ROLES the token must carry a Firebase second
        factor that counts under the one rule (ACCEPT_FIREBASE_SECOND_FACTOR
        and a trusted enrolment: services/mfa/firebase_factors.py), or the
        admin must be marked as a service account (``flask admins
        set-service-account``). The proof returned decides step-up for
        writes: the token's sign-in time when its factor counts; always
        fresh for a service account, which an operator vouched for.
        """
        identity = self._verified(
            self.identity.verify, id_token, client, "access_refused", auth="bearer"
        )
        admin, book = self.directory.get_with_roles(identity.email)
        # No admin is made here: a just-in-time admin enrols a second factor
        # on the login page first, and a bearer call has no page to do it on.
        refusal = admission_refusal(admin, identity.uid, in_session=False) or (
            first_sign_in_refusal(admin, identity)
        )
        rule = self._rule_for(identity) if refusal is None and admin.managed_by_rule else None
        if refusal is None and admin.managed_by_rule and rule is None:
            refusal = self._drop_by_rule(admin, client, auth="bearer")
        rule_role = self._rule_role_change(admin, rule) if refusal is None else None
        if rule_role is not None:
            refusal = rule_role_refusal(rule, book)
        if refusal is not None:
            log_event(
                "access_refused",
                auth="bearer",
                actor=identity.email,
                reason=refusal.detail if isinstance(refusal, RuleRoleMissing) else refusal.code,
                ip=client.ip,
            )
            raise refusal
        target = with_role(admin, rule_role, book) if rule_role is not None else admin
        factor = self.firebase_factors.counted(identity, admin, client)
        if (
            second_factor_due(target, self.settings)
            and factor is None
            and not admin.service_account
        ):
            log_event(
                "access_refused",
                auth="bearer",
                actor=identity.email,
                reason="second_factor_required",
                ip=client.ip,
            )
            raise BearerNeedsSecondFactor(BEARER_SECOND_FACTOR)
        if admin.uid is None or rule_role is not None:
            batch = self.audit.batch()
            self.directory.stage_sign_in(
                batch, admin, identity.uid, self.clock(), rule_role=rule_role
            )
            if rule_role is not None:
                self._stage_role_change_by_rule(batch, admin, rule, client)
            self._commit_sign_in(batch, "bind admin uid")
            if rule_role is not None:
                self.sessions.forget_admin(admin.email)
                admin = target
        proof = Proof(at=identity.auth_time if factor else None, standing=admin.service_account)
        return Resumed(session=None, admin=admin, proof=proof)

    def _commit_sign_in(self, batch, what: str) -> None:
        # Between our read and our write, another sign-in bound this admin
        # to a uid, an owner removed or changed the admin, or (a rule's
        # first sign-in) invited them.
        lost_race = SignInRefused(
            "uid_conflict", N_("Sign-in could not be completed. Sign in again."), 409
        )
        self.backend.commit(batch, what, lost_race=lost_race)

    @staticmethod
    def _verified(verify, id_token: str, client: Client, event: str, **log_fields):
        """The verified identity, or the refusal, logged: we do not know who
        this is, so nothing is written."""
        try:
            return verify(id_token)
        except SignInRefused as refusal:
            log_event(event, outcome="refused", reason=refusal.code, ip=client.ip, **log_fields)
            raise

    # -- every guarded request -----------------------------------------------

    def resume(self, claims: CookieClaims, client: Client) -> Resumed:
        """Check a session on a guarded request: one Firestore round trip (none
        on a session cache hit), plus a write at most every few minutes to
        record activity."""
        session, admin = self.sessions.load(claims)
        now = self.clock()
        if session is None or session.email != claims.email:
            raise self._refuse("unknown_session", SIGNED_OUT, client)
        over = session.why_over(now, self.settings.session_idle_timeout)
        if over is not None:
            raise self._refuse(over, _OVER[over], client, actor=session.email)
        refusal = admission_refusal(admin, session.uid, in_session=True)
        if refusal is not None:
            raise self._refuse(
                refusal.code,
                refusal.template,
                client,
                end=session,
                forbidden=True,
                params=refusal.params,
            )
        if stage_of(session, admin, self.settings) is Stage.SIGN_IN_AGAIN:
            # A full session that never proved a second factor, for a role
            # that now needs one (opened before MFA_REQUIRED_ROLES named it).
            raise self._refuse("second_factor_required", SIGN_IN_AGAIN, client, end=session)
        self._keep_alive(session, now, client)
        return Resumed(session=session, admin=admin, proof=Proof.of_session(session))

    def _refuse(
        self,
        reason: str,
        message: str,
        client: Client,
        *,
        actor: str | None = None,
        end: SessionRecord | None = None,
        forbidden: bool = False,
        params: dict | None = None,
    ) -> AccessRefused:
        """Record a refusal at the guard. A live session of a known admin is
        ended and audited; a dead or unknown one is only logged."""
        if end is None:
            log_event("access_refused", actor=actor, reason=reason, ip=client.ip)
        else:
            batch = self.audit.batch()
            self.sessions.stage_end(batch, end.key, reason)
            self.audit.stage(
                batch,
                "access_refused",
                actor=end.email,
                outcome="refused",
                reason=reason,
                client=client,
            )
            self.backend.commit(batch, "end refused session")
        return AccessRefused(reason, message, forbidden=forbidden, params=params)

    def _keep_alive(self, session: SessionRecord, now: datetime, client: Client) -> None:
        """Re-check the Firebase account now and then, and record activity
        (sliding idle timeout) without a write on every request."""
        recheck_due = now - session.auth_checked_at >= self.settings.auth_recheck_interval
        if recheck_due:
            state = self.identity.account_state(session.uid)
            reason = None
            if state is None:
                reason = "user_deleted"
            elif state.disabled:
                reason = "user_disabled"
            elif state.tokens_valid_after and state.tokens_valid_after > session.auth_time:
                reason = "tokens_revoked"
            if reason:
                raise self._refuse(reason, SIGNED_OUT, client, end=session)
        if recheck_due or now - session.last_seen_at >= self.settings.session_activity_interval:
            self.sessions.record_activity(session, auth_checked=recheck_due)

    # -- sign-out ------------------------------------------------------------

    def sign_out(self, resumed: Resumed, client: Client) -> None:
        batch = self.audit.batch()
        self.sessions.stage_end(batch, resumed.session.key, "signed_out")
        self.audit.stage(batch, "sign_out", actor=resumed.admin.email, client=client)
        self.backend.commit(batch, "sign-out")

    @staticmethod
    def may_see_sessions_of(viewer: Admin, email: str) -> bool:
        """Whose sessions an admin may see: their own, and with
        ``sessions.read_others`` anyone's."""
        return email == viewer.email or viewer.holds(SESSIONS_READ_OTHERS)

    @staticmethod
    def may_end_sessions_of(viewer: Admin, email: str) -> bool:
        """Whose sessions an admin may end: their own, and with
        ``sessions.end_others`` (and sight of them) anyone's."""
        return email == viewer.email or (
            viewer.holds(SESSIONS_END_OTHERS) and viewer.holds(SESSIONS_READ_OTHERS)
        )

    def ends_sessions_of(self, viewer: Admin, email: str) -> bool:
        """Whether :meth:`end_session` would end ``email``'s sessions for
        ``viewer``, so that a page offers only what works: their own, or
        with the permissions, anyone's who holds nothing ``viewer`` does not
        (one read of that admin's document)."""
        if email == viewer.email:
            return True
        if not self.may_end_sessions_of(viewer, email):
            return False
        target = self.directory.get(email)
        return target is None or not self.roles.held_above(target, self.roles.granted_to(viewer))

    def sessions_of(self, viewer: Admin, email: str | None = None) -> list[SessionRecord]:
        """The open sessions of ``email`` (the viewer's own by default), most
        recently active first, if ``viewer`` may see them."""
        email = email or viewer.email
        if not self.may_see_sessions_of(viewer, email):
            raise Forbidden(N_("Only owners can see other admins' sessions."))
        return self.sessions.open_for(email)

    def end_session(
        self, key: str, *, by: Admin | None, client: Client | None, actor: str | None = None
    ) -> SessionRecord:
        """End one open session. ``by`` is the admin asking (they may end what
        :meth:`may_end_sessions_of` allows); None is an operator on the
        command line, who may end any (``actor`` then names them). A session
        they may not see is as good as missing: :class:`SessionNotFound`.
        Nobody ends the session of an admin who holds more than they do
        (:class:`ActingAbove`, audited): with a custom role giving
        ``sessions.end_others``, a lead could otherwise sign an owner out
        again and again."""
        session = self.sessions.get(key) if valid_session_key(key) else None
        if (
            session is None
            or session.ended_at is not None
            or (by is not None and not self.may_end_sessions_of(by, session.email))
        ):
            raise SessionNotFound()
        actor = actor or by.email
        if by is not None and session.email != by.email:
            self._require_not_above(session.email, by, client)
        reason = "ended_by_self" if session.email == actor else "ended_by_owner"
        batch = self.audit.batch()
        self.sessions.stage_end(batch, key, reason)
        self.audit.stage(
            batch, "session_ended", actor=actor, target=session.email, reason=reason, client=client
        )
        self.backend.commit(batch, "end session")
        return session

    def _require_not_above(self, email: str, by: Admin, client: Client | None) -> None:
        target = self.directory.get(email)
        if target is None:  # removed: holds nothing any more
            return
        with self.audit.refusals(
            "session_ended", (ActingAbove,), actor=by.email, target=email, client=client
        ):
            self.roles.require_not_above(target, self.roles.granted_to(by))

    def sign_out_everywhere(self, resumed: Resumed, client: Client) -> int:
        """End every session of this admin, this one included, and revoke the
        Firebase refresh tokens so no other device can mint new ID tokens."""
        ended = self.end_sessions(
            resumed.admin.email, "signed_out_everywhere", actor=resumed.admin.email, client=client
        )
        self.identity.revoke_refresh_tokens(resumed.session.uid)
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
        ended = [s for s in self.sessions.open_for(email) if s.key != keep_key]
        if keep_key is None:
            # Also whatever this process cached that the query did not list.
            self.sessions.forget_admin(email)
        # A batch holds at most 500 writes; leave room for the audit entry.
        for start in range(0, len(ended), 400):
            batch = self.audit.batch()
            for session in ended[start : start + 400]:
                self.sessions.stage_end(batch, session.key, reason)
            if start == 0:
                self.audit.stage(
                    batch, "sessions_ended", actor=actor, target=email, reason=reason, client=client
                )
            self.backend.commit(batch, "end sessions")
        return len(ended)

    def forget_admin(self, email: str) -> None:
        """Make every instance re-read an admin's sessions at their next
        request: call after a change to the admin or their account has been
        written (role, status, removal, password; a second-factor reset too,
        once factors exist)."""
        self.sessions.forget_admin(email)
