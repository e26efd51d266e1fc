"""The guard in front of every /admin path."""

from __future__ import annotations

import pytest

from adminapp.testing.firebase import OWNER as ADMIN
from tests.support.web import present_session, session_cookie, sign_in

# Every test here runs with each cookie mode (tests/support/cookies.py).
pytestmark = pytest.mark.both_cookie_modes


@pytest.fixture
def signed_in(client, auth_emulator, owner):
    sign_in(client, auth_emulator, ADMIN)
    return client


@pytest.mark.parametrize("path", ["/admin/", "/admin/anything", "/admin"])
def test_signed_out_browser_is_sent_to_login_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_next_keeps_the_query_string(client):
    response = client.get("/admin/?page=2")
    assert response.headers["Location"] == "/admin/login?next=/admin/?page%3D2"


def test_signed_out_json_request_gets_401_json(client):
    response = client.get("/admin/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_signed_out_post_gets_401_not_a_redirect(client):
    response = client.post("/admin/logout")
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/admin/login", "/admin/static/css/app.css", "/healthz"])
def test_public_pages_need_no_session(client, path, clean):
    assert client.get(path).status_code == 200


def test_forged_cookie_is_refused_and_cleared(client, clean):
    present_session(client, "forged.value.here")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert session_cookie(client) is None


def test_removed_admin_loses_access_on_the_next_request(signed_in, store):
    assert signed_in.get("/admin/").status_code == 200
    store.remove_admin(ADMIN)

    response = signed_in.get("/admin/")

    assert response.status_code == 403
    assert "not an admin" in response.get_data(as_text=True)
    [session] = store.sessions(email=ADMIN)
    assert session["ended_reason"] == "admin_removed"
    assert session_cookie(signed_in) is None


def test_disabled_admin_loses_access_on_the_next_request(signed_in, store):
    store.update_admin(ADMIN, disabled=True)
    assert signed_in.get("/admin/").status_code == 403
    [session] = store.sessions(email=ADMIN)
    assert session["ended_reason"] == "admin_disabled"


def test_logout_ends_the_session_and_the_old_cookie_is_refused(signed_in, store):
    old_cookie = session_cookie(signed_in).value
    page = signed_in.get("/admin/").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    response = signed_in.post("/admin/logout", data={"csrf_token": csrf})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert session_cookie(signed_in) is None
    [session] = store.sessions(email=ADMIN)
    assert session["ended_reason"] == "signed_out"

    present_session(signed_in, old_cookie)
    replay = signed_in.get("/admin/", headers={"Accept": "application/json"})
    assert replay.status_code == 401


def test_logout_needs_the_csrf_token(signed_in, store):
    response = signed_in.post("/admin/logout")
    assert response.status_code == 400
    [session] = store.sessions(email=ADMIN)
    assert session["ended_at"] is None


def test_every_admin_response_is_not_stored(signed_in):
    for path in ("/admin/", "/admin/login", "/admin/nope"):
        assert signed_in.get(path).headers["Cache-Control"] == "no-store"


def test_unknown_admin_path_is_404_once_signed_in(signed_in):
    response = signed_in.get("/admin/nope")
    assert response.status_code == 404
    assert "There is no page at this address." in response.get_data(as_text=True)


def test_cross_site_link_re_navigates_instead_of_showing_login(client, clean):
    # SameSite=Strict withholds the cookie on a navigation from another site.
    response = client.get(
        "/admin/?page=2",
        headers={
            "Sec-Fetch-Site": "cross-site",
            "Sec-Fetch-Mode": "navigate",
        },
    )
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="0;url=/admin/?page=2">' in response.get_data(
        as_text=True
    )


# Outages: tests/security/test_faults.py
