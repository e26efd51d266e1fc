"""Read and validate adminapp's settings.

Every setting comes from the environment (``.env`` is loaded into it by
``wsgi.py`` and the ``flask`` command). ``load_settings`` refuses unsafe or
incomplete combinations with a :class:`ConfigError` that names the setting, so
a misconfigured deployment stops at start-up instead of serving requests.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

import limits

from .catalogs import supported_locales
from .timezones import valid_zone

PRODUCTION = "production"
DEVELOPMENT = "development"

EMULATOR_VARIABLES = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
# Firebase reserves the "demo-" prefix for projects that exist only on the
# emulators; no real project can have such an id.
DEMO_PROJECT_PREFIX = "demo-"
MIN_SECRET_BYTES = 32
# A generated key (token_urlsafe, token_hex, openssl rand) of 32 characters
# has 8 or more different characters all but never (hex: < 1 in 300,000);
# a key typed by hand ("aaaa…", "abcdabcd…") has fewer or repeats itself.
MIN_SECRET_DISTINCT = 8
GENERATOR_HINT = 'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
# Keys printed where people copy them from: Flask's documentation (the
# quickstart's token_hex() output) and the fixed key this project's tests
# used in public until the audit of issue 11. Anyone can sign cookies with
# these.
PUBLISHED_SECRETS = frozenset(
    {
        "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
        "test-secret-key-that-is-long-enough-0123456789",
    }
)
# Identity Platform tenant ids: letters, digits and hyphens ("staff-x1y2z").
_TENANT_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
RESET_DELIVERIES = ("firebase", "smtp")
# Sign-in providers a staff account may use, as Firebase names them in the ID
# token's firebase.sign_in_provider. "custom" has no button: scripts that
# call the API with a custom token's ID token. Identity Platform names OIDC
# and SAML providers "oidc.<id>" and "saml.<id>".
BUILT_IN_PROVIDERS = (
    "password",
    "google.com",
    "microsoft.com",
    "apple.com",
    "github.com",
    "custom",
)
_FEDERATED_PROVIDER = re.compile(r"^(oidc|saml)\.[A-Za-z0-9_-]{1,64}$")
# What the login page's button says for a built-in provider.
PROVIDER_LABELS = {
    "google.com": "Google",
    "microsoft.com": "Microsoft",
    "apple.com": "Apple",
    "github.com": "GitHub",
}
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# adminapp/firebase/admins.py's ROLES (config imports nothing of the app's;
# tests/unit/test_second_factor_settings.py keeps the two equal).
ROLES = ("viewer", "admin", "owner")
# An AES-256-GCM key: 32 random bytes, base64url (secrets.token_urlsafe(32)).
MFA_KEY_BYTES = 32
MFA_KEY_HINT = 'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
DEVELOPMENT_RP_ID = "localhost"
_IP_ADDRESS = re.compile(r"^[0-9.]+$|:")
SMTP_SECURITY = ("starttls", "ssl", "none")
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
REDIS_SCHEMES = ("redis", "rediss", "unix")
# How the app's cookies travel (adminapp/web/cookie_jar.py): one cookie each,
# or all of them in the one cookie Firebase Hosting forwards (__session).
COOKIE_MODES = ("standard", "hosting")
LOG_FORMATS = ("text", "json")
# When the process has CPU: only while it answers a request (Cloud Run's
# default), or always (instance-based billing, any ordinary server).
CPU_ALLOCATIONS = ("request", "always")


class ConfigError(Exception):
    """A setting is missing, malformed or unsafe; the app must not start."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    security: str = "starttls"
    sender: str = ""
    timeout: float = 10.0
    # A CA bundle to trust instead of the system's, for a relay with a
    # private certificate; empty = the system's trust store.
    ca_file: str = ""


