"""Browser-side defences: security headers on every response, and a refusal
of state-changing requests that another site started.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext as _

from ..config import Settings
from .responses import error_response

STATIC_PREFIX = "/admin/static/"
# The Firebase Auth JS SDK talks to these for email + password sign-in.
FIREBASE_AUTH_ORIGINS = (
    "https://identitytoolkit.googleapis.com",
    "https://securetoken.googleapis.com",
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# signInWithPopup and signInWithRedirect load Google's gapi script, which
# opens the auth domain's /__/auth/iframe to carry the result back.
GAPI_ORIGIN = "https://apis.google.com"
# reCAPTCHA, which Firebase runs before it texts an SMS code
# (Google's documented CSP for reCAPTCHA).
RECAPTCHA_SCRIPTS = ("https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/")
RECAPTCHA_FRAMES = ("https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/")

View = TypeVar("View", bound=Callable)


def secret_in_url(view: View) -> View:
    """Mark a view whose URL carries a secret (a password reset code): its
    responses, error pages included, send no Referer to anyone."""
    view.secret_in_url = True
    return view


def signs_in_to_firebase(view: View) -> View:
    """Mark the login page: the one page that may open a provider's popup,
    frame the auth domain and, for SMS second factors, run reCAPTCHA."""
    view.signs_in_to_firebase = True
    return view


def _current_view():
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def url_has_secret() -> bool:
    return getattr(_current_view(), "secret_in_url", False)


def csp_nonce() -> str:
    """A per-response nonce for the one inline script we need (the import map)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def auth_endpoints(settings: Settings) -> tuple[str, ...]:
    if settings.auth_emulator_host:
        return (f"http://{settings.auth_emulator_host}",)
    return FIREBASE_AUTH_ORIGINS


def auth_domain_origin(settings: Settings) -> str:
    """Where the SDK's popup and redirect helpers frame /__/auth/iframe."""
    if settings.auth_emulator_host:
        return f"http://{settings.auth_emulator_host}"
    return f"https://{settings.auth_domain}"


@dataclass(frozen=True)
class PagePolicy:
    """Sources a page may use beyond the policy every page has. The default
    adds nothing: COOP same-origin and no frames at all."""

    script_src: tuple[str, ...] = ()
    frame_src: tuple[str, ...] = ()
    connect_src: tuple[str, ...] = ()
    opener_policy: str = "same-origin"


STRICT = PagePolicy()


def login_page_policy(settings: Settings) -> PagePolicy:
    """What the login page needs, and only as much as the settings call for:
    provider popups (COOP same-origin-allow-popups so the popup can report
    back, gapi, the auth domain in frames and fetches) when a provider button
    is shown; reCAPTCHA when SMS second factors are on."""
    script_src, frame_src, connect_src = (), (), ()
    opener_policy = "same-origin"
    if settings.provider_buttons:
        auth_domain = auth_domain_origin(settings)
        script_src += (GAPI_ORIGIN,)
        frame_src += (auth_domain,)
        connect_src += (auth_domain,)
        opener_policy = "same-origin-allow-popups"
    if settings.firebase_sms_second_factor:
        script_src += RECAPTCHA_SCRIPTS
        frame_src += RECAPTCHA_FRAMES
    return PagePolicy(script_src, frame_src, connect_src, opener_policy)


def init_app(app: Flask, settings: Settings) -> None:
    connect_src = " ".join(("'self'", *auth_endpoints(settings)))
    login_page = login_page_policy(settings)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["url_has_secret"] = url_has_secret

    @app.before_request
    def refuse_cross_site_writes():
        # Fetch Metadata: a browser tells us when another site started a
        # request. CSRF tokens already stop forged writes; this stops them
        # earlier and also covers anything a token check might miss.
        site = request.headers.get("Sec-Fetch-Site")
        if request.method in UNSAFE_METHODS and site in ("cross-site", "same-site"):
            return error_response(
                403,
                _("This request came from another site and was refused."),
                "cross_site_request",
            )
        return None

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        script_src = "'self'"
        if "csp_nonce" in g:
            script_src += f" 'nonce-{g.csp_nonce}'"
        extra = STRICT
        if getattr(_current_view(), "signs_in_to_firebase", False):
            extra = login_page
        directives = [
            "default-src 'none'",
            " ".join((f"script-src {script_src}", *extra.script_src)),
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            " ".join((f"connect-src {connect_src}", *extra.connect_src)),
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
        if extra.frame_src:
            directives.append(" ".join(("frame-src", *extra.frame_src)))
        response.headers["Content-Security-Policy"] = "; ".join(directives)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if url_has_secret():
            response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["Cross-Origin-Opener-Policy"] = extra.opener_policy
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if settings.production:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.path.startswith("/admin") and not request.path.startswith(STATIC_PREFIX):
            # Admin pages show private data; no browser or proxy may keep them.
            response.headers["Cache-Control"] = "no-store"
        return response
