"""The users console's JSON API under /admin/api/users: the pages' parity.

Errors are JSON like the rest of the API: {"error": code, "message": text}.
"""

from __future__ import annotations

from flask import jsonify, request

from ...domain.end_users import MAX_PAGE_SIZE, EndUser
from ...domain.permissions import (
    USERS_CLAIMS,
    USERS_DELETE,
    USERS_DISABLE,
    USERS_EXPORT,
    USERS_READ,
    USERS_RESET,
    USERS_REVOKE,
    USERS_VERIFY,
)
from ...errors import InvalidInput
from ...i18n_marks import N_
from ...services.users import ClaimsTooDeep, UserDetail
from ..api.routes import iso
from ..auth.reset import claim_reset_slot
from ..context import services
from ..downloads import download, flag
from ..guard import permission_required
from ..request_body import json_object
from ..step_up import step_up_by_rule
from . import USERS_CONSOLE_RULE, acting_admin, api_bp


def user_json(user: EndUser, detail: UserDetail | None = None) -> dict:
    body = {
        "uid": user.uid,
        "email": user.email,
        "email_verified": user.email_verified,
        "display_name": user.display_name,
        "phone_number": user.phone,
        "providers": list(user.providers),
        "created_at": iso(user.created_at),
        "last_sign_in_at": iso(user.last_sign_in_at),
        "tokens_valid_after": iso(user.tokens_valid_after),
        "disabled": user.disabled,
        "custom_claims": user.custom_claims,
        "second_factors": [
            {"factor_id": f.factor_id, "display_name": f.display_name, "enrolled_at": f.enrolled_at}
            for f in user.second_factors
        ],
    }
    if detail is not None:
        body["admin_role"] = detail.admin.role if detail.admin else None
    return body


@api_bp.get("")
@permission_required(USERS_READ)
def list_users():
    args = request.args
    if args.get("q"):
        user = services().users.find(args["q"][:254], acting_admin())
        return jsonify(users=[user_json(user)], next=None)
    try:
        limit = int(args.get("limit", services().users.page_size))
    except ValueError:
        raise InvalidInput(N_("limit must be a whole number.")) from None
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            N_("limit must be between 1 and %(max)s."), params={"max": MAX_PAGE_SIZE}
        )
    page = services().users.page(args.get("page") or None, limit, acting_admin())
    return jsonify(users=[user_json(user) for user in page.users], next=page.next_token)


@api_bp.get("/<uid>")
@permission_required(USERS_READ)
def get_user(uid: str):
    detail = services().users.show(uid, acting_admin())
    return jsonify(user=user_json(detail.user, detail))


def _acted(user: EndUser, action: str):
    # The state after the action, read back: what a script would check next.
    return jsonify(
        action=action, user=user_json(services().users.show(user.uid, acting_admin()).user)
    )


@api_bp.post("/<uid>/<any(disable, enable):action>")
@permission_required(USERS_DISABLE)
@step_up_by_rule(USERS_CONSOLE_RULE)
def set_status(uid: str, action: str):
    return _acted(services().users.set_disabled(uid, action == "disable", acting_admin()), action)


@api_bp.post("/<uid>/revoke")
@permission_required(USERS_REVOKE)
@step_up_by_rule(USERS_CONSOLE_RULE)
def revoke(uid: str):
    return _acted(services().users.revoke_refresh_tokens(uid, acting_admin()), "revoke")


@api_bp.post("/<uid>/verify")
@permission_required(USERS_VERIFY)
@step_up_by_rule(USERS_CONSOLE_RULE)
def verify_email(uid: str):
    return _acted(services().users.mark_email_verified(uid, acting_admin()), "verify")


@api_bp.post("/<uid>/reset")
@permission_required(USERS_RESET)
@step_up_by_rule(USERS_CONSOLE_RULE)
def send_reset(uid: str):
    user = services().users.send_password_reset(uid, acting_admin(), gate=claim_reset_slot)
    return jsonify(action="reset", sent_to=user.email), 202


@api_bp.put("/<uid>/claims")
@permission_required(USERS_CLAIMS)
@step_up_by_rule(USERS_CONSOLE_RULE)
def set_claims(uid: str):
    # A body too deep to parse is too deep because of its claims.
    body = json_object(allowed={"claims"}, too_deep=ClaimsTooDeep)
    user = services().users.set_custom_claims(uid, body.get("claims"), acting_admin())
    return _acted(user, "claims")


@api_bp.delete("/<uid>")
@permission_required(USERS_DELETE)
@step_up_by_rule(USERS_CONSOLE_RULE)
def delete_user(uid: str):
    body = json_object(allowed={"confirm"})
    confirm = body.get("confirm")
    user = services().users.delete(uid, confirm if isinstance(confirm, str) else "", acting_admin())
    return jsonify(deleted=user.uid, email=user.email)


@api_bp.post("/export")
@permission_required(USERS_EXPORT)
def export_users():
    """``{"reason", "format": "csv"|"jsonl", "bom"?}``: every user, streamed;
    recorded with the reason, each chunk a ``download`` access record."""
    body = json_object(allowed={"reason", "format", "bom"})
    export = services().exports.users_list(
        body.get("format"), body.get("reason"), acting_admin(), bom=flag(body.get("bom"))
    )
    return download(export)