@dataclass(frozen=True)
class ProviderButton:
    """A sign-in button of the login page: which Firebase provider, what it
    says, and what the popup asks the identity provider for."""

    id: str
    label: str
    scopes: tuple[str, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()

    def web_config(self) -> dict:
        return {
            "id": self.id,
            "label": self.label,
            "scopes": list(self.scopes),
            "parameters": dict(self.parameters),
        }


@dataclass(frozen=True)
class Settings:
    environment: str
    secret_key: str = field(repr=False)
    secret_key_fallbacks: tuple[str, ...] = field(repr=False)
    project_id: str
    # The Identity Platform tenant whose users are the staff; "" = the
    # project's own (project-level) users.
    tenant_id: str
    credentials_file: str
    web_api_key: str
    auth_domain: str
    auth_emulator_host: str
    firestore_emulator_host: str
    public_url: str
    backend_timeout: float
    cookie_secure: bool
    session_lifetime: timedelta
    session_idle_timeout: timedelta
    session_activity_interval: timedelta
    auth_recheck_interval: timedelta
    recent_sign_in: timedelta
    require_email_verified: bool
    # In the order given: the login page shows the buttons in this order.
    allowed_sign_in_providers: tuple[str, ...]
    # Providers whose tokens may open a session without email_verified
    # (IdPs that never send it); each such sign-in is logged.
    trust_unverified_email_providers: frozenset[str]
    # Lower-cased domains an admin's address must be in; empty = any.
    allowed_email_domains: tuple[str, ...]
    # Whether Firebase's own second factor (firebase.sign_in_second_factor)
    # counts as the admin's second factor at gate 2.
    accept_firebase_second_factor: bool
    # Whether the login page may load reCAPTCHA (SMS second factors).
    firebase_sms_second_factor: bool
    session_cache_ttl: timedelta
    # Redis pub/sub URL that carries session-cache invalidations between
    # processes; empty = none (each process's cache is bounded by its TTL only).
    session_invalidation_url: str = field(repr=False)
    ratelimit_storage_uri: str
    sign_in_rate_limit: str
    api_bearer_rate_limit: str
    reset_rate_limit_per_email: str
    reset_rate_limit_per_ip: str
    reset_delivery: str
    smtp: SmtpSettings
    trusted_proxy_count: int
    server_timing: bool
    log_level: str
    # The login page's provider buttons, in the order of ALLOWED_SIGN_IN_PROVIDERS.
    provider_buttons: tuple[ProviderButton, ...] = ()
    # Product blueprints to mount behind the gate ("package.module:attribute"),
    # and whether the users console ships on (adminapp/web/products.py).
    product_blueprints: tuple[str, ...] = ()
    users_console: bool = True
    users_page_size: int = 50
    # The second factor (adminapp/services/second_factor.py).
    mfa_required_roles: frozenset[str] = frozenset(ROLES)
    pending_session_lifetime: timedelta = timedelta(minutes=5)
    step_up_window: timedelta = timedelta(minutes=10)
    # The per-admin bound on wrong codes (adminapp/services/mfa/lockout.py).
    mfa_admin_max_failures: int = 10
    mfa_admin_failure_window: timedelta = timedelta(minutes=15)
    mfa_admin_lock: timedelta = timedelta(minutes=15)
    # AES-GCM keys for TOTP secrets at rest: the last encrypts, all decrypt.
    mfa_encryption_keys: tuple[bytes, ...] = field(default=(), repr=False)
    webauthn_rp_id: str = DEVELOPMENT_RP_ID
    # "" = the request's own origin (development without PUBLIC_URL).
    webauthn_origin: str = ""
    # The language and IANA time zone of anyone who has not chosen their own.
    default_locale: str = "en"
    default_timezone: str = "UTC"
    # "hosting": every cookie's content in one __session cookie (Firebase
    # Hosting forwards no other to Cloud Run); "standard": one cookie each.
    cookie_mode: str = "standard"
    # "json": one JSON object per log line, as Cloud Logging reads them.
    log_format: str = "text"
    # "request": no CPU between requests, so work is finished before the
    # response goes out (adminapp/services/background.py).
    cloud_run_cpu: str = "always"
    # How long a session record stays after the session's planned end, for
    # investigation; then Firestore's TTL policy deletes it (expire_at).
    session_retention: timedelta = timedelta(days=7)

    @property
    def production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def emulated(self) -> bool:
        return bool(self.auth_emulator_host or self.firestore_emulator_host)

    @property
    def password_sign_in(self) -> bool:
        return "password" in self.allowed_sign_in_providers

    @property
    def signing_keys(self) -> list[str]:
        """Keys for itsdangerous: old ones verify, the last one signs."""
        return [*self.secret_key_fallbacks, self.secret_key]


def load_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from the environment, with ``overrides`` on top.

    The emulator variables are also read from ``os.environ`` whatever the
    overrides say, because that is where the Firebase SDKs read them: the
    safety check must see what the SDKs will do.
    """
    source = _Source({**os.environ, **(overrides or {})})

    environment = source.choice("ADMINAPP_ENV", (PRODUCTION, DEVELOPMENT), PRODUCTION)
    production = environment == PRODUCTION
    project_id = source.required("FIREBASE_PROJECT_ID")
    emulators = {name: os.environ.get(name) or source.text(name) for name in EMULATOR_VARIABLES}
    _refuse_unsafe_emulators(emulators, project_id, production)

    secret_key = source.secret("SECRET_KEY")
    fallbacks = tuple(source.list("SECRET_KEY_FALLBACKS"))
    for index, old_key in enumerate(fallbacks, start=1):
        _check_secret_strength(f"SECRET_KEY_FALLBACKS (key {index})", old_key)

    tenant_id = source.text("FIREBASE_TENANT_ID")
    if tenant_id and not _TENANT_ID.match(tenant_id):
        raise ConfigError(
            f"FIREBASE_TENANT_ID={tenant_id!r} is not a tenant id (letters, digits and "
            "hyphens, as shown in the console under Identity Platform > Tenants)."
        )

    credentials_file = source.text("FIREBASE_CREDENTIALS")
    if credentials_file:
        _check_credentials_file(credentials_file)

    # The JS SDK needs a key and domain to initialise; the Auth emulator
    # accepts any value, so development on the emulators needs neither.
    web_api_key = source.text("FIREBASE_WEB_API_KEY")
    auth_domain = source.text("FIREBASE_AUTH_DOMAIN")
    if not emulators["FIREBASE_AUTH_EMULATOR_HOST"]:
        web_api_key = web_api_key or source.required("FIREBASE_WEB_API_KEY")
        auth_domain = auth_domain or source.required("FIREBASE_AUTH_DOMAIN")
    web_api_key = web_api_key or "demo-api-key"
    auth_domain = auth_domain or f"{project_id}.firebaseapp.com"

    public_url = source.url("PUBLIC_URL", required=production)
    cookie_secure = source.flag("SESSION_COOKIE_SECURE", True)
    if production and not cookie_secure:
        raise ConfigError(
            "SESSION_COOKIE_SECURE=false is only allowed with ADMINAPP_ENV=development: "
            "in production the session cookie must never travel over plain HTTP."
        )
    if production and public_url.startswith("http://"):
        raise ConfigError("PUBLIC_URL must use https:// in production.")

    session_idle = source.minutes("SESSION_IDLE_MINUTES", 30)
    activity_interval = source.minutes("SESSION_ACTIVITY_MINUTES", 5)
    if activity_interval >= session_idle:
        raise ConfigError(
            "SESSION_ACTIVITY_MINUTES must be shorter than SESSION_IDLE_MINUTES, "
            "or an active admin would be timed out between two activity records."
        )

    reset_delivery = source.choice("RESET_DELIVERY", RESET_DELIVERIES, "firebase")
    # SMTP carries our reset emails in smtp mode, and password-change notices
    # in either mode when a server is named.
    smtp = _load_smtp(source, required=reset_delivery == "smtp" or bool(source.text("SMTP_HOST")))
    if reset_delivery == "smtp" and not public_url:
        raise ConfigError(
            "PUBLIC_URL is required with RESET_DELIVERY=smtp: the links in our emails "
            "point at it (never at the Host header a request happened to carry)."
        )

    ratelimit_storage_uri = source.text("RATELIMIT_STORAGE_URI") or "memory://"
    # The number of worker processes serving the app, when it is known:
    # gunicorn.conf.py sets it to the real count before the workers start.
    # 0 = not said (the flask command, `make run`, the test client).
    workers = source.integer("WEB_CONCURRENCY", 0, low=1, high=256)
    # Production only: in development several workers are make bench's, whose
    # limits are set out of reach.
    if production:
        _refuse_per_process_rate_limits(ratelimit_storage_uri, workers)

    providers = _sign_in_providers(source)
    mfa_keys = _mfa_keys(source)
    rp_id = _webauthn_rp_id(source, public_url, production)

    return Settings(
        environment=environment,
        secret_key=secret_key,
        secret_key_fallbacks=fallbacks,
        project_id=project_id,
        tenant_id=tenant_id,
        credentials_file=credentials_file,
        web_api_key=web_api_key,
        auth_domain=auth_domain,
        auth_emulator_host=emulators["FIREBASE_AUTH_EMULATOR_HOST"],
        firestore_emulator_host=emulators["FIRESTORE_EMULATOR_HOST"],
        public_url=public_url,
        backend_timeout=source.number("BACKEND_TIMEOUT_SECONDS", 3.0, low=0.1, high=30),
        cookie_secure=cookie_secure,
        session_lifetime=source.minutes("SESSION_LIFETIME_MINUTES", 12 * 60),
        session_idle_timeout=session_idle,
        session_activity_interval=activity_interval,
        auth_recheck_interval=source.minutes("AUTH_RECHECK_MINUTES", 5),
        recent_sign_in=source.minutes("RECENT_SIGN_IN_MINUTES", 5),
        require_email_verified=source.flag("REQUIRE_EMAIL_VERIFIED", True),
        allowed_sign_in_providers=providers,
        trust_unverified_email_providers=_trusted_unverified(source, providers),
        allowed_email_domains=_email_domains(source),
        accept_firebase_second_factor=source.flag("ACCEPT_FIREBASE_SECOND_FACTOR", False),
        firebase_sms_second_factor=source.flag("FIREBASE_SMS_SECOND_FACTOR", False),
        provider_buttons=_provider_buttons(source, providers),
        session_cache_ttl=timedelta(
            seconds=source.number("SESSION_CACHE_SECONDS", 0, low=0, high=300)
        ),
        session_invalidation_url=_invalidation_url(source, ratelimit_storage_uri),
        ratelimit_storage_uri=ratelimit_storage_uri,
        sign_in_rate_limit=source.rate_limit("SIGN_IN_RATE_LIMIT", "10 per minute;60 per hour"),
        api_bearer_rate_limit=source.rate_limit("API_BEARER_RATE_LIMIT", "120 per minute"),
        reset_rate_limit_per_email=source.rate_limit("RESET_RATE_LIMIT_PER_EMAIL", "5 per hour"),
        reset_rate_limit_per_ip=source.rate_limit("RESET_RATE_LIMIT_PER_IP", "20 per hour"),
        reset_delivery=reset_delivery,
        smtp=smtp,
        trusted_proxy_count=int(source.number("TRUSTED_PROXY_COUNT", 0, low=0, high=10)),
        server_timing=source.flag("SERVER_TIMING", False),
        log_level=source.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        product_blueprints=tuple(source.import_paths("ADMINAPP_BLUEPRINTS")),
        users_console=source.flag("USERS_CONSOLE", True),
        users_page_size=int(source.number("USERS_PAGE_SIZE", 50, low=1, high=1000)),
        mfa_required_roles=_mfa_required_roles(source),
        pending_session_lifetime=source.minutes("PENDING_SESSION_MINUTES", 5),
        step_up_window=source.minutes("STEP_UP_MINUTES", 10),
        mfa_admin_max_failures=source.integer("MFA_ADMIN_MAX_FAILURES", 10, low=3, high=100),
        mfa_admin_failure_window=source.minutes("MFA_ADMIN_FAILURE_WINDOW_MINUTES", 15),
        mfa_admin_lock=source.minutes("MFA_ADMIN_LOCK_MINUTES", 15),
        mfa_encryption_keys=mfa_keys,
        webauthn_rp_id=rp_id,
        webauthn_origin=public_url,
        default_locale=source.choice("DEFAULT_LOCALE", supported_locales(), "en"),
        default_timezone=source.timezone("DEFAULT_TIMEZONE", "UTC"),
        cookie_mode=source.choice("COOKIE_MODE", COOKIE_MODES, "standard"),
        log_format=_log_format(source, production),
        session_retention=timedelta(
            days=source.integer("SESSION_RETENTION_DAYS", 7, low=0, high=3650)
        ),
        # On Cloud Run (K_SERVICE is set) assume its default allocation.
        cloud_run_cpu=source.choice(
            "CLOUD_RUN_CPU", CPU_ALLOCATIONS, "request" if source.text("K_SERVICE") else "always"
        ),
    )


def _log_format(source: _Source, production: bool) -> str:
    """LOG_FORMAT; by default JSON lines in production on Cloud Run (which
    sets K_SERVICE), where Cloud Logging reads severity, trace and request
    fields only from JSON, and plain text everywhere else."""
    default = "json" if production and source.text("K_SERVICE") else "text"
    return source.choice("LOG_FORMAT", LOG_FORMATS, default)


def log_format_of(values: Mapping[str, str]) -> str:
    """LOG_FORMAT as :func:`load_settings` reads it, for gunicorn.conf.py,
    which sets up logging before the app (and its checks) load."""
    source = _Source(values)
    production = (source.text("ADMINAPP_ENV") or PRODUCTION) == PRODUCTION
    return _log_format(source, production)


def _sign_in_providers(source: _Source) -> tuple[str, ...]:
    providers = source.list("ALLOWED_SIGN_IN_PROVIDERS") or ["password"]
    for provider in providers:
        if provider not in BUILT_IN_PROVIDERS and not _FEDERATED_PROVIDER.match(provider):
            raise ConfigError(
                f"ALLOWED_SIGN_IN_PROVIDERS: {provider!r} is not a sign-in provider staff "
                f"can use. Use {', '.join(BUILT_IN_PROVIDERS)}, or an Identity Platform "
                "provider id such as oidc.kakao or saml.acme (as shown in the Firebase "
                "console under Authentication > Sign-in method)."
            )
    if len(set(providers)) != len(providers):
        raise ConfigError("ALLOWED_SIGN_IN_PROVIDERS names a provider twice.")
    return tuple(providers)


def _trusted_unverified(source: _Source, providers: tuple[str, ...]) -> frozenset[str]:
    trusted = source.list("TRUST_UNVERIFIED_EMAIL_PROVIDERS")
    for provider in trusted:
        if provider == "password":
            raise ConfigError(
                "TRUST_UNVERIFIED_EMAIL_PROVIDERS cannot name password: anyone can create "
                "a password account with any address; only a verified one may sign in."
            )
        if provider not in providers:
            raise ConfigError(
                f"TRUST_UNVERIFIED_EMAIL_PROVIDERS names {provider!r}, which is not in "
                "ALLOWED_SIGN_IN_PROVIDERS."
            )
    return frozenset(trusted)


def _email_domains(source: _Source) -> tuple[str, ...]:
    domains = [domain.lower() for domain in source.list("ALLOWED_EMAIL_DOMAINS")]
    for domain in domains:
        labels = domain.split(".")
        if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
            raise ConfigError(
                f"ALLOWED_EMAIL_DOMAINS: {domain!r} is not a domain such as acme.com "
                "(no @, no wildcard; write internationalised domains in their xn-- form)."
            )
    return tuple(domains)


_OPTION_FIELDS = frozenset({"label", "scopes", "parameters"})


def _provider_buttons(source: _Source, providers: tuple[str, ...]) -> tuple[ProviderButton, ...]:
    """SIGN_IN_PROVIDER_OPTIONS: a JSON object keyed by provider id, e.g.
    {"google.com": {"parameters": {"hd": "acme.com"}},
     "oidc.kakao": {"label": "Kakao", "scopes": ["openid", "email"]}}."""
    name = "SIGN_IN_PROVIDER_OPTIONS"
    raw = source.text(name)
    try:
        options = json.loads(raw) if raw else {}
    except ValueError:
        raise ConfigError(f"{name} is not JSON (an object keyed by provider id).") from None
    if not isinstance(options, dict):
        raise ConfigError(f"{name} must be a JSON object keyed by provider id.")
    for provider, option in options.items():
        if provider not in providers or provider in ("password", "custom"):
            raise ConfigError(
                f"{name} has options for {provider!r}, which has no button: it is not a "
                "provider of ALLOWED_SIGN_IN_PROVIDERS other than password and custom."
            )
        if not isinstance(option, dict) or not set(option) <= _OPTION_FIELDS:
            raise ConfigError(
                f"{name}[{provider!r}] must be an object with only "
                f"{', '.join(sorted(_OPTION_FIELDS))}."
            )
    buttons = []
    for provider in providers:
        if provider in ("password", "custom"):
            continue
        option = options.get(provider, {})
        label = option.get("label", PROVIDER_LABELS.get(provider))
        if not isinstance(label, str) or not label.strip() or len(label) > 40:
            raise ConfigError(
                f"{name} needs a label (1 to 40 characters) for {provider!r}, the name "
                f'staff know it by: {{"{provider}": {{"label": "Acme SSO"}}}}.'
            )
        scopes = option.get("scopes", [])
        parameters = option.get("parameters", {})
        if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
            raise ConfigError(f"{name}[{provider!r}].scopes must be a list of scope names.")
        if not isinstance(parameters, dict) or not all(
            isinstance(value, str) for value in parameters.values()
        ):
            raise ConfigError(
                f"{name}[{provider!r}].parameters must map parameter names to strings, "
                'such as {"hd": "acme.com"}.'
            )
        if provider.startswith("saml.") and (scopes or parameters):
            raise ConfigError(f"{name}[{provider!r}]: SAML providers take no scopes or parameters.")
        buttons.append(
            ProviderButton(
                id=provider,
                label=label.strip(),
                scopes=tuple(scopes),
                parameters=tuple(sorted(parameters.items())),
            )
        )
    return tuple(buttons)


def _mfa_required_roles(source: _Source) -> frozenset[str]:
    """MFA_REQUIRED_ROLES: every role by default; "none" turns the second
    factor off (an explicit word, so an empty value cannot do it by accident)."""
    raw = source.text("MFA_REQUIRED_ROLES")
    if not raw:
        return frozenset(ROLES)
    if raw.lower() == "none":
        return frozenset()
    roles = [role.lower() for role in source.list("MFA_REQUIRED_ROLES")]
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise ConfigError(
            f"MFA_REQUIRED_ROLES: {', '.join(unknown)} is not a role "
            f"(use a comma-separated list of {', '.join(ROLES)}, or none)."
        )
    return frozenset(roles)


def _mfa_keys(source: _Source) -> tuple[bytes, ...]:
    """MFA_ENCRYPTION_KEY (encrypts) and MFA_ENCRYPTION_KEY_FALLBACKS (old
    keys that still decrypt, oldest first), each 32 random bytes in base64url."""
    current = _mfa_key("MFA_ENCRYPTION_KEY", source.required("MFA_ENCRYPTION_KEY"))
    old = [
        _mfa_key(f"MFA_ENCRYPTION_KEY_FALLBACKS (key {index})", value)
        for index, value in enumerate(source.list("MFA_ENCRYPTION_KEY_FALLBACKS"), start=1)
    ]
    return (*old, current)


def _mfa_key(name: str, value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != MFA_KEY_BYTES:
        raise ConfigError(
            f"{name} is not {MFA_KEY_BYTES} bytes in base64url (43 characters). {MFA_KEY_HINT}"
        )
    _check_secret_strength(name, value)
    return key


def _webauthn_rp_id(source: _Source, public_url: str, production: bool) -> str:
    """The WebAuthn relying party id: PUBLIC_URL's host in production (or a
    registrable suffix of it, with WEBAUTHN_RP_ID); ``localhost`` in
    development without PUBLIC_URL. Browsers refuse IP addresses."""
    host = (urlsplit(public_url).hostname or "") if public_url else ""
    if production and not host:
        raise ConfigError("PUBLIC_URL is required in production (it names WEBAUTHN_RP_ID).")
    if _IP_ADDRESS.search(host) and not production:
        # Development on an address (tests, a LAN box): passkeys need a name.
        host = ""
    rp_id = source.text("WEBAUTHN_RP_ID").lower() or host or DEVELOPMENT_RP_ID
    if _IP_ADDRESS.search(rp_id):
        raise ConfigError(
            f"WEBAUTHN_RP_ID={rp_id!r} is an IP address, which browsers refuse for "
            "passkeys. Serve the app on a host name (localhost in development)."
        )
    if host and not (host == rp_id or host.endswith("." + rp_id)):
        raise ConfigError(
            f"WEBAUTHN_RP_ID={rp_id!r} must be PUBLIC_URL's host {host!r} or a parent domain of it."
        )
    return rp_id


def _refuse_per_process_rate_limits(storage_uri: str, workers: int) -> None:
    """Refuse rate limits that each of several worker processes would count alone.

    ``memory://`` counts in the process's own memory: with N workers every
    limit, and the password reset's double-submit guard, would hold N times
    over. Redis (or any other shared storage) counts once for all of them.
    """
    if workers > 1 and urlsplit(storage_uri).scheme == "memory":
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI={storage_uri} counts in each process, and "
            f"WEB_CONCURRENCY={workers} runs {workers} worker processes: every rate limit "
            f"(and the password reset's double-submit guard) would allow {workers} times "
            "as much. In production set RATELIMIT_STORAGE_URI=redis://host:6379/0 (shared "
            "by every worker and instance), or run one worker (WEB_CONCURRENCY=1)."
        )


def _invalidation_url(source: _Source, ratelimit_storage_uri: str) -> str:
    """SESSION_INVALIDATION_URL: a Redis URL, ``off``, or unset for the rate
    limits' Redis (when that is Redis; otherwise none)."""
    value = source.text("SESSION_INVALIDATION_URL")
    if value.lower() == "off":
        return ""
    if not value:
        scheme = urlsplit(ratelimit_storage_uri).scheme
        return ratelimit_storage_uri if scheme in REDIS_SCHEMES else ""
    parts = urlsplit(value)
    if parts.scheme not in REDIS_SCHEMES or not (parts.netloc or parts.path):
        raise ConfigError(
            f"SESSION_INVALIDATION_URL must be a Redis URL such as redis://host:6379/0 "
            f"(or off), not {parts.scheme or value!r}."
        )
    return value


