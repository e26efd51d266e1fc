"""The API's endpoints. Errors are JSON: {"error": code, "message": text}.

Refusals raised by the services (adminapp.errors) reach the one error
handler; these views only validate what they were sent and shape answers.
"""

from __future__ import annotations

from flask import jsonify, request

from ...addresses import identity_key
from ...domain.admins import Admin, AdminNotFound, role_names
from ...domain.audit import AuditEntry, audit_target, valid_cursor
from ...domain.permissions import (
    ADMINS_DISABLE,
    ADMINS_FACTORS_RESET,
    ADMINS_FACTORS_TRUST,
    ADMINS_INVITE,
    ADMINS_READ,
    ADMINS_REMOVE,
    ADMINS_ROLE,
    ADMINS_UNLOCK,
    AUDIT_EXPORT,
    AUDIT_READ,
    MissingPermission,
)
from ...domain.roles import is_built_in, valid_custom_name
from ...domain.sessions import SessionRecord
from ...errors import InvalidInput
from ...i18n_marks import N_
from ...services.exports import audit_filters
from ..actor import acting_admin
from ..context import request_client, services
from ..downloads import download, flag
from ..guard import current_admin, current_session, permission_required, self_service
from ..invitation_notices import invitation_warnings
from ..permissions import granted, held, may
from ..request_body import json_object
from ..step_up import ENDING_ANOTHERS_SESSION, require_step_up_to_end, step_up_by_rule
from . import bp

MAX_AUDIT_LIMIT = 200


def iso(value) -> str | None:
    """A time as the API writes it (ISO 8601), or None."""
    return value.isoformat() if value is not None else None


def admin_json(admin: Admin) -> dict:
    return {
        "email": admin.email,
        "role": admin.role,
        # What the role grants (a custom role's, or a built-in one's).
        "permissions": sorted(granted(admin)),
        "disabled": admin.disabled,
        "display_name": admin.display_name,
        "last_sign_in_at": iso(admin.last_sign_in_at),
        # From the count on the admin document: no read of the factors.
        "second_factor": admin.second_factors > 0,
        "service_account": admin.service_account,
        # Made by a ROLE_RULES rule, whose rules keep its role (docs/role-rules.md).
        "managed_by_rule": admin.managed_by_rule,
    }


def session_json(session: SessionRecord, current_key: str | None) -> dict:
    return {
        "key": session.key,
        "email": session.email,
        "ip": session.ip,
        "user_agent": session.user_agent,
        "created_at": iso(session.created_at),
        "last_seen_at": iso(session.last_seen_at),
        "expires_at": iso(session.expires_at),
        "current": session.key == current_key,
    }


def entry_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.seq,
        "time": iso(entry.time),
        "event": entry.event,
        "actor": entry.actor,
        "target": entry.target,
        "target_uid": entry.target_uid,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "task": entry.task,
        "subject_uids": list(entry.subject_uids),
        "query": entry.query,
        "request_id": entry.request_id,
    }


def _role(raw: object) -> str:
    """A role's name as sent: built in or shaped like a custom one (the
    service checks that the custom one exists)."""
    if not (isinstance(raw, str) and (is_built_in(raw) or valid_custom_name(raw))):
        raise InvalidInput(
            N_("role must be one of: %(roles)s."),
            params={"roles": ", ".join(role_names(services().roles.book()))},
        )
    return raw


def _current_key() -> str | None:
    session = current_session().session
    return session.key if session else None


def _actor() -> dict:
    return {"actor": current_admin().email, "client": request_client()}


def _granting() -> dict:
    """Who acts, and what they hold: a role they give must grant no more,
    and the admin they change must hold no more."""
    return {**_actor(), "holds": held()}


@bp.get("/me")
@self_service("the caller's own admin record and session")
def me():
    session = current_session().session
    return jsonify(
        admin=admin_json(current_admin()),
        authenticated_with="bearer" if session is None else "session",
        session=session_json(session, session.key) if session else None,
    )


@bp.get("/admins")
@permission_required(ADMINS_READ)
def list_admins():
    return jsonify(admins=[admin_json(a) for a in services().directory.list()])


@bp.post("/admins")
@permission_required(ADMINS_INVITE)
def invite_admin():
    body = json_object()
    email, role = identity_key(body.get("email")), _role(body.get("role"))
    provider = body.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise InvalidInput(N_("'provider' must be a sign-in method such as google.com."))
    invitation = services().management.invite(email, role, provider=provider, **_granting())
    warnings = invitation_warnings(invitation)
    payload = jsonify(
        admin=admin_json(invitation.admin),
        user_created=invitation.user_created,
        account_existed=invitation.account_existed,
        email_sent=invitation.email_sent,
        provider=invitation.provider,
        warning=" ".join(warnings) or None,
        warning_code=invitation.warning_code,
    )
    return payload, 201


@bp.patch("/admins/<email>")
@permission_required(ADMINS_ROLE)
def update_admin(email: str):
    email = identity_key(email)
    body = json_object(allowed={"role", "disabled"})
    if not body:
        raise InvalidInput(N_("Send 'role' and/or 'disabled' (and nothing else)."))
    if "disabled" in body and not isinstance(body["disabled"], bool):
        raise InvalidInput(N_("'disabled' must be true or false."))
    # The route needs admins.role (the guard checked it); a status change
    # needs its own permission too.
    if "disabled" in body and not may(ADMINS_DISABLE):
        raise MissingPermission(ADMINS_DISABLE, current_admin().role)
    change = services().management.update(
        email,
        role=_role(body["role"]) if "role" in body else None,
        disabled=body.get("disabled"),
        **_granting(),
    )
    return jsonify(admin=admin_json(change.after))


