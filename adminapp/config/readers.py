"""Readers of single settings whose values have a shape of their own: keys,
tenant ids, provider lists, domains, roles, files, addresses, URLs.

Each is ``(source, name) -> value`` and names the setting in its errors. A
reader checks one setting alone; what ties settings together is in
``rules.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from datetime import time
from email.utils import parseaddr
from urllib.parse import urlsplit

from ..catalogs import supported_locales
from ..domain.role_rules import RoleRule, RuleError, parse_role_rules
from ..domain.roles import ROLES
from ..domain.working_hours import parse_days, parse_hours
from .source import ConfigError, Source

PRODUCTION = "production"
DEVELOPMENT = "development"

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
# An AES-256-GCM key: 32 random bytes, base64url (secrets.token_urlsafe(32)).
MFA_KEY_BYTES = 32
MFA_KEY_HINT = 'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'

# Identity Platform tenant ids: letters, digits and hyphens ("staff-x1y2z").
_TENANT_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
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
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
REDIS_SCHEMES = ("redis", "rediss", "unix")
# The word that turns a feature off where an empty value means the default.
OFF = "off"
# How the app's cookies travel (adminapp/web/cookie_jar.py): one cookie each,
# or all of them in the one cookie Firebase Hosting forwards (__session).
COOKIE_MODES = ("standard", "hosting")
LOG_FORMATS = ("text", "json")
# When the process has CPU: only while it answers a request (Cloud Run's
# default), or always (instance-based billing, any ordinary server).
CPU_ALLOCATIONS = ("request", "always")


# -- keys --


def check_secret_strength(name: str, value: str) -> None:
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


def signing_key(source: Source, name: str) -> str:
    value = source.text(name)
    check_secret_strength(name, value)
    return value


def signing_keys(source: Source, name: str) -> tuple[str, ...]:
    """Old keys, oldest first; an error names the key by its position."""
    keys = tuple(source.list(name))
    for index, key in enumerate(keys, start=1):
        check_secret_strength(f"{name} (key {index})", key)
    return keys


def _mfa_key(name: str, value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != MFA_KEY_BYTES:
        raise ConfigError(
            f"{name} is not {MFA_KEY_BYTES} bytes in base64url (43 characters). {MFA_KEY_HINT}"
        )
    check_secret_strength(name, value)
    return key


def mfa_key(source: Source, name: str) -> bytes:
    return _mfa_key(name, source.text(name))


def optional_key(source: Source, name: str) -> bytes:
    """A 32-byte key like MFA_ENCRYPTION_KEY, or b"" when unset (a rule
    then decides: adminapp/config/rules.py audit_chain_key)."""
    value = source.text(name)
    return _mfa_key(name, value) if value else b""


def mfa_keys(source: Source, name: str) -> tuple[bytes, ...]:
    return tuple(
        _mfa_key(f"{name} (key {index})", value)
        for index, value in enumerate(source.list(name), start=1)
    )


# -- Firebase --


def process_environment_first(source: Source, name: str) -> str:
    """The emulator variables: ``os.environ`` wins over the overrides,
    because that is where the Firebase SDKs read them: the safety check must
    see what the SDKs will do."""
    return os.environ.get(name) or source.text(name)


def tenant_id(source: Source, name: str) -> str:
    value = source.text(name)
    if value and not _TENANT_ID.match(value):
        raise ConfigError(
            f"{name}={value!r} is not a tenant id (letters, digits and hyphens, as shown "
            "in the console under Identity Platform > Tenants)."
        )
    return value


def credentials_file(source: Source, name: str) -> str:
    path = source.text(name)
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise ConfigError(f"{name}: cannot read {path!r} ({error.strerror}).") from None
    except ValueError:
        raise ConfigError(f"{name}: {path!r} is not a JSON file.") from None
    if not isinstance(document, dict) or document.get("type") != "service_account":
        raise ConfigError(
            f"{name}: {path!r} is not a service-account key file. "
            "Leave it unset to use Application Default Credentials."
        )
    return path


# -- sign-in --


def sign_in_providers(source: Source, name: str) -> tuple[str, ...]:
    providers = source.list(name)
    for provider in providers:
        if provider not in BUILT_IN_PROVIDERS and not _FEDERATED_PROVIDER.match(provider):
            raise ConfigError(
                f"{name}: {provider!r} is not a sign-in provider staff "
                f"can use. Use {', '.join(BUILT_IN_PROVIDERS)}, or an Identity Platform "
                "provider id such as oidc.kakao or saml.acme (as shown in the Firebase "
                "console under Authentication > Sign-in method)."
            )
    if len(set(providers)) != len(providers):
        raise ConfigError(f"{name} names a provider twice.")
    return tuple(providers)


def unverified_email_providers(source: Source, name: str) -> frozenset[str]:
    providers = frozenset(source.list(name))
    if "password" in providers:
        raise ConfigError(
            f"{name} cannot name password: anyone can create "
            "a password account with any address; only a verified one may sign in."
        )
    return providers


def provider_options(source: Source, name: str) -> dict:
    """A JSON object keyed by provider id; ``rules.provider_buttons`` checks
    each entry against the providers and makes the buttons."""
    raw = source.text(name)
    try:
        options = json.loads(raw) if raw else {}
    except ValueError:
        raise ConfigError(f"{name} is not JSON (an object keyed by provider id).") from None
    if not isinstance(options, dict):
        raise ConfigError(f"{name} must be a JSON object keyed by provider id.")
    return options


def email_domains(source: Source, name: str) -> tuple[str, ...]:
    domains = [domain.lower() for domain in source.list(name)]
    for domain in domains:
        labels = domain.split(".")
        if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
            raise ConfigError(
                f"{name}: {domain!r} is not a domain such as acme.com "
                "(no @, no wildcard; write internationalised domains in their xn-- form)."
            )
    return tuple(domains)


# -- the second factor --


def roles_or_none(source: Source, name: str) -> frozenset[str]:
    """Comma-separated roles; "none" is the empty set (an explicit word, so
    an empty value cannot turn the second factor off by accident)."""
    if source.text(name).lower() == "none":
        return frozenset()
    roles = [role.lower() for role in source.list(name)]
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise ConfigError(
            f"{name}: {', '.join(unknown)} is not a role "
            f"(use a comma-separated list of {', '.join(ROLES)}, or none)."
        )
    return frozenset(roles)


def role_rules(source: Source, name: str) -> tuple[RoleRule, ...]:
    """A JSON list of rules, first match wins (adminapp/domain/role_rules.py)."""
    try:
        return parse_role_rules(source.text(name))
    except RuleError as error:
        raise ConfigError(f"{name} {error}") from None


def lower_text(source: Source, name: str) -> str:
    return source.text(name).lower()


# -- mail --


def mail_address(source: Source, name: str) -> str:
    """ "Name <address>" or a bare address; one address, no header injection."""
    value = source.text(name)
    if not value:
        return ""
    _, address = parseaddr(value)
    if "\n" in value or "\r" in value or not address or address.count("@") != 1:
        raise ConfigError(
            f"{name}={value!r} is not an email address such as 'Admin <no-reply@example.com>'."
        )
    return value


def readable_file(source: Source, name: str) -> str:
    path = source.text(name)
    if path and not (os.path.isfile(path) and os.access(path, os.R_OK)):
        raise ConfigError(f"{name}: {path!r} is not a readable file.")
    return path


# -- the rest --


def redis_url_or_off(source: Source, name: str) -> str:
    """A Redis URL, "off", or "" (unset: ``rules.invalidation_channel``
    picks the default). The value may hold a password: errors show only
    its scheme."""
    value = source.text(name)
    if not value or value.lower() == OFF:
        return value.lower()
    parts = urlsplit(value)
    if parts.scheme not in REDIS_SCHEMES or not (parts.netloc or parts.path):
        shown = repr(parts.scheme) if parts.scheme else "a URL"
        raise ConfigError(
            f"{name} must be a Redis URL such as redis://host:6379/0 (or off), not {shown}."
        )
    return value


def import_paths(source: Source, name: str) -> tuple[str, ...]:
    """``package.module:attribute`` entries; importing them is the app's job."""
    paths = source.list(name)
    for path in paths:
        if not _IMPORT_PATH.match(path):
            raise ConfigError(
                f"{name}: {path!r} is not an import path such as 'myproduct.admin:bp'."
            )
    return tuple(paths)


def hours_of_the_day(source: Source, name: str) -> tuple[time, time]:
    """``09:00-18:00``: (start, end), the start before the end."""
    try:
        return parse_hours(source.text(name))
    except ValueError as error:
        raise ConfigError(
            f"{name}={source.text(name)!r} is not a span of the day such as 09:00-18:00 ({error})."
        ) from None


def days_of_the_week(source: Source, name: str) -> frozenset[int]:
    """``mon-fri`` or ``mon,wed,fri``: weekday numbers (Monday 0)."""
    try:
        return parse_days(source.text(name))
    except ValueError as error:
        raise ConfigError(
            f"{name}={source.text(name)!r} is not a list of days such as mon-fri or "
            f"mon,wed,fri ({error})."
        ) from None


def locale(source: Source, name: str) -> str:
    """A language this installation has a catalog for."""
    return source.choice(name, supported_locales())
