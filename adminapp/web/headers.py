"""Browser-side defences: security headers on every response, and a refusal
of state-changing requests that another site started.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, request

from ..config import Settings
from .responses import error_response

STATIC_PREFIX = "/admin/static/"
# The Firebase Auth JS SDK talks to these for email + password sign-in.
FIREBASE_AUTH_ORIGINS = (
    "https://identitytoolkit.googleapis.com",
    "https://securetoken.googleapis.com",
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

View = TypeVar("View", bound=Callable)


def secret_in_url(view: View) -> View:
    """Mark a view whose URL carries a secret (a password reset code): its
    responses, error pages included, send no Referer to anyone."""
    view.secret_in_url = True
    return view


def url_has_secret() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "secret_in_url", False)


def csp_nonce() -> str:
    """A per-response nonce for the one inline script we need (the import map)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def auth_endpoints(settings: Settings) -> tuple[str, ...]:
    if settings.auth_emulator_host:
        return (f"http://{settings.auth_emulator_host}",)
    return FIREBASE_AUTH_ORIGINS


def init_app(app: Flask, settings: Settings) -> None:
    connect_src = " ".join(("'self'", *auth_endpoints(settings)))
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
                "This request came from another site and was refused.",
                "cross_site_request",
            )
        return None

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        script_src = "'self'"
        if "csp_nonce" in g:
            script_src += f" 'nonce-{g.csp_nonce}'"
        response.headers["Content-Security-Policy"] = "; ".join(
            (
                "default-src 'none'",
                f"script-src {script_src}",
                "style-src 'self'",
                "img-src 'self' data:",
                "font-src 'self'",
                f"connect-src {connect_src}",
                "form-action 'self'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
            )
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if url_has_secret():
            response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if settings.production:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.path.startswith("/admin") and not request.path.startswith(STATIC_PREFIX):
            # Admin pages show private data; no browser or proxy may keep them.
            response.headers["Cache-Control"] = "no-store"
        return response
