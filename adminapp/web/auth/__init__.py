"""Sign-in, sign-out and password reset: the pages outside the gate."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/admin")

from . import language, reset, routes  # noqa: E402,F401  (registers the views on bp)
