"""The audit trail as the rules see it: the declared events, which of them
are access rights and how long each is kept, the tasks of an access record,
an entry and a page of entries, and the rules for what a person types into
the trail's filters. ``adminapp/firebase/audit.py`` stores the entries;
services write them and the views show them, all reading this one
declaration.

Access records (접속기록, PIPA's safety-measure standard, art. 2 and 8) live in
the same trail: every look at personal data is an entry of the event
``personal_data_accessed`` naming the data subjects and the task
(:data:`TASKS`), and every change to an end user carries its task too
(docs/pipa.md).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Granting, changing and revoking an admin's access: the core of the access
# rights the standard keeps 3 years (ACCESS_RIGHT_EVENTS below).
ADMIN_CHANGES = (
    "admin_invited",
    # An invitation found a Firebase account it did not make and took it
    # back (services/management.py): sign-ins ended, password replaced.
    "invitation_took_back_account",
    "admin_role_changed",
    "admin_changed",
    "admin_disabled",
    "admin_enabled",
    "admin_removed",
    # Roles from the identity provider (ROLE_RULES, services/access.py): a
    # first sign-in that a rule admitted, a rule-made admin whose matching
    # rule now gives another role, and one whom no rule matches any more.
    "admin_created_by_rule",
    "admin_role_changed_by_rule",
    "admin_role_dropped_by_rule",
)
# Defining what a custom role grants changes the access of everyone holding
# it (services/roles.py): access rights too.
ROLE_CHANGES = ("role_created", "role_changed", "role_deleted")
# Every event the trail records, for the audit page's filter.
EVENTS = (
    "sign_in",
    "sign_out",
    "access_refused",
    "session_ended",
    "sessions_ended",
    *ADMIN_CHANGES,
    *ROLE_CHANGES,
    "password_reset_requested",
    "password_reset_completed",
    # The users console (adminapp/services/users.py): actions on end users.
    "user_disabled",
    "user_enabled",
    "user_tokens_revoked",
    "user_password_reset_sent",
    "user_email_verified",
    "user_claims_set",
    "user_deleted",
    "second_factor_passed",
    "second_factor_failed",
    "second_factor_added",
    "second_factor_removed",
    "second_factor_renamed",
    "recovery_codes_generated",
    "second_factors_reset",
    "step_up",
    "service_account_changed",
    # A passkey's signature counter went backwards: a cloned authenticator?
    "passkey_clone_suspected",
    # The per-admin bound on wrong codes (services/mfa/lockout.py).
    "second_factor_locked",
    "second_factor_unlocked",
    # Firebase's own second factor (services/mfa/firebase_factors.py).
    "firebase_factor_refused",
    "firebase_factor_trusted",
    "firebase_factor_distrusted",
    # An access record: an admin looked at personal data (record_access).
    "personal_data_accessed",
    # A download of the trail or the users list, with its reason
    # (services/exports.py): one entry before the first byte, one at the end.
    "data_exported",
    # An owner marked a month's access records reviewed (target: the month,
    # reason: their note; services/access_review.py).
    "access_review_completed",
)
ACCESS_EVENT = "personal_data_accessed"
EXPORT_EVENT = "data_exported"
# The fields an export's entries add (services/exports.py), read by the
# monthly review: which data set, in which format, filtered how, how many
# rows (on the closing entry), and the id that pairs the two entries.
EXPORT_FIELDS = ("dataset", "format", "filters", "rows", "export_id")
# The events that grant, change or revoke an admin's access rights (PIPA
# safety-measure standard art. 5(3)): kept at least ACCESS_RIGHTS_MINIMUM
# (3 years), whatever ACCESS_RECORD_RETENTION_DAYS says. Declared here once;
# retention, the chain's classes and docs/pipa.md follow from it.
ACCESS_RIGHT_EVENTS = frozenset(
    {
        *ADMIN_CHANGES,
        *ROLE_CHANGES,
        "second_factors_reset",
        "second_factor_locked",
        "second_factor_unlocked",
        "service_account_changed",
        "firebase_factor_trusted",
        "firebase_factor_distrusted",
    }
)
# Three years, counting a leap day.
ACCESS_RIGHTS_MINIMUM = timedelta(days=3 * 365 + 1)
# What was done with personal data, in the vocabulary of the PIPC's standard
# on safety measures (조회, 검색, 출력, 수정, 삭제, 다운로드). Stored in English;
# pages show them in the reader's language (adminapp/web/labels.py).
TASKS = ("view", "search", "print", "edit", "delete", "download")
# One access record names at most this many data subjects (a users page is
# at most 1000 users: end_users.py MAX_PAGE_SIZE).
MAX_SUBJECTS = 1000
# A search query is kept as typed, up to an email address's length.
MAX_QUERY = 254
# Entry ids look like 20261122T235958123456Z-1a2b3c4d: time-ordered, unique.
_ENTRY_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")


class AuditEvents:
    """The events the trail records: :data:`EVENTS`, then those each product
    blueprint declares as it is mounted (adminapp/web/products.py). The
    trail refuses an undeclared one, so a typo fails loudly; its filters
    offer exactly these."""

    def __init__(self, events: Iterable[str] = EVENTS):
        self._names = tuple(dict.fromkeys(events))

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def __contains__(self, event: object) -> bool:
        return event in self._names

    def declare(self, events: Iterable[str]) -> None:
        """Add a product's events (declaring one twice is harmless)."""
        self._names = tuple(dict.fromkeys((*self._names, *events)))