def _refuse_unsafe_emulators(
    emulators: Mapping[str, str], project_id: str, production: bool
) -> None:
    # With FIREBASE_AUTH_EMULATOR_HOST set the Admin SDK accepts unsigned ID
    # tokens, so emulator mode is only safe where no real data can be reached.
    active = [name for name, value in emulators.items() if value]
    if not active:
        return
    names = " and ".join(active)
    if production:
        raise ConfigError(
            f"{names} is set but ADMINAPP_ENV is production. Emulator mode accepts "
            "unsigned ID tokens: unset it, or set ADMINAPP_ENV=development."
        )
    if not project_id.startswith(DEMO_PROJECT_PREFIX):
        raise ConfigError(
            f"{names} is set but FIREBASE_PROJECT_ID={project_id!r} does not start with "
            f"{DEMO_PROJECT_PREFIX!r}. Use a demo project id with the emulators so that "
            "no real project can be reached."
        )


def _check_secret_strength(name: str, value: str) -> None:
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{name} is too short: at least {MIN_SECRET_BYTES} bytes are needed. {GENERATOR_HINT}"
        )
    if value in PUBLISHED_SECRETS:
        raise ConfigError(
            f"{name} is an example key published in documentation: anyone could sign "
            f"cookies with it. {GENERATOR_HINT}"
        )
    distinct = len(set(value))
    # A string that occurs inside itself doubled (minus the ends) is a
    # repetition of a shorter unit: "abcabcabc…".
    if distinct < MIN_SECRET_DISTINCT or value in (value + value)[1:-1]:
        raise ConfigError(
            f"{name} has too little variety ({distinct} different characters"
            f"{', repeating a shorter pattern' if distinct >= MIN_SECRET_DISTINCT else ''}; "
            f"a generated key has at least {MIN_SECRET_DISTINCT}): it was not made by a "
            f"random generator. {GENERATOR_HINT}"
        )


