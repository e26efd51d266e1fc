"""The API's endpoints. Errors are JSON: {"error": code, "message": text}."""

from __future__ import annotations

import re

from flask import abort, jsonify, request

from ...firebase.admins import (
    ROLES,
    Admin,
    AdminExists,
    AdminNotFound,
    InvalidEmail,
    LastOwner,
    normalize_email,
)
from ...firebase.audit import AuditEntry, audit_target, valid_cursor
from ...firebase.sessions import SessionRecord
from ...services.access import SessionNotFound
from ..context import request_client, services
from ..guard import current_admin, current_session, role_required
from ..responses import error_response
from . import bp

_SESSION_KEY = re.compile(r"^[0-9a-f]{64}$")
MAX_AUDIT_LIMIT = 200


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def admin_json(admin: Admin) -> dict:
    return {
        "email": admin.email,
        "role": admin.role,
        "disabled": admin.disabled,
        "display_name": admin.display_name,
        "last_sign_in_at": _iso(admin.last_sign_in_at),
    }


def session_json(session: SessionRecord, current_key: str | None) -> dict:
    return {
        "id": session.key,
        "email": session.email,
        "ip": session.ip,
        "user_agent": session.user_agent,
        "created_at": _iso(session.created_at),
        "last_seen_at": _iso(session.last_seen_at),
        "expires_at": _iso(session.expires_at),
        "current": session.key == current_key,
    }


def entry_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.seq,
        "time": _iso(entry.time),
        "event": entry.event,
        "actor": entry.actor,
        "target": entry.target,
        "target_uid": entry.target_uid,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
    }


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="Send a JSON object with Content-Type: application/json.")
    return body


def _email(raw: object) -> str:
    try:
        return normalize_email(raw if isinstance(raw, str) else "")
    except InvalidEmail as error:
        abort(400, description=str(error))


def _role(raw: object) -> str:
    if raw not in ROLES:
        abort(400, description=f"role must be one of: {', '.join(ROLES)}.")
    return raw


def _current_key() -> str | None:
    session = current_session().session
    return session.key if session else None


def _actor() -> dict:
    return {"actor": current_admin().email, "client": request_client()}


@bp.get("/me")
@role_required("viewer")
def me():
    session = current_session().session
    return jsonify(
        admin=admin_json(current_admin()),
        authenticated_with="bearer" if session is None else "session",
        session=session_json(session, session.key) if session else None,
    )


@bp.get("/admins")
@role_required("viewer")
def list_admins():
    return jsonify(admins=[admin_json(a) for a in services().directory.list()])


@bp.post("/admins")
@role_required("owner")
def invite_admin():
    body = _body()
    email, role = _email(body.get("email")), _role(body.get("role"))
    try:
        invitation = services().management.invite(email, role, **_actor())
    except AdminExists:
        return error_response(409, f"{email} is already an admin.", "admin_exists")
    payload = jsonify(
        admin=admin_json(invitation.admin),
        user_created=invitation.user_created,
        email_sent=invitation.email_sent,
        warning=invitation.email_error,
    )
    return payload, 201


@bp.patch("/admins/<email>")
@role_required("owner")
def update_admin(email: str):
    email = _email(email)
    body = _body()
    unknown = set(body) - {"role", "disabled"}
    if unknown or not body:
        abort(400, description="Send 'role' and/or 'disabled' (and nothing else).")
    if "disabled" in body and not isinstance(body["disabled"], bool):
        abort(400, description="'disabled' must be true or false.")
    management = services().management
    try:
        change = None
        if "role" in body:
            change = management.change_role(email, _role(body["role"]), **_actor())
        if "disabled" in body:
            change = management.set_disabled(email, body["disabled"], **_actor())
    except AdminNotFound:
        return error_response(404, f"{email} is not an admin.", "not_found")
    except LastOwner as refusal:
        return error_response(409, str(refusal), "last_owner")
    return jsonify(admin=admin_json(change.after))


@bp.delete("/admins/<email>")
@role_required("owner")
def remove_admin(email: str):
    email = _email(email)
    try:
        services().management.remove(email, **_actor())
    except AdminNotFound:
        return error_response(404, f"{email} is not an admin.", "not_found")
    except LastOwner as refusal:
        return error_response(409, str(refusal), "last_owner")
    return jsonify(removed=email)


@bp.get("/sessions")
@role_required("viewer")
def list_sessions():
    me = current_admin()
    email = _email(request.args["email"]) if request.args.get("email") else me.email
    if email != me.email and not me.can("owner"):
        return error_response(403, "Only owners can see other admins' sessions.", "forbidden")
    key = _current_key()
    return jsonify(sessions=[session_json(s, key) for s in services().sessions.open_for(email)])


@bp.delete("/sessions/<key>")
@role_required("viewer")
def end_session(key: str):
    me = current_admin()
    if not _SESSION_KEY.match(key):
        return error_response(404, "There is no session with that id.", "not_found")
    try:
        ended = services().access.end_session(
            key, belonging_to=None if me.can("owner") else me.email, **_actor()
        )
    except SessionNotFound as missing:
        return error_response(404, str(missing), "not_found")
    return jsonify(ended=ended.key)


@bp.get("/audit")
@role_required("viewer")
def audit():
    args = request.args
    event = args.get("event") or None
    events = services().audit.events
    if event is not None and event not in events:
        abort(400, description=f"event must be one of: {', '.join(events)}.")
    actor = (args.get("actor") or "").strip().lower() or None
    target = audit_target(args.get("target"))
    for name, value in (("actor", actor), ("target", target)):
        if value is not None and len(value) > 254:
            abort(400, description=f"{name} is too long.")
    for name in ("before", "after"):
        if args.get(name) is not None and not valid_cursor(args[name]):
            abort(400, description=f"'{name}' must be an entry id from a previous page.")
    try:
        limit = int(args.get("limit", 50))
    except ValueError:
        abort(400, description="limit must be a whole number.")
    if not 1 <= limit <= MAX_AUDIT_LIMIT:
        abort(400, description=f"limit must be between 1 and {MAX_AUDIT_LIMIT}.")
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
