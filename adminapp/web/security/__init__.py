"""The admin's own security page (``/admin/security``): their second
factors, renaming and removing them, a new TOTP secret, new recovery codes.
The rules are in ``adminapp/services/mfa/``."""

from flask import Blueprint

bp = Blueprint("security", __name__, url_prefix="/admin/security")

from . import routes  # noqa: E402,F401  (registers the views on bp)