def _check_credentials_file(path: str) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise ConfigError(
            f"FIREBASE_CREDENTIALS: cannot read {path!r} ({error.strerror})."
        ) from None
    except ValueError:
        raise ConfigError(f"FIREBASE_CREDENTIALS: {path!r} is not a JSON file.") from None
    if not isinstance(document, dict) or document.get("type") != "service_account":
        raise ConfigError(
            f"FIREBASE_CREDENTIALS: {path!r} is not a service-account key file. "
            "Leave it unset to use Application Default Credentials."
        )


def _load_smtp(source: _Source, *, required: bool) -> SmtpSettings:
    if not required:
        return SmtpSettings()
    security = source.choice("SMTP_SECURITY", SMTP_SECURITY, "starttls")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    return SmtpSettings(
        host=source.required("SMTP_HOST"),
        port=int(source.number("SMTP_PORT", default_port, low=1, high=65535)),
        username=source.text("SMTP_USERNAME"),
        password=source.text("SMTP_PASSWORD"),
        security=security,
        sender=_mail_from(source.required("MAIL_FROM")),
        timeout=source.number("SMTP_TIMEOUT_SECONDS", 10, low=1, high=120),
        ca_file=_readable_file("SMTP_CA_FILE", source.text("SMTP_CA_FILE")),
    )


