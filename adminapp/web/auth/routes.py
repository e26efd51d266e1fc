"""Login page, the token-for-session exchange, and sign-out."""

from __future__ import annotations

from flask import (
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ...errors import Forbidden
from ...i18n_marks import N_
from ..bearer import bearer_token
from ..context import request_client, services, session_cookie
from ..extensions import limiter
from ..guard import current_admin, current_session, pending_allowed, public, self_service
from ..headers import signs_in_to_firebase
from ..i18n import remember_language
from ..redirects import safe_next
from ..request_body import json_object
from ..step_up import step_up_exempt
from . import bp
from .firebase_web import GSTATIC_APP_URL, VENDOR_PATH, login_messages, web_config

# Why every signed-in admin may use these (guard.self_service).
OWN_SESSION = "ends the caller's own session"


def _sign_in_limit() -> str:
    return services().settings.sign_in_rate_limit


@bp.get("/login")
@public
@signs_in_to_firebase
def login():
    settings = services().settings
    return render_template(
        "auth/login.html",
        next_path=safe_next(request.args.get("next")),
        firebase_config=web_config(settings),
        login_messages=login_messages(),
        provider_buttons=settings.provider_buttons,
        password_sign_in=settings.password_sign_in,
        vendor_path=VENDOR_PATH,
        gstatic_app_url=GSTATIC_APP_URL,
    )


@bp.post("/session")
@limiter.limit(_sign_in_limit)
@public
def open_session():
    """Exchange a fresh Firebase ID token for the app's own session cookie.

    The whole request is checked first (origin, header, body); only then is
    the token verified and the session written."""
    if not _from_our_origin():
        raise Forbidden(N_("Sign-in must come from this site's login page."), code="bad_origin")
    token = bearer_token(request.headers.get("Authorization"))
    next_path = safe_next(json_object(allowed={"next"}, required=False).get("next"))
    signed_in = services().access.sign_in(token, request_client())
    if signed_in.session.mfa_pending:
        # The second factor comes next; it then continues to next_path.
        next_path = url_for("mfa.challenge", next=next_path)
    response = jsonify(redirect=next_path)
    session_cookie().set_on(response, signed_in.claims, signed_in.session.expires_at)
    return response


@bp.post("/logout")
@self_service(OWN_SESSION)
@pending_allowed
@step_up_exempt("signing out only ends this session")
def logout():
    services().access.sign_out(current_session(), request_client())
    response = redirect(url_for("auth.login"))
    session_cookie().clear_on(response)
    if current_admin().locale:
        # The login page that follows speaks the admin's language too.
        remember_language(response, current_admin().locale)
    flash(_("You have signed out."), "notice")
    return response


def _from_our_origin() -> bool:
    # Browsers always send Origin on a POST made by fetch(); a missing or
    # foreign one means this did not come from our login page.
    expected = services().settings.public_url or request.host_url.rstrip("/")
    return request.headers.get("Origin") == expected
