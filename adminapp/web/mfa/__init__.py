"""The second factor's pages: the challenge, TOTP enrolment, recovery codes.

A pending session (the password proved, the second factor not yet) reaches
these and sign-out only; see ``guard.pending_allowed``.
"""

from flask import Blueprint

bp = Blueprint("mfa", __name__, url_prefix="/admin/mfa")

from . import passkeys, routes, step_up  # noqa: E402,F401  (register the views on bp)
