"""Email addresses as identities: the one function that turns an address into
the key of an admin (``admins/{key}``).

Firebase Auth keeps ``" alice@example.com"`` and ``"alice@example.com"`` as
two accounts, and accepts addresses that are not plain (inner spaces,
control characters, ``/``). If we tidied such an address into a key, another
account could map onto an admin's document. So we do not tidy: an address
that is not a plain, well-formed address is refused, and a plain one is only
lower-cased (Firebase itself matches addresses case-insensitively). The same
function serves the sign-in, the API, invitations, the CLI and password
reset; nothing else makes a key from an address.

Syntax is checked by ``email-validator`` (the library WTForms uses), with
deliverability checks off: no DNS lookup on any request.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from .errors import InvalidInput
from .i18n_marks import N_

# RFC 5321's limit for a path; Firestore ids could be longer, addresses not.
MAX_EMAIL_LENGTH = 254
EXAMPLE = N_("Enter a valid email address, such as name@example.com.")


class InvalidEmail(InvalidInput):
    """Not a plain, well-formed address (400)."""

    def __init__(self, message: str = EXAMPLE):
        super().__init__(message)


def identity_key(raw: object) -> str:
    """The admin key for ``raw``: the address lower-cased, or :class:`InvalidEmail`."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_EMAIL_LENGTH:
        raise InvalidEmail()
    # "/" would split a Firestore document path; whitespace and control
    # characters make look-alikes of another address. RFC 5322 allows some
    # of these in a local part; an admin's address never needs them.
    if "/" in raw or any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise InvalidEmail()
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail() from None
    # The library normalises (Unicode NFC, IDNA domains). An address that it
    # would change is not plain: refuse it rather than merge two spellings.
    if checked.normalized.lower() != raw.lower():
        raise InvalidEmail()
    return raw.lower()


def in_domains(key: str, domains: tuple[str, ...]) -> bool:
    """Whether the admin key ``key`` is an address in one of ``domains``
    (ALLOWED_EMAIL_DOMAINS, lower-cased); any address when there are none.
    Exact domains only: ``acme.com`` does not admit ``mail.acme.com``."""
    return not domains or key.rpartition("@")[2] in domains


# What a person reads when an address is outside ALLOWED_EMAIL_DOMAINS;
# its parameters come from domain_refusal_params.
DOMAIN_REFUSAL = N_("Only addresses at %(domains)s can be admins of this site.")


def domain_refusal_params(domains: tuple[str, ...]) -> dict[str, str]:
    return {"domains": ", ".join(domains)}


class OutsideAllowedDomains(InvalidInput):
    """An invitation to an address outside ALLOWED_EMAIL_DOMAINS (400)."""

    code = "email_domain_not_allowed"

    def __init__(self, domains: tuple[str, ...]):
        super().__init__(DOMAIN_REFUSAL, params=domain_refusal_params(domains))
