"""The exchange: a Firebase ID token from the Auth emulator for a session."""

from __future__ import annotations

import time

from tests.support.firebase import rewrite_claims
from tests.support.web import csrf_token, exchange, session_cookie

ADMIN = "owner@example.com"


def test_admin_signs_in_and_gets_a_session(client, auth_emulator, store):
    user = auth_emulator.create_user(ADMIN)
    store.add_admin(ADMIN, "owner")

    response = exchange(client, auth_emulator.sign_in(ADMIN), next_path="/admin/")

    assert response.status_code == 200
    assert response.get_json() == {"redirect": "/admin/"}
    cookie = session_cookie(client)
    assert cookie is not None
    assert cookie.http_only and cookie.secure and cookie.same_site == "Strict"
    assert cookie.path == "/"
    [session] = store.sessions(email=ADMIN)
    assert session["uid"] == user.uid
    assert session["ended_at"] is None
    # Only a hash of the session id is stored; the cookie's id is not in it.
    assert len(session["id"]) == 64
    assert session["id"] not in cookie.value
    assert store.admin(ADMIN)["uid"] == user.uid

    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert ADMIN in dashboard.get_data(as_text=True)
