"""Rules across settings, checked after every setting has been read alone.

Each rule takes the values read so far (keyed by setting name) and either
refuses them with a :class:`ConfigError` that names the settings involved,
or returns the values it completes (a default that depends on another
setting, say). ``RULES`` runs them in order; docs/configuration.md lists
each rule's first docstring line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..domain.roles import needs_second_factor
from .readers import DEVELOPMENT, OFF, PRODUCTION, REDIS_SCHEMES
from .source import ConfigError, required_message

Values = Mapping[str, Any]
Completed = dict[str, Any] | None

EMULATOR_VARIABLES = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
# Firebase reserves the "demo-" prefix for projects that exist only on the
# emulators; no real project can have such an id.
DEMO_PROJECT_PREFIX = "demo-"
DEVELOPMENT_RP_ID = "localhost"
_IP_ADDRESS = re.compile(r"^[0-9.]+$|:")
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
# What the login page's button says for a built-in provider.
PROVIDER_LABELS = {
    "google.com": "Google",
    "microsoft.com": "Microsoft",
    "apple.com": "Apple",
    "github.com": "GitHub",
}
_OPTION_FIELDS = frozenset({"label", "scopes", "parameters"})
# Providers without a button: the form, and scripts with custom tokens.
_NO_BUTTON = ("password", "custom")


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


def _production(values: Values) -> bool:
    return values["ADMINAPP_ENV"] == PRODUCTION


def emulators_only_on_demo_projects(values: Values) -> Completed:
    """`FIREBASE_AUTH_EMULATOR_HOST` and `FIRESTORE_EMULATOR_HOST` are refused in
    production and with a `FIREBASE_PROJECT_ID` not starting with `demo-`."""
    # With the Auth emulator the Admin SDK accepts unsigned ID tokens, so
    # emulator mode is only safe where no real data can be reached.
    active = [name for name in EMULATOR_VARIABLES if values[name]]
    if not active:
        return None
    names = " and ".join(active)
    if _production(values):
        raise ConfigError(
            f"{names} is set but ADMINAPP_ENV is production. Emulator mode accepts "
            f"unsigned ID tokens: unset it, or set ADMINAPP_ENV={DEVELOPMENT}."
        )
    project_id = values["FIREBASE_PROJECT_ID"]
    if not project_id.startswith(DEMO_PROJECT_PREFIX):
        raise ConfigError(
            f"{names} is set but FIREBASE_PROJECT_ID={project_id!r} does not start with "
            f"{DEMO_PROJECT_PREFIX!r}. Use a demo project id with the emulators so that "
            "no real project can be reached."
        )
    return None


def web_app_without_the_auth_emulator(values: Values) -> Completed:
    """`FIREBASE_WEB_API_KEY` and `FIREBASE_AUTH_DOMAIN` are required unless the
    Auth emulator is used, which accepts any."""
    # The JS SDK needs a key and domain to initialise.
    if not values["FIREBASE_AUTH_EMULATOR_HOST"]:
        for name in ("FIREBASE_WEB_API_KEY", "FIREBASE_AUTH_DOMAIN"):
            if not values[name]:
                raise ConfigError(required_message(name))
    return {
        "FIREBASE_WEB_API_KEY": values["FIREBASE_WEB_API_KEY"] or "demo-api-key",
        "FIREBASE_AUTH_DOMAIN": values["FIREBASE_AUTH_DOMAIN"]
        or f"{values['FIREBASE_PROJECT_ID']}.firebaseapp.com",
    }


def production_needs_https(values: Values) -> Completed:
    """In production `PUBLIC_URL` is required and must use `https://`, and
    `SESSION_COOKIE_SECURE` cannot be false."""
    if not _production(values):
        return None
    if not values["PUBLIC_URL"]:
        raise ConfigError(required_message("PUBLIC_URL"))
    if not values["SESSION_COOKIE_SECURE"]:
        raise ConfigError(
            "SESSION_COOKIE_SECURE=false is only allowed with ADMINAPP_ENV=development: "
            "in production the session cookie must never travel over plain HTTP."
        )
    if values["PUBLIC_URL"].startswith("http://"):
        raise ConfigError("PUBLIC_URL must use https:// in production.")
    return None


def activity_within_idle(values: Values) -> Completed:
    """`SESSION_ACTIVITY_MINUTES` must be shorter than `SESSION_IDLE_MINUTES`."""
    if values["SESSION_ACTIVITY_MINUTES"] >= values["SESSION_IDLE_MINUTES"]:
        raise ConfigError(
            "SESSION_ACTIVITY_MINUTES must be shorter than SESSION_IDLE_MINUTES, "
            "or an active admin would be timed out between two activity records."
        )
    return None


def smtp_in_use(reset_delivery: str, smtp_host: str) -> bool:
    """SMTP carries our reset emails in smtp mode, and password-change
    notices in either mode when a server is named."""
    return reset_delivery == "smtp" or bool(smtp_host)


def mail_server(values: Values) -> Completed:
    """With `RESET_DELIVERY=smtp`, or whenever `SMTP_HOST` is set, `SMTP_HOST` and
    `MAIL_FROM` are required; `RESET_DELIVERY=smtp` also needs `PUBLIC_URL`.
    `SMTP_PORT` defaults to 587, 465 or 25 by `SMTP_SECURITY`."""
    if smtp_in_use(values["RESET_DELIVERY"], values["SMTP_HOST"]):
        for name in ("SMTP_HOST", "MAIL_FROM"):
            if not values[name]:
                raise ConfigError(required_message(name))
    if values["RESET_DELIVERY"] == "smtp" and not values["PUBLIC_URL"]:
        raise ConfigError(
            "PUBLIC_URL is required with RESET_DELIVERY=smtp: the links in our emails "
            "point at it (never at the Host header a request happened to carry)."
        )
    return {"SMTP_PORT": values["SMTP_PORT"] or SMTP_PORTS[values["SMTP_SECURITY"]]}


def shared_rate_limits_with_several_workers(values: Values) -> Completed:
    """In production, `RATELIMIT_STORAGE_URI=memory://` is refused with more
    than one worker (`WEB_CONCURRENCY`): each would count alone."""
    # memory:// counts in the process's own memory: with N workers every
    # limit, and the password reset's double-submit guard, would hold N times
    # over. Redis (or any other shared storage) counts once for all of them.
    # Development may run several: make bench's, whose limits are out of reach.
    workers = values["WEB_CONCURRENCY"] or 0
    scheme = urlsplit(values["RATELIMIT_STORAGE_URI"]).scheme
    if _production(values) and workers > 1 and scheme == "memory":
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI=memory:// counts in each process, and "
            f"WEB_CONCURRENCY={workers} runs {workers} worker processes: every rate limit "
            f"(and the password reset's double-submit guard) would allow {workers} times "
            "as much. In production set RATELIMIT_STORAGE_URI=redis://host:6379/0 (shared "
            "by every worker and instance), or run one worker (WEB_CONCURRENCY=1)."
        )
    return None


def trusted_providers_are_allowed(values: Values) -> Completed:
    """`TRUST_UNVERIFIED_EMAIL_PROVIDERS` may only name providers of
    `ALLOWED_SIGN_IN_PROVIDERS`."""
    for provider in sorted(values["TRUST_UNVERIFIED_EMAIL_PROVIDERS"]):
        if provider not in values["ALLOWED_SIGN_IN_PROVIDERS"]:
            raise ConfigError(
                f"TRUST_UNVERIFIED_EMAIL_PROVIDERS names {provider!r}, which is not in "
                "ALLOWED_SIGN_IN_PROVIDERS."
            )
    return None


def rule_roles_need_a_second_factor(values: Values) -> Completed:
    """Every role that `ROLE_RULES` gives must need a second factor: a built-in
    role must be in `MFA_REQUIRED_ROLES`, and a custom role (which needs one
    whenever any role does) is refused with `MFA_REQUIRED_ROLES=none`. An admin
    whom nobody invited is let in only behind the second factor."""
    required = values["MFA_REQUIRED_ROLES"]
    for rule in values["ROLE_RULES"]:
        if needs_second_factor(rule.role, required):
            continue
        if rule.gives_custom_role:
            raise ConfigError(
                f"ROLE_RULES rule #{rule.position} gives the custom role {rule.role!r}, but "
                "MFA_REQUIRED_ROLES=none asks no role for a second factor: an admin made by "
                "a rule must prove one. Name the built-in roles that need one."
            )
        raise ConfigError(
            f"ROLE_RULES rule #{rule.position} gives the role {rule.role!r}, which is not "
            "in MFA_REQUIRED_ROLES: an admin made by a rule must prove a second factor."
        )
    return None


def provider_buttons(values: Values) -> Completed:
    """`SIGN_IN_PROVIDER_OPTIONS` may only name providers of
    `ALLOWED_SIGN_IN_PROVIDERS` that have a button, and each `oidc.*` or
    `saml.*` provider needs a label there."""
    name = "SIGN_IN_PROVIDER_OPTIONS"
    options = values[name]
    providers = values["ALLOWED_SIGN_IN_PROVIDERS"]
    for provider, option in options.items():
        if provider not in providers or provider in _NO_BUTTON:
            raise ConfigError(
                f"{name} has options for {provider!r}, which has no button: it is not a "
                "provider of ALLOWED_SIGN_IN_PROVIDERS other than password and custom."
            )
        if not isinstance(option, dict) or not set(option) <= _OPTION_FIELDS:
            raise ConfigError(
                f"{name}[{provider!r}] must be an object with only "
                f"{', '.join(sorted(_OPTION_FIELDS))}."
            )
    buttons = [
        _button(name, provider, options.get(provider, {}))
        for provider in providers
        if provider not in _NO_BUTTON
    ]
    return {name: tuple(buttons)}


def _button(name: str, provider: str, option: dict) -> ProviderButton:
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
    return ProviderButton(
        id=provider,
        label=label.strip(),
        scopes=tuple(scopes),
        parameters=tuple(sorted(parameters.items())),
    )


def mfa_key_ring(values: Values) -> Completed:
    """`MFA_ENCRYPTION_KEY` encrypts; `MFA_ENCRYPTION_KEY_FALLBACKS` (oldest
    first) still decrypt."""
    ring = (*values["MFA_ENCRYPTION_KEY_FALLBACKS"], values["MFA_ENCRYPTION_KEY"])
    return {"MFA_ENCRYPTION_KEY": ring}


def audit_chain_key(values: Values) -> Completed:
    """`AUDIT_CHAIN_KEY` is required in production; elsewhere, unset, the
    chain's key is derived from `SECRET_KEY`."""
    if values["AUDIT_CHAIN_KEY"]:
        return None
    if _production(values):
        raise ConfigError(
            "AUDIT_CHAIN_KEY is required in production: the audit trail's MACs need a key "
            'that Firestore does not hold. Generate one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"'
        )
    # Stable across restarts, so development trails verify; never used in production.
    derived = hmac.new(values["SECRET_KEY"].encode(), b"adminapp audit chain", hashlib.sha256)
    return {"AUDIT_CHAIN_KEY": derived.digest()}


