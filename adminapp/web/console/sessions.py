"""Sessions page: your open sessions (with sessions.read_others: anyone's), ending them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ...addresses import identity_key
from ..context import request_client, services, session_cookie
from ..guard import current_admin, current_session, self_service
from ..step_up import (
    ENDING_ANOTHERS_SESSION,
    require_step_up_to_end,
    step_up_by_rule,
    step_up_exempt,
)
from . import bp
from .filters import device
from .forms import ConfirmForm


def _whose() -> str:
    """The admin named in the address (yourself when none is)."""
    raw = request.args.get("email") or request.form.get("email")
    return identity_key(raw) if raw else current_admin().email


def _back_to(email: str):
    me = current_admin()
    args = {} if email == me.email else {"email": email}
    return redirect(url_for(".sessions", **args), code=303)


@bp.get("/sessions")
@self_service("the caller's own sessions; others' need sessions.read_others (AccessService)")
def sessions():
    email = _whose()
    me = current_admin()
    access = services().access
    return render_template(
        "console/sessions.html",
        email=email,
        sessions=access.sessions_of(me, email),
        # Seeing someone's sessions need not mean ending them (the
        # permission, or they hold more): offer no button that would fail.
        may_end=access.ends_sessions_of(me, email),
        current_key=current_session().session.key,
        form=ConfirmForm(),
        me=me,
    )


@bp.post("/sessions/<key>/end")
@self_service("ends the caller's own session; others' need sessions.end_others (AccessService)")
@step_up_by_rule(ENDING_ANOTHERS_SESSION)
def end_session(key: str):
    current = current_session().session
    require_step_up_to_end(key)
    ended = services().access.end_session(key, by=current_admin(), client=request_client())
    if key == current.key:
        return _signed_out_here(_("You ended this session."))
    flash(_("Session on %(device)s ended.", device=device(ended.user_agent)), "success")
    return _back_to(ended.email)


@bp.post("/sessions/end-others")
@self_service("ends the caller's own other sessions")
@step_up_exempt("ends only the caller's own other sessions: it takes access away, never gives it")
def end_other_sessions():
    me = current_session()
    count = services().access.end_sessions(
        me.admin.email,
        "ended_by_self",
        actor=me.admin.email,
        client=request_client(),
        keep_key=me.session.key,
    )
    flash(
        ngettext("Ended %(num)d other session.", "Ended %(num)d other sessions.", count),
        "success",
    )
    return _back_to(me.admin.email)


@bp.post("/sessions/end-all")
@self_service("signs the caller out everywhere")
@step_up_exempt("signs the caller out everywhere: it takes access away, never gives it")
def sign_out_everywhere():
    count = services().access.sign_out_everywhere(current_session(), request_client())
    return _signed_out_here(
        ngettext(
            "You are signed out everywhere (%(num)d session ended).",
            "You are signed out everywhere (%(num)d sessions ended).",
            count,
        )
    )


def _signed_out_here(message: str):
    response = redirect(url_for("auth.login"), code=303)
    session_cookie().clear_on(response)
    flash(message, "notice")
    return response
