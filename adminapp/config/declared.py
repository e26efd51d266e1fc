"""Every setting of adminapp, declared once, and the records the app reads.

A setting's declaration says everything about it: its environment name, the
field it fills, how it is read and checked, its default, whether it is
secret, and one line for the docs. ``load_settings`` reads from it,
docs/configuration.md and .env.example are written from it (``make
settings-docs``), and ``check`` below refuses a field without a setting or a
setting without a field. docs/configuration.md says how to add one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from ..domain.role_rules import RoleRule
from . import readers
from .declaration import Record, Section, Setting, check, declared, hide_secrets
from .readers import COOKIE_MODES, CPU_ALLOCATIONS, DEVELOPMENT, LOG_FORMATS, PRODUCTION, ROLES
from .rules import ProviderButton, smtp_in_use
from .source import (
    Source,
    days,
    minutes_between,
    number,
    one_of,
    optional_choice,
    seconds,
    whole_number,
)


@dataclass(frozen=True, repr=False)
class SmtpSettings(Record):
    """The mail server: read only when SMTP is in use (see ``rules.mail_server``)."""

    host: str
    port: int
    username: str
    password: str
    security: str
    sender: str
    timeout: float
    # A CA bundle to trust instead of the system's; "" = the system's.
    ca_file: str


@dataclass(frozen=True, repr=False)
class Settings(Record):
    """What the app reads; each field is filled by the setting declared for
    it below (or by a rule that completes it, in rules.py)."""

    environment: str
    secret_key: str
    secret_key_fallbacks: tuple[str, ...]
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
    # Roles from the identity provider (adminapp/domain/role_rules.py), in
    # order: the first rule a verified token matches gives its role.
    role_rules: tuple[RoleRule, ...]
    # Whether Firebase's own second factor (firebase.sign_in_second_factor)
    # counts as the admin's second factor at gate 2.
    accept_firebase_second_factor: bool
    # Whether the login page may load reCAPTCHA (SMS second factors).
    firebase_sms_second_factor: bool
    session_cache_ttl: timedelta
    # Redis pub/sub URL that carries session-cache invalidations between
    # processes; empty = none (each process's cache is bounded by its TTL only).
    session_invalidation_url: str
    ratelimit_storage_uri: str
    # How long a new serving process waits for its predecessor (memory:// only).
    serving_handover: timedelta
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
    provider_buttons: tuple[ProviderButton, ...]
    # Product blueprints to mount behind the gate ("package.module:attribute"),
    # and whether the users console ships on (adminapp/web/products.py).
    product_blueprints: tuple[str, ...]
    users_console: bool
    users_page_size: int
    # The second factor (adminapp/services/mfa/).
    mfa_required_roles: frozenset[str]
    pending_session_lifetime: timedelta
    step_up_window: timedelta
    # The per-admin bound on wrong codes (adminapp/services/mfa/lockout.py).
    mfa_admin_max_failures: int
    mfa_admin_failure_window: timedelta
    mfa_admin_lock: timedelta
    # AES-GCM keys for TOTP secrets at rest: the last encrypts, all decrypt.
    mfa_encryption_keys: tuple[bytes, ...]
    webauthn_rp_id: str
    # "" = the request's own origin (development without PUBLIC_URL).
    webauthn_origin: str
    # The language and IANA time zone of anyone who has not chosen their own.
    default_locale: str
    default_timezone: str
    # "hosting": every cookie's content in one __session cookie (Firebase
    # Hosting forwards no other to Cloud Run); "standard": one cookie each.
    cookie_mode: str
    # "json": one JSON object per log line, as Cloud Logging reads them.
    log_format: str
    # "request": no CPU between requests, so work is finished before the
    # response goes out (adminapp/web/background_work.py).
    cloud_run_cpu: str
    # How long a session record stays after the session's planned end, for
    # investigation; then Firestore's TTL policy deletes it (expire_at).
    session_retention: timedelta
    # How long an audit entry (an access record among them) is kept; changes
    # to access rights at least 3 years (domain/audit.py retention_for).
    access_record_retention: timedelta
    # Owners are alerted past this many data subjects per admin per hour
    # (services/alerts.py); 0: never.
    access_alert_subjects_per_hour: int
    # The HMAC key of the audit trail's chain (firebase/audit_chain.py).
    audit_chain_key: bytes
    # The monthly access review (services/access_review.py): when staff are
    # expected to work (in each admin's own time zone), and what counts as
    # a bulk lookup (more than this many data subjects within this window).
    working_hours: tuple[time, time]
    working_days: frozenset[int]
    access_bulk_subjects: int
    access_bulk_window: timedelta

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


def _smtp_named(source: Source) -> bool:
    return smtp_in_use(source.text("RESET_DELIVERY"), source.text("SMTP_HOST"))


SECTIONS = (
    Section(
        "Mode",
        Setting(
            "ADMINAPP_ENV",
            "environment",
            one_of(PRODUCTION, DEVELOPMENT),
            "`production` or `development`. Emulators and insecure cookies are refused "
            "in production.",
            default=PRODUCTION,
            example=DEVELOPMENT,
        ),
    ),
    Section(
        "Secrets",
        Setting(
            "SECRET_KEY",
            "secret_key",
            readers.signing_key,
            "signs cookies and CSRF tokens: at least 32 bytes made by a random generator "
            "(a key of fewer than 8 different characters, one that repeats a shorter "
            "pattern, or an example key published in documentation is refused). Generate "
            'one with `python -c "import secrets; print(secrets.token_urlsafe(48))"`; '
            "`make run` writes one into `.env`",
            required=True,
            secret=True,
        ),
        Setting(
            "SECRET_KEY_FALLBACKS",
            "secret_key_fallbacks",
            readers.signing_keys,
            "old keys, comma-separated, oldest first, still accepted for verifying cookies "
            "during a rotation; new cookies always use `SECRET_KEY`",
            secret=True,
        ),
        Setting(
            "MFA_ENCRYPTION_KEY",
            "mfa_encryption_keys",
            readers.mfa_key,
            "AES-256-GCM key for TOTP secrets at rest: 32 random bytes in base64url "
            '(`python -c "import secrets; print(secrets.token_urlsafe(32))"`), checked at '
            "start-up; `make run` writes one into `.env`",
            required=True,
            secret=True,
        ),
        Setting(
            "MFA_ENCRYPTION_KEY_FALLBACKS",
            None,
            readers.mfa_keys,
            "old keys, comma-separated, oldest first, that still decrypt TOTP secrets "
            "during a rotation",
            secret=True,
        ),
    ),
    Section(
        "Firebase",
        Setting(
            "FIREBASE_PROJECT_ID",
            "project_id",
            Source.text,
            "the Firebase project; must start with `demo-` when an emulator is used",
            required=True,
            example="demo-adminapp",
        ),
        Setting(
            "FIREBASE_TENANT_ID",
            "tenant_id",
            readers.tenant_id,
            "with Identity Platform multi-tenancy: the tenant whose users are the staff. "
            "Set, only that tenant's ID tokens are accepted (project-level and other "
            "tenants' tokens get `403 wrong_tenant`), and every Firebase Auth call follows "
            "it: token verification, the account re-check, sign out everywhere, "
            "invitations, reset links and the login page's JS SDK (`auth.tenantId`). Empty, "
            "only the project's own users are accepted and any token carrying a tenant is "
            "refused. Firestore is per project either way",
        ),
        Setting(
            "FIREBASE_CREDENTIALS",
            "credentials_file",
            readers.credentials_file,
            "path to a service-account JSON key; empty means Application Default "
            "Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud, or the metadata server "
            "on Google Cloud)",
        ),
        Setting(
            "FIREBASE_WEB_API_KEY",
            "web_api_key",
            Source.text,
            "the web app's API key, for the JS SDK (Firebase console: Project settings > "
            "General); any value works on the Auth emulator",
            default_doc="required without the Auth emulator",
        ),
        Setting(
            "FIREBASE_AUTH_DOMAIN",
            "auth_domain",
            Source.text,
            "the web app's auth domain, for the JS SDK (`<project>.firebaseapp.com` on "
            "the Auth emulator)",
            default_doc="required without the Auth emulator",
        ),
        Setting(
            "FIREBASE_AUTH_EMULATOR_HOST",
            "auth_emulator_host",
            readers.process_environment_first,
            "`host:port` of the Auth emulator (development only, with a `demo-` project); "
            "the process environment wins over `.env` and overrides, as for the Firebase SDKs",
            example="127.0.0.1:9099",
        ),
        Setting(
            "FIRESTORE_EMULATOR_HOST",
            "firestore_emulator_host",
            readers.process_environment_first,
            "`host:port` of the Firestore emulator (development only, with a `demo-` "
            "project); the process environment wins, as for `FIREBASE_AUTH_EMULATOR_HOST`",
            example="127.0.0.1:8080",
        ),
        Setting(
            "BACKEND_TIMEOUT_SECONDS",
            "backend_timeout",
            number(0.1, 30),
            "seconds (0.1 to 30) one Firestore call (retries and transactions included) "
            "or one Firebase Auth call (one attempt) may take before the app answers 503",
            default="3",
        ),
    ),
    Section(
        "Web",
        Setting(
            "PUBLIC_URL",
            "public_url",
            Source.url,
            "the app's public origin, e.g. `https://admin.example.com` (sign-in Origin "
            "check, links in emails, passkeys); must be `https` in production",
            default_doc="required in production",
            also_fills=("webauthn_origin",),
        ),
        Setting(
            "SESSION_COOKIE_SECURE",
            "cookie_secure",
            Source.flag,
            "Secure cookies with the `__Host-` prefix; `false` only for plain-HTTP "
            "development on a host other than `localhost` or `127.0.0.1` (browsers accept "
            "Secure cookies there); refused in production",
            default="true",
        ),
        Setting(
            "TRUSTED_PROXY_COUNT",
            "trusted_proxy_count",
            whole_number(0, 10),
            "reverse proxies (0 to 10) in front of the app whose `X-Forwarded-*` headers "
            "are trusted for the client IP (rate limits, audit); 0 = none",
            default="0",
        ),
    ),
    Section(
        "Sessions",
        Setting(
            "SESSION_LIFETIME_MINUTES",
            "session_lifetime",
            Source.minutes,
            "absolute session lifetime, in minutes",
            default="720",
        ),
        Setting(
            "SESSION_IDLE_MINUTES",
            "session_idle_timeout",
            Source.minutes,
            "idle timeout, in minutes",
            default="30",
        ),
        Setting(
            "SESSION_ACTIVITY_MINUTES",
            "session_activity_interval",
            Source.minutes,
            "activity is recorded at most this often (minutes), not on every request; "
            "must be shorter than the idle timeout",
            default="5",
        ),
        Setting(
            "AUTH_RECHECK_MINUTES",
            "auth_recheck_interval",
            Source.minutes,
            "how often (minutes) a live session re-checks its Firebase account for being "
            "disabled, deleted or revoked",
            default="5",
        ),
        Setting(
            "RECENT_SIGN_IN_MINUTES",
            "recent_sign_in",
            Source.minutes,
            "a Firebase sign-in older than this (minutes) cannot open a session",
            default="5",
        ),
    ),
    Section(
        "Sign-in",
        Setting(
            "REQUIRE_EMAIL_VERIFIED",
            "require_email_verified",
            Source.flag,
            "refuse accounts whose email is not verified (see `TRUST_UNVERIFIED_EMAIL_PROVIDERS`)",
            default="true",
        ),
        Setting(
            "ALLOWED_SIGN_IN_PROVIDERS",
            "allowed_sign_in_providers",
            readers.sign_in_providers,
            "sign-in providers that may open a session, comma-separated, in the order of "
            "the login page's buttons: `password` (the form), `google.com`, "
            "`microsoft.com`, `apple.com`, `github.com`, `oidc.<name>`, `saml.<name>`, and "
            "`custom` (no button: scripts with custom tokens), e.g. "
            "`password,google.com,oidc.kakao`. Anything else stops start-up "
            "(docs/single-sign-on.md)",
            default="password",
        ),
        Setting(
            "SIGN_IN_PROVIDER_OPTIONS",
            "provider_buttons",
            readers.provider_options,
            "JSON object keyed by provider id: `label` (the button's name; required for "
            "`oidc.*` and `saml.*`), `scopes` (list) and `parameters` (custom parameters "
            "such as Google's `hd` or Microsoft's `tenant`), e.g. `{\"google.com\": "
            '{"parameters": {"hd": "acme.com"}}, "oidc.kakao": {"label": "Kakao"}}`; '
            "SAML takes neither",
        ),
        Setting(
            "ALLOWED_EMAIL_DOMAINS",
            "allowed_email_domains",
            readers.email_domains,
            "comma-separated domains; only addresses in them (exactly, no subdomains) open "
            "a session (every provider, the bearer API) or can be invited",
            default_doc="empty (any)",
        ),
        Setting(
            "TRUST_UNVERIFIED_EMAIL_PROVIDERS",
            "trust_unverified_email_providers",
            readers.unverified_email_providers,
            "providers (of `ALLOWED_SIGN_IN_PROVIDERS`, never `password`) whose tokens may "
            "open a session without `email_verified`, for IdPs that never send it; logged "
            "at start-up and at each such sign-in",
        ),
        Setting(
            "ROLE_RULES",
            "role_rules",
            readers.role_rules,
            "roles from the identity provider: a JSON list of rules, **first match wins**, "
            'each `{"claim": NAME, "contains": VALUE, "role": ROLE}` (a custom claim of the '
            'staff account; or `"equals"`) or `{"attribute": NAME, …}` (a SAML attribute, '
            "`firebase.sign_in_attributes`); ROLE is built in or a custom role's name. A "
            "matching staff member's first sign-in makes their admin document; when no rule "
            "matches any more, one made by a rule is removed. Admins added by hand are never "
            "touched. Unknown keys, role names that cannot be a role, reserved claims and "
            "repeated conditions stop start-up; a custom role that does not exist refuses the "
            "sign-in (docs/role-rules.md)",
            default_doc="empty (no rules)",
        ),
        Setting(
            "FIREBASE_SMS_SECOND_FACTOR",
            "firebase_sms_second_factor",
            Source.flag,
            "the Firebase project uses SMS second factors: the login page alone may load reCAPTCHA",
            default="false",
        ),
        Setting(
            "ACCEPT_FIREBASE_SECOND_FACTOR",
            "accept_firebase_second_factor",
            Source.flag,
            "count Firebase's own second factor (`firebase.sign_in_second_factor`) as the "
            "admin's second factor at gate 2 "
            '(docs/second-factor.md: "Firebase\'s own second factors")',
            default="false",
        ),
    ),
    Section(
        "Second factor",
        Setting(
            "MFA_REQUIRED_ROLES",
            "mfa_required_roles",
            readers.roles_or_none,
            "roles (comma-separated) that must prove a second factor at sign-in; `none` "
            "turns it off. Custom roles need one unless it is `none`",
            default=",".join(ROLES),
        ),
        Setting(
            "PENDING_SESSION_MINUTES",
            "pending_session_lifetime",
            Source.minutes,
            "minutes a session waiting for its second factor lives",
            default="5",
        ),
        Setting(
            "STEP_UP_MINUTES",
            "step_up_window",
            Source.minutes,
            "how recent (minutes) a second-factor proof dangerous actions need "
            '(docs/second-factor.md: "Step-up")',
            default="10",
        ),
        Setting(
            "MFA_ADMIN_MAX_FAILURES",
            "mfa_admin_max_failures",
            whole_number(3, 100),
            "wrong codes (TOTP, recovery codes) per admin, across every session and "
            "address, that lock codes (3 to 100)",
            default="10",
        ),
        Setting(
            "MFA_ADMIN_FAILURE_WINDOW_MINUTES",
            "mfa_admin_failure_window",
            Source.minutes,
            "the window (minutes) in which those wrong codes are counted",
            default="15",
        ),
        Setting(
            "MFA_ADMIN_LOCK_MINUTES",
            "mfa_admin_lock",
            Source.minutes,
            "how long (minutes) codes stay locked; passkeys still work, and an owner or "
            "`flask admins unlock` lifts it",
            default="15",
        ),
        Setting(
            "WEBAUTHN_RP_ID",
            "webauthn_rp_id",
            readers.lower_text,
            "passkeys' relying party id: a passkey works only here and on its subdomains, "
            "so changing it orphans existing passkeys; an IP address is refused. The "
            "expected origin is `PUBLIC_URL` (in development without it, the request's own)",
            default_doc="`PUBLIC_URL`'s host; `localhost` without it",
        ),
    ),
    Section(
        "Session cache",
        Setting(
            "SESSION_CACHE_SECONDS",
            "session_cache_ttl",
            seconds(0, 300),
            "0 to 300 seconds: keep each checked session and its admin in the process's "
            "memory this long, so guarded requests cost no Firestore read; 0 = off. With an "
            "invalidation channel, changes made anywhere apply everywhere within a second; "
            "without one, changes made in other processes apply within this time "
            '(docs/operations.md: "Running several instances")',
            default="0",
        ),
        Setting(
            "SESSION_INVALIDATION_URL",
            "session_invalidation_url",
            readers.redis_url_or_off,
            "`redis://host:6379/0` (or `rediss://`, `unix://`): the Redis pub/sub channel "
            "that tells every process's session cache about sign-outs, ended sessions and "
            "admin changes; `off` for none. Used only with the cache on; while it is "
            "unreachable the cache is not used",
            default_doc="`RATELIMIT_STORAGE_URI` when that is `redis://…`, else none",
            secret=True,
        ),
    ),
    Section(
        "Rate limits",
        Setting(
            "RATELIMIT_STORAGE_URI",
            "ratelimit_storage_uri",
            Source.text,
            "Flask-Limiter storage: `memory://` counts in each process; "
            "`redis://host:6379/0` shares the limits (and the reset double-submit guard) "
            "between workers and instances. If Redis stops answering, each process counts "
            "alone until it is back (a warning is logged)",
            default="memory://",
            secret=True,
        ),
        Setting(
            "WEB_CONCURRENCY",
            None,
            whole_number(1, 256),
            "gunicorn worker processes: `gunicorn.conf.py` reads it, then sets it to the "
            "real count (`--workers` included) for the app, which in production refuses "
            "more than 1 with `RATELIMIT_STORAGE_URI=memory://`. Leave it unset in "
            "development",
            default_doc="`2` under `gunicorn.conf.py`; unset otherwise",
        ),
        Setting(
            "SERVING_HANDOVER_SECONDS",
            "serving_handover",
            seconds(1, 25),
            "1 to 25 seconds, in production with `RATELIMIT_STORAGE_URI=memory://`: how long "
            "a new serving process (a gunicorn worker started again, or by a reload) waits "
            "for the one it replaces to exit before it refuses to serve. Keep it below "
            "gunicorn's worker timeout (30 s), after which the master stops a worker that "
            "has not booted",
            default="10",
        ),
        Setting(
            "SIGN_IN_RATE_LIMIT",
            "sign_in_rate_limit",
            Source.rate_limit,
            "per client IP, on the sign-in exchange (Flask-Limiter syntax)",
            default="10 per minute;60 per hour",
        ),
        Setting(
            "API_BEARER_RATE_LIMIT",
            "api_bearer_rate_limit",
            Source.rate_limit,
            "per client IP, on API calls with `Authorization: Bearer <ID token>`, counted "
            "before the token is verified",
            default="120 per minute",
        ),
        Setting(
            "RESET_RATE_LIMIT_PER_EMAIL",
            "reset_rate_limit_per_email",
            Source.rate_limit,
            "password reset requests per address",
            default="5 per hour",
        ),
        Setting(
            "RESET_RATE_LIMIT_PER_IP",
            "reset_rate_limit_per_ip",
            Source.rate_limit,
            "password reset requests (and confirmation pages) per client IP",
            default="20 per hour",
        ),
    ),
    Section(
        "Password reset emails",
        Setting(
            "RESET_DELIVERY",
            "reset_delivery",
            one_of("firebase", "smtp"),
            "`firebase`: Firebase sends its own templated email (point its template's "
            "action URL at `PUBLIC_URL/admin/resetpassword/confirm`); `smtp`: our own "
            "email through the mail server below, which needs `PUBLIC_URL` "
            "(docs/password-reset.md)",
            default="firebase",
        ),
    ),
    Section(
        "Mail server",
        Setting(
            "SMTP_HOST",
            "smtp.host",
            Source.text,
            "the SMTP server; with `RESET_DELIVERY=firebase`, setting it (with `MAIL_FROM`) "
            "turns on the password-changed notices",
            default_doc="required with `RESET_DELIVERY=smtp`",
        ),
        Setting(
            "SMTP_PORT",
            "smtp.port",
            whole_number(1, 65535),
            "the server's port",
            default_doc="`587`, `465` or `25` by `SMTP_SECURITY`",
        ),
        Setting(
            "SMTP_SECURITY",
            "smtp.security",
            one_of("starttls", "ssl", "none"),
            "`starttls`, `ssl` (SMTP over TLS) or `none` (local relays only)",
            default="starttls",
        ),
        Setting(
            "SMTP_USERNAME",
            "smtp.username",
            Source.text,
            "log in with this user name (and `SMTP_PASSWORD`) when set",
        ),
        Setting(
            "SMTP_PASSWORD",
            "smtp.password",
            Source.text,
            "the password of `SMTP_USERNAME`",
            secret=True,
        ),
        Setting(
            "SMTP_CA_FILE",
            "smtp.ca_file",
            readers.readable_file,
            "a CA bundle to trust instead of the system's, for a relay with a private "
            "certificate; certificates are always verified",
        ),
        Setting(
            "SMTP_TIMEOUT_SECONDS",
            "smtp.timeout",
            number(1, 120),
            "seconds (1 to 120) each SMTP step may take",
            default="10",
        ),
        Setting(
            "MAIL_FROM",
            "smtp.sender",
            readers.mail_address,
            "sender of our emails, `Name <address>` or an address, e.g. "
            "`Admin <no-reply@example.com>`",
            default_doc="required with `SMTP_HOST`",
        ),
        note="Read only with `RESET_DELIVERY=smtp` or when `SMTP_HOST` is set; otherwise ignored.",
        read_when=_smtp_named,
    ),
    Section(
        "Product pages",
        Setting(
            "ADMINAPP_BLUEPRINTS",
            "product_blueprints",
            readers.import_paths,
            "product blueprints to mount behind the gate, comma-separated "
            "`package.module:attribute` (a Blueprint or a list of them), e.g. "
            "`adminapp_notes:bp` (docs/extending.md)",
        ),
        Setting(
            "USERS_CONSOLE",
            "users_console",
            Source.flag,
            "mount the users console (`/admin/users`, `/admin/api/users`) over the "
            "product's Firebase users",
            default="true",
        ),
        Setting(
            "USERS_PAGE_SIZE",
            "users_page_size",
            whole_number(1, 1000),
            "users per page in the users console (1 to 1000; the API's `limit` overrides "
            "it per call)",
            default="50",
        ),
    ),
    Section(
        "Languages and time zones",
        Setting(
            "DEFAULT_LOCALE",
            "default_locale",
            readers.locale,
            "the language of anyone who chose none and whose browser asks for none we "
            "offer: `en` or `ko` (any language with a catalog in `adminapp/translations`)",
            default="en",
        ),
        Setting(
            "DEFAULT_TIMEZONE",
            "default_timezone",
            Source.timezone,
            "the IANA zone times are shown in for admins who chose none on "
            "`/admin/account`, e.g. `Asia/Seoul`; stored times are always UTC",
            default="UTC",
        ),
        note="How a language and a time zone are chosen: docs/languages.md.",
    ),
    Section(
        "Running on Firebase",
        Setting(
            "COOKIE_MODE",
            "cookie_mode",
            one_of(*COOKIE_MODES),
            "`hosting`: the session, Flask's state and the language travel in one "
            "`__session` cookie, the only one Firebase Hosting forwards to Cloud Run; "
            "`standard`: one cookie each",
            default="standard",
        ),
        Setting(
            "CLOUD_RUN_CPU",
            "cloud_run_cpu",
            optional_choice(*CPU_ALLOCATIONS),
            "`request`: the process has CPU only while it answers (Cloud Run's default "
            "billing), so a request's emails go out before its response and the reset request "
            "answers at a fixed floor for any address; `always`: emails after the response",
            default_doc="`request` on Cloud Run (`K_SERVICE` set), else `always`",
        ),
        Setting(
            "SESSION_RETENTION_DAYS",
            "session_retention",
            days(low=0, high=3650),
            "days a session record is kept after its planned end; then Firestore's TTL "
            "policy on `expire_at` deletes it",
            default="7",
        ),
        Setting(
            "K_SERVICE",
            None,
            Source.text,
            "set by Cloud Run (the service's name), never by hand: it picks the defaults "
            "of `LOG_FORMAT` and `CLOUD_RUN_CPU`",
        ),
        note="Cloud Run behind Firebase Hosting: docs/deploy.md.",
    ),
    Section(
        "Access records (PIPA)",
        Setting(
            "ACCESS_RECORD_RETENTION_DAYS",
            "access_record_retention",
            days(low=365, high=3650),
            "days an audit entry (access records included) is kept, then Firestore's TTL "
            "policy on `expire_at` deletes it; at least 365 (the standard's one year), 730 "
            "for large or sensitive processing; changes to access rights are kept at least "
            "3 years whatever this says",
            default="730",
        ),
        Setting(
            "AUDIT_CHAIN_KEY",
            "audit_chain_key",
            readers.optional_key,
            "HMAC-SHA256 key that chains each audit entry to the one before (tamper "
            "evidence): 32 random bytes in base64url, kept out of Firestore; required in "
            "production; elsewhere, unset, derived from `SECRET_KEY`; `make run` writes one "
            "into `.env`. Changing it makes every older entry fail `flask audit verify`",
            secret=True,
            default_doc="required in production; else derived from `SECRET_KEY`",
        ),
        Setting(
            "ACCESS_ALERT_SUBJECTS_PER_HOUR",
            "access_alert_subjects_per_hour",
            whole_number(0, 100000),
            "owners are emailed when one admin looks at more data subjects than this within "
            "an hour (each record's subjects counted, in `RATELIMIT_STORAGE_URI`), at most "
            "once an hour per admin; 0 turns the alert off (0 to 100000)",
            default="500",
        ),
        Setting(
            "WORKING_HOURS",
            "working_hours",
            readers.hours_of_the_day,
            "the hours of the working day, `HH:MM-HH:MM` (start before end), in each admin's "
            "own time zone: the monthly access review flags looks at personal data outside "
            "them",
            default="09:00-18:00",
        ),
        Setting(
            "WORKING_DAYS",
            "working_days",
            readers.days_of_the_week,
            "the working days of `WORKING_HOURS`, e.g. `mon-fri` or `mon,wed,fri` (public "
            "holidays are not known)",
            default="mon-fri",
        ),
        Setting(
            "ACCESS_BULK_SUBJECTS",
            "access_bulk_subjects",
            whole_number(1, 100000),
            "the monthly access review flags an admin who looked at more than this many "
            "different data subjects within `ACCESS_BULK_MINUTES` (1 to 100000)",
            default="100",
        ),
        Setting(
            "ACCESS_BULK_MINUTES",
            "access_bulk_window",
            minutes_between(1, 1440),
            "the window, in minutes (1 to 1440), of a bulk lookup (`ACCESS_BULK_SUBJECTS`)",
            default="10",
        ),
        note=(
            "docs/pipa.md: access records, retention, the chain, the owners' alerts and "
            "the monthly review."
        ),
    ),
    Section(
        "Logging and measuring",
        Setting(
            "LOG_FORMAT",
            "log_format",
            optional_choice(*LOG_FORMATS),
            "`json`: one JSON object per line with severity, trace and request fields, as "
            "Cloud Logging reads them; `text`: plain lines",
            default_doc="`json` in production on Cloud Run (`K_SERVICE` set), else `text`",
        ),
        Setting(
            "LOG_LEVEL",
            "log_level",
            one_of("DEBUG", "INFO", "WARNING", "ERROR"),
            "the level of the app's loggers (`adminapp.*`, `flask-limiter`): `DEBUG`, "
            "`INFO`, `WARNING` or `ERROR`",
            default="INFO",
        ),
        Setting(
            "SERVER_TIMING",
            "server_timing",
            Source.flag,
            "report each response's Firebase round trips in a `Server-Timing` header "
            "(for `make bench`)",
            default="false",
        ),
    ),
)

DECLARED = declared(SECTIONS)
check(SECTIONS, Settings)
hide_secrets(SECTIONS, Settings)
