"""The guard in front of every ``/admin`` path, and what routes declare.

``guard`` runs before every request. Outside ``/admin`` and for views marked
:func:`public` it does nothing. Everywhere else it needs a valid session
cookie, resumes the session (one batched Firestore read) and puts the admin
in ``g.admin`` and their last second-factor proof in ``g.proof``; under
``/admin/api/`` a Firebase ID token in ``Authorization: Bearer`` may stand
in for the cookie. It then enforces, in this order: the session's stage (a
pending one reaches only the second-factor pages), the permission the view
declared with :func:`permission_required` (``adminapp/domain/permissions.py``;
a view that declares nothing needs ``pages.undeclared``, which only owners
hold; :func:`self_service` views are every admin's own things), and its
step-up classification (``step_up.py``: a write route that declares none is
refused). A route added without thought is closed, not open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import limits
from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..domain.admins import Admin
from ..domain.permissions import PAGES_UNDECLARED, MissingPermission, Permission
from ..errors import Forbidden
from ..i18n_marks import N_
from ..logs import log_event
from ..services.access import AccessRefused, Resumed
from ..services.mfa.stages import stage_of
from .bearer import bearer_token, has_bearer
from .context import request_client, services, session_cookie
from .extensions import csrf, limiter
from .i18n import say
from .permissions import PERMISSIONS_KEY, permissions_of
from .redirects import DASHBOARD, safe_next
from .responses import API_PREFIX, error_response, wants_json
from .step_up import WRITE_METHODS, StepUp, classification, require_step_up

View = TypeVar("View", bound=Callable)
SAFE_METHODS = frozenset({"GET", "HEAD"})
SIGN_IN_FIRST = N_("Sign in to continue.")
# A signed-in admin (or a cross-site link they follow) can hit forbidden
# pages as fast as they like; each refusal is logged, but only this many per
# admin reach the audit trail, so nobody can make us pay for unbounded
# Firestore writes or drown the trail. Counted in the rate limiter's storage,
# so with Redis the bound holds across workers and instances.
AUDITED_REFUSALS = limits.parse("20 per hour")


def public(view: View) -> View:
    """Let a view be reached without a session (login, reset, static)."""
    view.public = True
    return view


def pending_allowed(view: View) -> View:
    """Let a session that still waits for its second factor reach this view
    (the second-factor pages and sign-out). Every other view answers such a
    session as if it were signed out."""
    view.pending_allowed = True
    return view


@dataclass(frozen=True)
class SelfService:
    """A view every signed-in admin reaches, because it acts only on their
    own things (their session, factors, account); ``reason`` says so. What
    it may touch of others is a service rule (``sessions.read_others``)."""

    reason: str


def permission_required(permission: Permission) -> Callable[[View], View]:
    """Declare the permission a view needs; the guard enforces it."""
    if not isinstance(permission, Permission):
        raise TypeError(f"{permission!r} is not a Permission (adminapp.domain.permissions)")
    return _declare_access(permission)


def self_service(reason: str) -> Callable[[View], View]:
    """Declare a view that every signed-in admin may use on their own things."""
    if not reason or not reason.strip():
        raise ValueError("a self-service route needs its reason")
    return _declare_access(SelfService(reason))


def _declare_access(access: Permission | SelfService) -> Callable[[View], View]:
    def declare(view: View) -> View:
        if getattr(view, "access", None) is not None:
            raise ValueError(f"{view.__name__} declares its access twice")
        view.access = access
        return view

    return declare


def needed_permission(view: Callable | None) -> Permission | None:
    """The permission the guard asks of a view: the declared one, none for a
    self-service view, and ``pages.undeclared`` (owners) when it says nothing."""
    access = getattr(view, "access", None)
    if isinstance(access, SelfService):
        return None
    return access or PAGES_UNDECLARED


def undeclared_permissions(app: Flask) -> Iterator[str]:
    """The routes whose permission the app does not declare, as
    "endpoint needs name"."""
    declared = app.extensions[PERMISSIONS_KEY]
    for endpoint, view in app.view_functions.items():
        needed = needed_permission(view)
        if needed is not None and needed not in declared:
            yield f"{endpoint} needs {needed.name}"


def current_admin() -> Admin:
    return g.admin


def current_session() -> Resumed:
    return Resumed(session=g.admin_session, admin=g.admin, proof=g.proof)


def init_app(app: Flask) -> None:
    app.before_request(guard)


def _view_for_request():
    if request.endpoint is None:
        return None
    return current_app.view_functions.get(request.endpoint)


def guard() -> Response | None:
    if not request.path.startswith("/admin"):
        return None
    view = _view_for_request()
    if request.endpoint == "static" or getattr(view, "public", False):
        return None

    header = request.headers.get("Authorization")
    if request.path.startswith(API_PREFIX) and has_bearer(header):
        who = _authenticate_bearer(header)
        g.auth_method = "bearer"
    else:
        who = _resume_session()
        g.auth_method = "cookie"
    if isinstance(who, Response):
        return who
    g.admin = who.admin
    g.admin_session = who.session
    g.proof = who.proof
    # Resolved in memory from the role the admin document already gave.
    g.permissions = permissions_of(who.admin)
    if (
        who.session is not None
        and stage_of(who.session, who.admin, services().settings).pending
        and not getattr(view, "pending_allowed", False)
    ):
        return _second_factor_due()

    # No view (a 404): nothing to protect, so the route's own answer.
    needed = needed_permission(view) if view is not None else None
    if needed is not None and needed.name not in g.permissions:
        _record_role_refusal(who.admin)
        raise MissingPermission(needed, who.admin.role)
    declared = classification(view, request.method)
    if view is not None and declared is None and request.method in WRITE_METHODS:
        # create_app refuses to start with such a route; this is the
        # backstop for one added after start-up.
        log_event("access_refused", reason="route_unclassified", path=request.path)
        raise Forbidden(N_("This action is not available."), code="route_unclassified")
    if g.auth_method == "cookie":
        # A cookie can be sent by a browser, so cookie-authenticated writes
        # need the CSRF token: the API blueprints are exempt from the global
        # check (a bearer token cannot be forged cross-site), and for the
        # pages it is checked here, before a step-up prompt could keep a
        # forged form's fields for the admin to confirm.
        csrf.protect()
    if declared is not None and declared.kind is StepUp.REQUIRED:
        require_step_up()
    return None


def _record_role_refusal(admin: Admin) -> None:
    client = request_client()
    fields = {
        "actor": admin.email,
        "target": request.path,
        "outcome": "refused",
        "reason": "insufficient_role",
    }
    if limiter.limiter.hit(AUDITED_REFUSALS, "audited-refusals", admin.email):
        services().audit.record("access_refused", **fields, client=client)
    else:
        # Over the bound: the security log still has every refusal.
        log_event("access_refused", **fields, ip=client.ip, audited=False)


def _resume_session() -> Resumed | Response:
    cookie = session_cookie()
    raw = cookie.read()
    claims = cookie.decode(raw)
    if claims is None:
        if raw:
            log_event(
                "access_refused", reason="bad_cookie", path=request.path, ip=request_client().ip
            )
        return _signed_out(cookie_sent=raw is not None)
    try:
        return services().access.resume(claims, request_client())
    except AccessRefused as refusal:
        # Not the plain error page: a browser that is signed out goes to the
        # login page, and either way the dead cookie is cleared.
        if refusal.forbidden:
            response = error_response(403, say(refusal), "forbidden", title=_("No access"))
            session_cookie().clear_on(response)
            return response
        return _signed_out(cookie_sent=True, message=say(refusal))


def _authenticate_bearer(header: str) -> Resumed:
    return services().access.authenticate_bearer(bearer_token(header), request_client())


SECOND_FACTOR_FIRST = N_("Confirm it is you with your second factor to continue.")


def _second_factor_due() -> Response:
    """Answer a pending session outside the second-factor pages: as signed
    out (nothing of the admin area opens), pointing at the challenge."""
    if wants_json():
        return error_response(401, _(SECOND_FACTOR_FIRST), "second_factor_required")
    if request.method not in SAFE_METHODS:
        return error_response(
            401, _(SECOND_FACTOR_FIRST), "second_factor_required", title=_("Signed out")
        )
    return redirect(url_for("mfa.challenge", next=_requested_path()))


def _signed_out(*, cookie_sent: bool, message: str | None = None) -> Response:
    """Answer a request that has no valid session."""
    default = message is None
    message = message or _(SIGN_IN_FIRST)
    if wants_json():
        response = error_response(401, message, "unauthenticated")
    elif request.method not in SAFE_METHODS:
        response = error_response(401, message, "unauthenticated", title=_("Signed out"))
    elif not cookie_sent and _cross_site_navigation():
        # SameSite=Strict withheld the cookie because another site linked
        # here. Re-navigate from our own page: that request is same-site, so
        # the browser sends the cookie if there is one.
        response = Response(
            render_template("auth/continue.html", target=_requested_path()),
            mimetype="text/html",
        )
        return response
    else:
        if not default:
            flash(message, "notice")
        response = redirect(url_for("auth.login", next=_requested_path()))
    if cookie_sent:
        session_cookie().clear_on(response)
    return response


def _cross_site_navigation() -> bool:
    return (
        request.headers.get("Sec-Fetch-Site") == "cross-site"
        and request.headers.get("Sec-Fetch-Mode") == "navigate"
    )


def _requested_path() -> str:
    path = request.path
    if request.query_string:
        path += "?" + request.query_string.decode("latin-1")
    target = safe_next(path)
    return target if target == path else DASHBOARD