def _mail_from(value: str) -> str:
    # "Name <address>" or a bare address; one address, no header injection.
    _, address = parseaddr(value)
    if "\n" in value or "\r" in value or not address or address.count("@") != 1:
        raise ConfigError(
            f"MAIL_FROM={value!r} is not an email address such as 'Admin <no-reply@example.com>'."
        )
    return value


def _readable_file(name: str, path: str) -> str:
    if path and not (os.path.isfile(path) and os.access(path, os.R_OK)):
        raise ConfigError(f"{name}: {path!r} is not a readable file.")
    return path


class _Source:
    """Typed access to raw settings, with errors that name the setting."""

    def __init__(self, values: Mapping[str, str]):
        self._values = values

    def text(self, name: str) -> str:
        return (self._values.get(name) or "").strip()

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise ConfigError(f"{name} is required but not set. See .env.example.")
        return value

    def secret(self, name: str) -> str:
        value = self.required(name)
        _check_secret_strength(name, value)
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name) or default
        if value not in allowed:
            raise ConfigError(f"{name}={value!r} is not one of: {', '.join(allowed)}.")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name).lower()
        if not value:
            return default
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={value!r} is not a boolean (use true or false).")

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a number.") from None
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw} is out of range ({low:g} to {high:g}).")
        return value

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.number(name, default, low=low, high=high)
        if value != int(value):
            raise ConfigError(f"{name}={self.text(name)!r} is not a whole number.")
        return int(value)

    def minutes(self, name: str, default: int) -> timedelta:
        return timedelta(minutes=self.number(name, default, low=1, high=60 * 24 * 30))

    def rate_limit(self, name: str, default: str) -> str:
        value = self.text(name) or default
        try:
            limits.parse_many(value)
        except ValueError:
            raise ConfigError(
                f"{name}={value!r} is not a rate limit such as '5 per hour'."
            ) from None
        return value

    def timezone(self, name: str, default: str) -> str:
        value = self.text(name) or default
        if valid_zone(value) is None:
            raise ConfigError(
                f"{name}={value!r} is not an IANA time zone such as Asia/Seoul or UTC."
            )
        return value

    def list(self, name: str) -> list[str]:
        return [item.strip() for item in self.text(name).split(",") if item.strip()]

    def import_paths(self, name: str) -> list[str]:
        """``package.module:attribute`` entries; importing them is the app's job."""
        paths = self.list(name)
        for path in paths:
            if not _IMPORT_PATH.match(path):
                raise ConfigError(
                    f"{name}: {path!r} is not an import path such as 'myproduct.admin:bp'."
                )
        return paths

    def url(self, name: str, *, required: bool) -> str:
        value = self.required(name) if required else self.text(name)
        if not value:
            return ""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(
                f"{name}={value!r} must be an absolute http(s) URL such as "
                "https://admin.example.com"
            )
        return value.rstrip("/")
