"""Driving the app through Flask's test client the way the login page does."""

from __future__ import annotations

import re

ORIGIN = "http://localhost"
SESSION_COOKIE = "__Host-admin_session"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client) -> str:
    """The CSRF token the login page hands to its script."""
    page = client.get("/admin/login").get_data(as_text=True)
    match = _CSRF_META.search(page)
    assert match, "login page has no CSRF token"
    return match.group(1)


def exchange(
    client,
    id_token: str | None,
    *,
    csrf: bool = True,
    origin: str | None = ORIGIN,
    next_path: str | None = None,
    authorization: str | None = None,
):
    """POST /admin/session as login.js does."""
    headers = {"Accept": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif id_token is not None:
        headers["Authorization"] = f"Bearer {id_token}"
    if csrf:
        headers["X-CSRFToken"] = csrf_token(client)
    if origin is not None:
        headers["Origin"] = origin
    return client.post("/admin/session", headers=headers, json={"next": next_path})


def session_cookie(client):
    return client.get_cookie(SESSION_COOKIE)


def sign_in(client, auth_emulator, email: str) -> None:
    """Sign in an existing admin's Firebase user through the real exchange."""
    response = exchange(client, auth_emulator.sign_in(email))
    assert response.status_code == 200, response.get_json()


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """Submit a form of the admin pages, CSRF token included."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)
