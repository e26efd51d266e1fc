"""How stored values read on a page: roles, audit events, outcomes and the
names the app gives second factors.

The stored values (``viewer``, ``admin_invited``, ``refused``) are data and
stay English everywhere else (the API, the CLI, the logs); only pages show
them in the reader's language. Every audit event needs a label here:
tests/unit/test_catalogs.py fails when one is missing.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ..services.mfa import passkeys, recovery_codes, totp

# In a list to choose from.
ROLE_LABELS = {
    "owner": _l("Owner"),
    "admin": _l("Admin"),
    "viewer": _l("Viewer"),
}
# Inside a sentence and on badges ("… is now an admin (viewer).").
ROLE_NAMES = {
    "owner": _l("owner"),
    "admin": _l("admin"),
    "viewer": _l("viewer"),
}

# The role editor's groups of permissions, by the first part of their names;
# a product's group shows under its own name.
PERMISSION_GROUPS = {
    "admins": _l("Admins"),
    "sessions": _l("Sessions"),
    "audit": _l("Audit trail"),
    "users": _l("Users"),
    "roles": _l("Roles"),
    "pages": _l("Product pages"),
}

EVENT_LABELS = {
    "sign_in": _l("Sign-in"),
    "sign_out": _l("Sign-out"),
    "access_refused": _l("Access refused"),
    "session_ended": _l("Session ended"),
    "sessions_ended": _l("Sessions ended"),
    "admin_invited": _l("Admin invited"),
    "invitation_took_back_account": _l("Existing account taken back for an invitation"),
    "admin_role_changed": _l("Role changed"),
    "admin_changed": _l("Admin changed"),
    "admin_disabled": _l("Admin disabled"),
    "admin_enabled": _l("Admin enabled"),
    "admin_removed": _l("Admin removed"),
    "admin_created_by_rule": _l("Admin created by a sign-in rule"),
    "admin_role_changed_by_rule": _l("Role changed by a sign-in rule"),
    "admin_role_dropped_by_rule": _l("Admin removed: no sign-in rule matches"),
    "role_created": _l("Custom role created"),
    "role_changed": _l("Custom role changed"),
    "role_deleted": _l("Custom role deleted"),
    "password_reset_requested": _l("Password reset requested"),
    "password_reset_completed": _l("Password reset completed"),
    "user_disabled": _l("User disabled"),
    "user_enabled": _l("User enabled"),
    "user_tokens_revoked": _l("User signed out everywhere"),
    "user_password_reset_sent": _l("User password reset sent"),
    "user_email_verified": _l("User email verified"),
    "user_claims_set": _l("User claims set"),
    "user_deleted": _l("User deleted"),
    "second_factor_passed": _l("Second factor passed"),
    "second_factor_failed": _l("Second factor failed"),
    "second_factor_added": _l("Second factor added"),
    "second_factor_removed": _l("Second factor removed"),
    "second_factor_renamed": _l("Second factor renamed"),
    "recovery_codes_generated": _l("Recovery codes generated"),
    "second_factors_reset": _l("Second factors reset"),
    "step_up": _l("Step-up"),
    "service_account_changed": _l("Service account changed"),
    "passkey_clone_suspected": _l("Passkey clone suspected"),
    "second_factor_locked": _l("Second factor locked"),
    "second_factor_unlocked": _l("Second factor lock lifted"),
    "firebase_factor_refused": _l("Untrusted Firebase second factor refused"),
    "firebase_factor_trusted": _l("Firebase second factor trusted"),
    "firebase_factor_distrusted": _l("Firebase second factor no longer trusted"),
    "personal_data_accessed": _l("Personal data accessed"),
    "data_exported": _l("Data exported"),
    "access_review_completed": _l("Monthly access review completed"),
}

# The tasks of access records (domain/audit.py TASKS), as the PIPC's
# standard names them: 조회, 검색, 출력, 수정, 삭제, 다운로드.
TASK_LABELS = {
    "view": _l("View"),
    "search": _l("Search"),
    "print": _l("Print or list"),
    "edit": _l("Edit"),
    "delete": _l("Delete"),
    "download": _l("Download"),
}

# What the audit trail check found (firebase/audit_chain.py).
FINDING_LABELS = {
    "edited": _l("Edited"),
    "missing": _l("Missing"),
    "moved": _l("Moved"),
}

OUTCOME_LABELS = {
    "ok": _l("OK"),
    "refused": _l("Refused"),
    "failed": _l("Failed"),
    "error": _l("Error"),
    # The first entry of an export (services/exports.py); its last says ok or failed.
    "started": _l("Started"),
}

# The names a factor gets when its admin gives none; an admin's own name is
# shown as they wrote it.
DEFAULT_FACTOR_NAMES = frozenset(
    {totp.DEFAULT_NAME, passkeys.DEFAULT_NAME, recovery_codes.DEFAULT_NAME}
)


def _label(labels: dict, value: str | None) -> str:
    # An unknown stored value is shown as stored rather than hidden.
    if value is None:
        return "—"
    return str(labels.get(value, value))


def role_label(role: str | None) -> str:
    return _label(ROLE_LABELS, role)


def role_name(role: str | None) -> str:
    return _label(ROLE_NAMES, role)


def event_label(event: str | None) -> str:
    return _label(EVENT_LABELS, event)


def finding_label(kind: str | None) -> str:
    return _label(FINDING_LABELS, kind)


def task_label(task: str | None) -> str:
    return _label(TASK_LABELS, task)


def outcome_label(outcome: str | None) -> str:
    return _label(OUTCOME_LABELS, outcome)


def factor_name(name: str) -> str:
    return gettext(name) if name in DEFAULT_FACTOR_NAMES else name


def init_app(app: Flask) -> None:
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(role_name, "role_name")
    app.add_template_filter(event_label, "event_label")
    app.add_template_filter(outcome_label, "outcome_label")
    app.add_template_filter(task_label, "task_label")
    app.add_template_filter(finding_label, "finding_label")
    app.add_template_filter(factor_name, "factor_name")
