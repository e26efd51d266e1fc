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


def protect_api(blueprint: Blueprint) -> Blueprint:
    """What every blueprint under /admin/api/ gets (this one, the users
    console's, a product's): no global CSRF check (the guard does it for
    cookie writes) and one bearer rate limit, shared by all of them."""
    csrf.exempt(blueprint)
    limiter.limit(
        lambda: services().settings.api_bearer_rate_limit,
        scope="api-bearer",
        exempt_when=lambda: not has_bearer(request.headers.get("Authorization")),
    )(blueprint)
    return blueprint


bp = protect_api(Blueprint("api", __name__, url_prefix="/admin/api"))

from . import roles, routes  # noqa: E402,F401  (registers the views on bp)
