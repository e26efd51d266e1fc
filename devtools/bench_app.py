"""The app that ``make bench`` serves: the product's own ``create_app()`` plus
pages that exist only for the benchmark (``gunicorn devtools.bench_app:app``).
The product package carries no benchmark code or setting.

Four pages with the same tiny body, so that the benchmark compares gates,
not templates:

* ``/admin/bench/open``: public, the floor (the same app and server, no gate);
* ``/admin/bench/guarded``: behind our guard (session cookie + Firestore);
* ``/admin/bench/firebase``: guarded the way Firebase's documentation does
  it, what a team would write instead of this app: a Firebase session cookie
  made by ``create_session_cookie`` at sign-in
  (``POST /admin/bench/firebase-session``) and checked on every request by
  ``verify_session_cookie(cookie, check_revoked=True)``.
"""

from __future__ import annotations

import os
from datetime import timedelta

from firebase_admin import auth
from flask import Blueprint, Response, request

from adminapp import create_app
from adminapp.web.bearer import BadAuthorization, bearer_token
from adminapp.web.context import services
from adminapp.web.extensions import csrf
from adminapp.web.guard import public, self_service
from adminapp.web.responses import error_response

bp = Blueprint("bench", __name__, url_prefix="/admin/bench")
FIREBASE_COOKIE = "bench_firebase_session"
FIREBASE_COOKIE_LIFETIME = timedelta(hours=1)
BODY = "ok\n"


def _page() -> Response:
    return Response(BODY, mimetype="text/plain")


@bp.get("/open")
@public
def open_page():
    return _page()


@bp.get("/guarded")
@self_service("a bench page: it shows the guard's cost, nothing of anyone's")
def guarded_page():
    return _page()


@bp.post("/firebase-session")
@csrf.exempt  # bench only: the alternative as its documentation writes it
@public
def firebase_sign_in():
    try:
        token = bearer_token(request.headers.get("Authorization"))
    except BadAuthorization as problem:
        return error_response(problem.status, problem.message, "bad_authorization")
    backend = services().backend
    with backend.auth_call("create_session_cookie"):
        cookie = auth.create_session_cookie(
            token, expires_in=FIREBASE_COOKIE_LIFETIME, app=backend.app
        )
    response = _page()
    response.set_cookie(FIREBASE_COOKIE, cookie, httponly=True, samesite="Strict")
    return response


@bp.get("/firebase")
@public
def firebase_page():
    backend = services().backend
    try:
        with backend.auth_call("verify_session_cookie"):
            auth.verify_session_cookie(
                request.cookies.get(FIREBASE_COOKIE, ""), check_revoked=True, app=backend.app
            )
    except (ValueError, auth.InvalidSessionCookieError, auth.RevokedSessionCookieError):
        return error_response(401, "Sign in again.", "unauthenticated")
    return _page()


def _no_access_record(*_args, **_kwargs) -> None:
    """What a page pays with no access record: nothing."""


def create_bench_app():
    """The product app with the benchmark's pages. Settings come from the
    environment exactly as for ``wsgi:app``; ``BENCH_ACCESS_RECORDS=off``
    (never a product setting: recording is a legal duty) stops the users
    console writing access records, for the figure that compares its
    latency with and without them (devtools/bench_users.py)."""
    app = create_app()
    app.register_blueprint(bp)
    if os.environ.get("BENCH_ACCESS_RECORDS") == "off":
        app.extensions["adminapp"].audit.record_access = _no_access_record

    @app.after_request
    def name_the_worker(response: Response) -> Response:
        # Which worker process answered, for the revocation-reach figures
        # (devtools/bench_invalidation.py); only when asked, so that the
        # throughput scenarios send and receive exactly what they did.
        if "X-Bench-Worker" in request.headers:
            response.headers["X-Bench-Worker"] = str(os.getpid())
        return response

    return app


app = create_bench_app()
