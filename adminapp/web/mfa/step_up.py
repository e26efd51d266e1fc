"""The step-up prompt, and continuing with the action it interrupted.

When a dangerous action answers :class:`StepUpRequired` (see
``adminapp/web/step_up.py``), a form post gets the challenge page in step-up
mode instead of an error. The interrupted form's fields (never its CSRF
token) wait in the signed Flask session cookie, bound to this admin session;
any proof on that page (TOTP, recovery code, or any factor the challenge
offers) sends the admin to ``/admin/mfa/continue``, which shows the action
again as one confirming form to re-post, with a fresh CSRF token. The
re-posted request passes every check again, this time with a recent proof.

JSON callers get 401 ``step_up_required`` and prove at ``/admin/mfa/step-up``.
"""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...services.mfa.refusals import StepUpRequired
from ..guard import current_session, self_service
from ..i18n import say
from ..redirects import DASHBOARD, safe_next
from ..responses import error_response, wants_json
from ..session_state import RESUME_KEY
from ..step_up import step_up_due
from . import bp
from .pages import challenge_page

# The Flask session is a cookie: keep what waits in it small.
MAX_RESUME_BYTES = 2048
# Fields never carried over (secrets, and the token that is renewed).
_DROPPED = frozenset({"csrf_token", "password", "new_password"})

# Why every signed-in admin may use these (guard.self_service).
OWN_PROOF = "asks the caller for their own fresh proof"


@bp.app_errorhandler(StepUpRequired)
def prompt(error: StepUpRequired):
    if wants_json():
        response = error_response(401, say(error), error.code)
        response.headers["Link"] = f'<{url_for("mfa.step_up")}>; rel="step-up"'
        return response
    if request.method in ("GET", "HEAD"):
        # A page that needs a step-up (a new TOTP key): prove, then come back.
        return redirect(url_for("mfa.step_up", next=safe_next(request.full_path.rstrip("?"))))
    if current_session().session is None:
        # A bearer caller has no session to prove on: sign in again with a
        # trusted second factor (JSON callers got the 401 above).
        return error_response(401, say(error), error.code)
    _remember_action()
    return challenge_page(401, next_path_=url_for("mfa.step_up_continue"))


def _remember_action() -> None:
    target = request.full_path.rstrip("?")
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in _DROPPED]
    resume = {"session": current_session().session.key, "path": target, "fields": fields}
    if safe_next(target) == target and len(json.dumps(resume)) <= MAX_RESUME_BYTES:
        session[RESUME_KEY] = resume
    else:
        session.pop(RESUME_KEY, None)


@bp.get("/step-up")
@self_service(OWN_PROOF)
def step_up():
    """Prove a factor now (for API callers and links), then go to ``next``."""
    if not current_session().session or not step_up_due():
        return redirect(safe_next(request.args.get("next")))
    return challenge_page()


@bp.get("/continue")
@self_service(OWN_PROOF)
def step_up_continue():
    resume = session.pop(RESUME_KEY, None)
    current = current_session().session
    if (
        not isinstance(resume, dict)
        or resume.get("session") != current.key
        or safe_next(resume.get("path")) != resume.get("path")
        or resume.get("path") == DASHBOARD
    ):
        flash(_("You confirmed it is you. Do the action again."), "notice")
        return redirect(DASHBOARD, code=303)
    return render_template(
        "mfa/continue.html", path=resume["path"], fields=resume.get("fields") or []
    )
