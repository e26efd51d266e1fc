"""adminapp: a Flask back office behind two gates, Firebase Auth and its own session."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from flask import Flask, redirect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import layout, log_redaction, logs
from .config import ConfigError, Settings, load_settings
from .services import build_services
from .serving_process import claim_serving_process
from .web import (
    background_work,
    cookie_jar,
    guard,
    headers,
    i18n,
    labels,
    permissions,
    request_log,
    server_timing,
)
from .web.context import COOKIE_KEY, EXTENSION_KEY
from .web.cookie import SessionCookie
from .web.error_pages import register_error_handlers
from .web.extensions import csrf, limiter
from .web.products import mount_products
from .web.session_state import JarSessionInterface
from .web.step_up import unclassified_writes, weakened_writes

__all__ = ["ConfigError", "create_app"]

# Cap request bodies: our largest legitimate form is a few hundred bytes.
MAX_CONTENT_LENGTH = 64 * 1024
# Seconds a rate-limit check may wait for Redis before the in-memory fallback.
# Loggers given LOG_LEVEL. Flask-Limiter's says when the shared rate-limit
# storage (Redis) is unreachable and when it is back: operators must see that.
LOGGERS = ("adminapp", "flask-limiter")
RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding it.

    Raises :class:`ConfigError` (naming the setting) when the configuration
    is incomplete or unsafe. Creates no network client: those are built on
    first use in each (forked) worker.
    """
    settings = load_settings(config)
    # memory:// rate limits: refuse to be a second serving process, however
    # the server was started (adminapp/serving_process.py).
    claim_serving_process(settings)
    app = Flask(
        __name__,
        template_folder=str(layout.templates()),  # the checkout's or the package's
        static_url_path="/admin/static",
    )
    _configure_flask(app, settings)
    # Flask-Limiter's own logger says when the shared rate-limit storage
    # (Redis) is unreachable and when it is back: operators must see that.
    handlers = logs.configure(
        settings.log_format, settings.log_level, ("adminapp", "flask-limiter")
    )
    log_redaction.install()
    _log_sign_in_overrides(settings)
    if settings.trusted_proxy_count:
        n = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.extensions[EXTENSION_KEY] = build_services(settings)
    # Every cookie the app sets is read and written by the jar: one cookie
    # each, or all in __session behind Firebase Hosting (COOKIE_MODE).
    app.session_interface = JarSessionInterface()
    jar = cookie_jar.make_cookie_jar(settings, app.session_interface.get_signing_serializer(app))
    app.extensions[cookie_jar.JAR_KEY] = jar
    app.extensions[COOKIE_KEY] = SessionCookie(settings, jar)
    server_timing.init_app(app, settings)
    # LOG_FORMAT=json: each line carries its request's trace; a line per request.
    request_log.init_app(app, settings, handlers)
    # With CPU only during requests, a request's emails go out before it answers.
    background_work.init_app(app, settings)
    headers.init_app(app, settings)
    # Compiles the catalogs first if their .mo files are missing or stale.
    i18n.init_app(app, settings)
    labels.init_app(app)
    # Order of the before-request checks: rate limits first, so a limited
    # request costs no Firebase call; then (behind Hosting) a cross-site
    # navigation that came without __session is sent round again; then the
    # guard, before CSRF so that an anonymous POST gets 401, not 400.
    limiter.init_app(app)
    cookie_jar.init_app(app, jar)
    # The built-in permissions; each product's join when it is mounted.
    permissions.init_app(app, app.extensions[EXTENSION_KEY].permissions)
    guard.init_app(app)
    csrf.init_app(app)
    register_error_handlers(app)

    from .web.api import bp as api_bp
    from .web.auth import bp as auth_bp
    from .web.console import bp as console_bp
    from .web.mfa import bp as mfa_bp
    from .web.security import bp as security_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(mfa_bp)
    app.register_blueprint(security_bp)
    # After the built-in routes, so a product cannot shadow one of them.
    mount_products(app, settings, app.extensions[EXTENSION_KEY])
    _refuse_routes_it_cannot_enforce(app)

    @app.get("/")
    def root():
        return redirect("/admin/")

    @app.get("/healthz")
    def healthz():
        # For load balancers: the process answers. Deliberately touches no
        # dependency, so a Firestore outage does not take every instance out.
        return {"status": "ok"}

    from .cli import register_commands

    register_commands(app)
    return app


def _refuse_routes_it_cannot_enforce(app: Flask) -> None:
    """Closed by default: a route whose access or step-up the app cannot
    enforce stops it here, naming the route, instead of being served."""
    # A permission nobody declared (a typo, or a product that forgot
    # AdminBlueprint(permissions=...)) would close the route to everyone.
    _refuse(
        guard.undeclared_permissions(app),
        "These routes need permissions that nobody declared",
        "Declare them with AdminBlueprint(permissions=...) (adminapp.web.products).",
    )
    # Step-up (adminapp/web/step_up.py): every write says whether it needs a
    # fresh proof, and none exempts what its permission says needs one.
    _refuse(
        unclassified_writes(app),
        "These routes change state but declare no step-up rule",
        "Give each @step_up_required, @step_up_by_rule(reason) or "
        "@step_up_exempt(reason) (adminapp.web.step_up).",
    )
    _refuse(
        weakened_writes(app),
        "These routes exempt from step-up what their permission says needs it",
        "Drop the @step_up_exempt, or declare a service rule (@step_up_by_rule).",
    )


def _refuse(routes: Iterable[str], problem: str, remedy: str) -> None:
    found = list(routes)
    if found:
        raise ConfigError(f"{problem}: {'; '.join(found)}. {remedy}")


def _configure_flask(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        # Flask's own session (the CSRF secret, flash messages, a step-up's
        # form) is kept by the cookie jar (web/session_state.py), as the
        # admin session is (web/cookie.py): see web/cookie_jar.py.
        # The Referer check would refuse pages sent with Referrer-Policy:
        # no-referrer (the reset confirmation). The __Host- cookie, the token
        # and Fetch Metadata already stop cross-site and injected requests.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=3600,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        # Off: Flask-Limiter would stamp every limited route's answers (200s
        # and 503s included) with a Retry-After of its window's reset, up to
        # an hour. Our 429 handler sets the real wait itself (web/error_pages.py).
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_KEY_PREFIX="adminapp",
        # Shared storage (Redis) down: count in this process instead of
        # failing the request; limits then apply per instance until it is back.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_STORAGE_OPTIONS=RATELIMIT_STORAGE_OPTIONS,
        PREFERRED_URL_SCHEME="https" if settings.production else "http",
        JSON_SORT_KEYS=False,
        ADMINAPP_EMULATED=settings.emulated,
        ADMINAPP_COOKIE_MODE=settings.cookie_mode,
    )


def _log_sign_in_overrides(settings: Settings) -> None:
    """Say at start-up which providers may sign in without a verified email:
    an override an operator must see in the log, not only in the settings."""
    if settings.require_email_verified and settings.trust_unverified_email_providers:
        logging.getLogger("adminapp.security").warning(
            "TRUST_UNVERIFIED_EMAIL_PROVIDERS=%s: tokens from these providers open a "
            "session without email_verified (each such sign-in is logged as "
            "unverified_email_trusted)",
            ",".join(sorted(settings.trust_unverified_email_providers)),
        )
