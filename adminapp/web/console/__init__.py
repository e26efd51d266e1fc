"""The admin area behind the gate: dashboard, admins, sessions, audit trail."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/admin")

from . import account, admins, audit, filters, review, roles, routes, sessions  # noqa: E402,F401  (register views)