@bp.delete("/admins/<email>")
@permission_required(ADMINS_REMOVE)
def remove_admin(email: str):
    email = identity_key(email)
    services().management.remove(email, **_granting())
    return jsonify(removed=email)


@bp.post("/admins/<email>/reset-factors")
@permission_required(ADMINS_FACTORS_RESET)
def reset_factors(email: str):
    email = identity_key(email)
    removed = services().management.reset_factors(
        email, by=current_admin(), client=request_client(), holds=held()
    )
    return jsonify(reset=email, factors_removed=removed)


@bp.post("/admins/<email>/unlock")
@permission_required(ADMINS_UNLOCK)
def unlock_admin(email: str):
    email = identity_key(email)
    was_locked = services().management.unlock(email, **_granting())
    return jsonify(unlocked=email, was_locked=was_locked)


def firebase_factor_json(enrolment) -> dict:
    factor = enrolment.factor
    return {
        "enrolment_id": factor.enrolment_id,
        "kind": factor.factor_id,
        "display_name": factor.display_name,
        "phone_number": factor.phone,
        "enrolled_at": factor.enrolled_at,
        "trusted": enrolment.trusted,
    }


@bp.get("/admins/<email>/firebase-factors")
@permission_required(ADMINS_FACTORS_TRUST)
def list_firebase_factors(email: str):
    admin = services().directory.get(identity_key(email))
    if admin is None:
        raise AdminNotFound(email)
    enrolments = services().firebase_factors.enrolments(admin)
    return jsonify(firebase_factors=[firebase_factor_json(e) for e in enrolments])


@bp.put("/admins/<email>/firebase-factors/<enrolment_id>")
@permission_required(ADMINS_FACTORS_TRUST)
def trust_firebase_factor(email: str, enrolment_id: str):
    email = identity_key(email)
    services().firebase_factors.trust(email, enrolment_id, **_granting())
    return jsonify(trusted=enrolment_id, email=email)


@bp.delete("/admins/<email>/firebase-factors/<enrolment_id>")
@permission_required(ADMINS_FACTORS_TRUST)
def distrust_firebase_factor(email: str, enrolment_id: str):
    email = identity_key(email)
    services().firebase_factors.distrust(email, enrolment_id, **_granting())
    return jsonify(distrusted=enrolment_id, email=email)


@bp.get("/sessions")
@self_service("the caller's own sessions; others' need sessions.read_others (AccessService)")
def list_sessions():
    raw = request.args.get("email")
    sessions = services().access.sessions_of(current_admin(), identity_key(raw) if raw else None)
    key = _current_key()
    return jsonify(sessions=[session_json(s, key) for s in sessions])


@bp.delete("/sessions/<key>")
@self_service("ends the caller's own session; others' need sessions.end_others (AccessService)")
@step_up_by_rule(ENDING_ANOTHERS_SESSION)
def end_session(key: str):
    require_step_up_to_end(key)
    ended = services().access.end_session(key, by=current_admin(), client=request_client())
    return jsonify(ended=ended.key)


@bp.get("/audit")
@permission_required(AUDIT_READ)
def audit():
    args = request.args
    event = args.get("event") or None
    events = services().audit.events
    if event is not None and event not in events:
        raise InvalidInput(
            N_("event must be one of: %(events)s."), params={"events": ", ".join(events)}
        )
    actor = (args.get("actor") or "").strip().lower() or None
    target = audit_target(args.get("target"))
    for name, value in (("actor", actor), ("target", target)):
        if value is not None and len(value) > 254:
            raise InvalidInput(N_("%(name)s is too long."), params={"name": name})
    for name in ("before", "after"):
        if args.get(name) is not None and not valid_cursor(args[name]):
            raise InvalidInput(
                N_("'%(name)s' must be an entry id from a previous page."), params={"name": name}
            )
    try:
        limit = int(args.get("limit", 50))
    except ValueError:
        raise InvalidInput(N_("limit must be a whole number.")) from None
    if not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise InvalidInput(
            N_("limit must be between 1 and %(max)d."), params={"max": MAX_AUDIT_LIMIT}
        )
    page = services().audit.page(
        event=event,
        actor=actor,
        target=target,
        before=args.get("before"),
        after=args.get("after"),
        size=limit,
    )
    return jsonify(
        entries=[entry_json(entry) for entry in page.entries], newer=page.newer, older=page.older
    )


AUDIT_EXPORT_FIELDS = {"reason", "format", "bom", "event", "actor", "target", "since", "until"}


@bp.post("/audit/export")
@permission_required(AUDIT_EXPORT)
def audit_export():
    """``{"reason", "format": "csv"|"jsonl", "bom"?, "event"?, "actor"?,
    "target"?, "since"?, "until"?}``: the entries as a streamed file."""
    body = json_object(allowed=AUDIT_EXPORT_FIELDS)
    filters = audit_filters(
        services().audit.events,
        **{name: body.get(name) for name in ("event", "actor", "target", "since", "until")},
    )
    export = services().exports.audit_trail(
        filters, body.get("format"), body.get("reason"), acting_admin(), bom=flag(body.get("bom"))
    )
    return download(export)