def passkeys_relying_party(values: Values) -> Completed:
    """`WEBAUTHN_RP_ID` must be `PUBLIC_URL`'s host or a parent domain of it, and
    not an IP address; it defaults to that host (`localhost` in development
    without `PUBLIC_URL`)."""
    public_url, production = values["PUBLIC_URL"], _production(values)
    host = (urlsplit(public_url).hostname or "") if public_url else ""
    if production and not host:
        raise ConfigError("PUBLIC_URL is required in production (it names WEBAUTHN_RP_ID).")
    if _IP_ADDRESS.search(host) and not production:
        # Development on an address (tests, a LAN box): passkeys need a name.
        host = ""
    rp_id = values["WEBAUTHN_RP_ID"] or host or DEVELOPMENT_RP_ID
    if _IP_ADDRESS.search(rp_id):
        raise ConfigError(
            f"WEBAUTHN_RP_ID={rp_id!r} is an IP address, which browsers refuse for "
            "passkeys. Serve the app on a host name (localhost in development)."
        )
    if host and not (host == rp_id or host.endswith("." + rp_id)):
        raise ConfigError(
            f"WEBAUTHN_RP_ID={rp_id!r} must be PUBLIC_URL's host {host!r} or a parent domain of it."
        )
    return {"WEBAUTHN_RP_ID": rp_id}


