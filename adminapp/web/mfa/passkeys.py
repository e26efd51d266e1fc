"""Passkeys at the second gate: enrolment, the challenge, adding another.

Each ceremony is two requests from ``static/js/passkeys.js``: a POST (CSRF
token in its header) for the options, which keeps a challenge on the
session record; then the browser's answer, submitted as a plain form, so
that the page that follows (recovery codes, or the redirect to ``next``) is
an ordinary navigation. The rules are in ``adminapp/services/mfa/passkeys.py``.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...errors import Conflict, InvalidInput
from ...services.mfa.refusals import SecondFactorSessionOver, TooManyAttempts
from ..context import request_client, services
from ..guard import current_session, pending_allowed, self_service
from ..i18n import say
from ..labels import factor_name
from ..step_up import step_up_by_rule, step_up_exempt, step_up_required
from . import bp
from .forms import NewPasskeyForm, PasskeyForm
from .pages import (
    back_to_login,
    challenge_page,
    next_path,
    prove,
    second_factor_limit,
    with_session,
)
from .routes import FIRST_FACTOR, THE_PROOF_ITSELF

ADDING_A_PASSKEY = (
    "registration options: a pending session's first factor needs none; from a full "
    "session they need a fresh proof (stages.require_may_add_factor)"
)

# @simplewebauthn/browser, vendored from npm (package.json pins it; the
# unit test tests/unit/test_vendored_js.py keeps the copy identical).
SIMPLEWEBAUTHN_VERSION = "14.0.0"
SIMPLEWEBAUTHN_JS = f"vendor/simplewebauthn/{SIMPLEWEBAUTHN_VERSION}/index.umd.min.js"


# App-wide: the step-up prompt shows the challenge page from any blueprint.
@bp.app_context_processor
def passkey_script():
    return {"simplewebauthn_js": SIMPLEWEBAUTHN_JS, "passkey_messages": passkey_messages}


# Why every signed-in admin may use these (guard.self_service).
OWN_FACTOR = "proves or adds the caller's own second factor"


def passkey_messages() -> dict:
    """What passkeys.js says, in the reader's language: a
    ``<script type="application/json">`` block (data, never executed, so the
    CSP needs no exception), as login.js gets its messages."""
    return {
        "NotAllowedError": _("The passkey request was cancelled or timed out. Try again."),
        "InvalidStateError": _("This device already holds a passkey for your account."),
        "SecurityError": _(
            "Passkeys do not work on this address. Open the app on its own host name."
        ),
        "refused": _("The server refused the passkey request. Reload the page."),
        "unsupported": _("This browser does not support passkeys. Use another factor."),
        "failed": _("The passkey did not work."),
    }


def expected_origin() -> str:
    """The origin a passkey answer must name: PUBLIC_URL's (WEBAUTHN_ORIGIN
    setting) in production; the request's own in development without it."""
    return services().settings.webauthn_origin or request.host_url.rstrip("/")


def _options(json_text: str) -> Response:
    return Response(json_text, mimetype="application/json")


# -- options ---------------------------------------------------------------------


@bp.post("/passkeys/registration-options")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_by_rule(ADDING_A_PASSKEY)
def passkey_registration_options():
    current = current_session()
    return _options(
        services().passkeys.registration_options(current.session, current.admin, request_client())
    )


@bp.post("/passkeys/authentication-options")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_exempt(THE_PROOF_ITSELF)
def passkey_authentication_options():
    current = current_session()
    return _options(
        services().passkeys.authentication_options(current.session, current.admin, request_client())
    )


# -- proof at the challenge --------------------------------------------------------


@bp.post("/passkey")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_exempt(THE_PROOF_ITSELF)
def verify_passkey():
    form = PasskeyForm()
    if not form.validate():
        return challenge_page(400, error=_("Your browser sent no passkey answer. Try again."))
    current = current_session()
    return prove(
        lambda: services().passkeys.verify(
            current.session,
            current.admin,
            form.credential.data,
            origin=expected_origin(),
            client=request_client(),
        ),
        lambda error: challenge_page(400, error=error),
    )


# -- registration ----------------------------------------------------------------------


@bp.post("/enrol/passkey")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_by_rule(FIRST_FACTOR)
def enrol_passkey():
    """A pending session's first factor: a passkey (the enrolment page's
    other choice is an authenticator app)."""
    return _register(url_for(".enrol", next=next_path()))


@bp.get("/passkeys/new")
@self_service(OWN_FACTOR)
@step_up_required
def new_passkey():
    """Add a passkey from a full session (the security page links here),
    after a fresh proof: a stale session must not add its own factor."""
    return render_template("mfa/new_passkey.html", form=NewPasskeyForm(), next_path=next_path())


@bp.post("/passkeys/new")
@second_factor_limit
@self_service(OWN_FACTOR)
@step_up_required
def add_passkey():
    return _register(url_for(".new_passkey", next=next_path()))


def _register(page: str):
    """Store the passkey the page's script registered; show recovery codes
    when new ones were made, else continue to ``next``. A refusal goes
    back to ``page`` with its reason."""
    form = NewPasskeyForm()
    if not form.validate():
        flash(_("Your browser sent no passkey. Try again."), "error")
        return redirect(page, code=303)
    current = current_session()
    try:
        added = services().passkeys.register(
            current.session,
            current.admin,
            form.credential.data,
            name=form.name.data,
            origin=expected_origin(),
            client=request_client(),
        )
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return back_to_login(say(refusal))
    except (InvalidInput, Conflict) as refusal:
        flash(say(refusal), "error")
        return redirect(page, code=303)
    if added.recovery_codes:
        response = render_template(
            "mfa/recovery_codes.html", codes=added.recovery_codes, next_path=next_path()
        )
    else:
        flash(_("Passkey “%(name)s” added.", name=factor_name(added.factor.name)), "success")
        response = redirect(next_path(), code=303)
    return with_session(added.passed, response)