def retention_for(event: str, retention: timedelta) -> timedelta:
    """How long an entry of ``event`` is kept (``retention``:
    ACCESS_RECORD_RETENTION_DAYS)."""
    return max(retention, ACCESS_RIGHTS_MINIMUM) if event in ACCESS_RIGHT_EVENTS else retention


def retention_class(event: str) -> str:
    """Entries of one class all keep the same time: ``access_rights`` or
    ``records``."""
    return "access_rights" if event in ACCESS_RIGHT_EVENTS else "records"


@dataclass(frozen=True)
class RetentionReport:
    """What Firestore's TTL policy will delete from the trail, and when."""

    # First day of the UTC month of expire_at -> entries, for months to come.
    by_month: dict[date, int]
    # Past their expire_at: Firestore deletes them within about a day.
    overdue: int
    # Written before expire_at existed: kept until deleted by hand.
    without_expiry: int
    # The retention of each class (retention_class) for entries written now.
    retention: dict[str, timedelta]


def new_entry_id(now: datetime) -> str:
    """A new entry's id: its UTC time, then randomness. Sortable and unique,
    so the id orders entries newest-first and serves as the paging cursor."""
    return f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"


def valid_cursor(value: str) -> bool:
    """Whether ``value`` has the form of an entry id (a page link's cursor)."""
    return bool(_ENTRY_ID.match(value))


def audit_target(value: str | None) -> str | None:
    """A target filter as typed: emails are stored lowercased, uids as they are."""
    value = (value or "").strip()
    return value.lower() if "@" in value else value or None


@dataclass(frozen=True)
class AuditEntry:
    seq: str
    time: datetime
    event: str
    actor: str | None
    target: str | None
    outcome: str
    reason: str | None
    ip: str | None
    user_agent: str | None
    # The Firebase uid of the target, for actions on end users (the target
    # is then their email, or the uid again when they have none).
    target_uid: str | None = None
    # Access records (and changes to end users): the task (TASKS), the data
    # subjects' uids, the search as typed, and the request that did it.
    task: str | None = None
    subject_uids: tuple[str, ...] = ()
    query: str | None = None
    request_id: str | None = None
    # Invitations and role changes: the role given, and the one before.
    role: str | None = None
    previous_role: str | None = None


@dataclass(frozen=True)
class DataSubject:
    """Whose personal data was handled: their uid (the product's id for
    them) and, where the page showed it, their email."""

    uid: str
    email: str | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    newer: str | None  # pass as ``after`` to get the page before this one
    older: str | None  # pass as ``before`` to get the page after this one
