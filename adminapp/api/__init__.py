"""JSON API for scripts and services under /admin/api/.

Callers authenticate with the session cookie (same-origin pages) or with
``Authorization: Bearer <Firebase ID token>``; the guard handles both and
applies the same admin-document and role checks. The blueprint is exempt from
the global CSRF check: the guard demands the CSRF token on cookie-
authenticated writes only, since a bearer token cannot be forged cross-site.
"""

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/admin/api")
csrf.exempt(bp)

from . import routes  # noqa: E402,F401  (registers the views on bp)
