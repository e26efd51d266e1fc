"""JSON API for scripts and services under /admin/api/.

Callers authenticate with the session cookie (same-origin pages) or with
``Authorization: Bearer <Firebase ID token>``; the guard handles both and
applies the same admin-document and role checks. The blueprint is exempt from
the global CSRF check: the guard demands the CSRF token on cookie-
authenticated writes only, since a bearer token cannot be forged cross-site.

Calls with a bearer token are rate limited per client IP
(API_BEARER_RATE_LIMIT), checked before the token is: each verification
costs a Firebase Auth round trip (the revocation check), and nobody may make
us spend those without bound. Cookie calls come from the pages and are not
limited here.
"""

from flask import Blueprint, request

from ..bearer import has_bearer
from ..context import services
from ..extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/admin/api")
csrf.exempt(bp)
limiter.limit(
    lambda: services().settings.api_bearer_rate_limit,
    scope="api-bearer",
    exempt_when=lambda: not has_bearer(request.headers.get("Authorization")),
)(bp)

from . import routes  # noqa: E402,F401  (registers the views on bp)