def invalidation_channel(values: Values) -> Completed:
    """`SESSION_INVALIDATION_URL` defaults to `RATELIMIT_STORAGE_URI` when that
    is a Redis URL (else none); `off` turns it off."""
    value = values["SESSION_INVALIDATION_URL"]
    if value == OFF:
        return {"SESSION_INVALIDATION_URL": ""}
    if not value:
        limits = values["RATELIMIT_STORAGE_URI"]
        value = limits if urlsplit(limits).scheme in REDIS_SCHEMES else ""
    return {"SESSION_INVALIDATION_URL": value}


def cloud_run_defaults(values: Values) -> Completed:
    """On Cloud Run (`K_SERVICE` set) `CLOUD_RUN_CPU` defaults to `request`, and in
    production `LOG_FORMAT` to `json`; elsewhere to `always` and `text`."""
    return {
        "CLOUD_RUN_CPU": values["CLOUD_RUN_CPU"] or _cloud_run_cpu(values),
        "LOG_FORMAT": values["LOG_FORMAT"] or default_log_format(values),
    }


def _cloud_run_cpu(values: Values) -> str:
    # Cloud Run's default billing gives CPU only while a request is answered.
    return "request" if values["K_SERVICE"] else "always"


def default_log_format(values: Values) -> str:
    # Cloud Logging reads severity, trace and request fields only from JSON.
    return "json" if _production(values) and values["K_SERVICE"] else "text"


# In order: the emulator check first, as what matters most when several
# things are wrong at once.
RULES = (
    emulators_only_on_demo_projects,
    web_app_without_the_auth_emulator,
    production_needs_https,
    activity_within_idle,
    mail_server,
    shared_rate_limits_with_several_workers,
    trusted_providers_are_allowed,
    rule_roles_need_a_second_factor,
    provider_buttons,
    mfa_key_ring,
    audit_chain_key,
    passkeys_relying_party,
    invalidation_channel,
    cloud_run_defaults,
)
