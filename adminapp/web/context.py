"""What a view needs from the app it runs in: the services, the session
cookie codec, and who is asking."""

from __future__ import annotations

import secrets

from flask import current_app, request

from ..client import Client
from ..services import Services
from .cookie import SessionCookie
from .cookie_jar import JAR_KEY, CookieJar

EXTENSION_KEY = "adminapp"
COOKIE_KEY = "adminapp.cookie"
_REQUEST_ID = "adminapp.request_id"


def services() -> Services:
    """The current app's services."""
    return current_app.extensions[EXTENSION_KEY]


def session_cookie() -> SessionCookie:
    """The current app's session cookie codec."""
    return current_app.extensions[COOKIE_KEY]


def cookie_jar() -> CookieJar:
    """Where the current app keeps what it stores in the browser."""
    return current_app.extensions[JAR_KEY]


def request_id() -> str:
    """This request's id: random, made on first use. Ours rather than a
    header's, so that a caller cannot make two requests look like one."""
    value = request.environ.get(_REQUEST_ID)
    if value is None:
        value = request.environ[_REQUEST_ID] = secrets.token_hex(16)
    return value


def request_client() -> Client:
    return Client(
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string or "",
        request_id=request_id(),
    )
