"""The admin area behind the gate."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401  (registers the views on bp)
