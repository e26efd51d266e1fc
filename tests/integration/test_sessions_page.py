"""The sessions page: see your sessions, end one, end the others, sign out everywhere."""

from __future__ import annotations

import time

import pytest

from tests.support.web import post_form, session_cookie, sign_in

ME = "me@example.com"
JSON = {"Accept": "application/json"}
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/150.0.0.0 Safari/537.36"
)


@pytest.fixture
def devices(app, auth_emulator, store):
    """Three signed-in browsers of the same viewer."""
    auth_emulator.create_user(ME)
    store.add_admin(ME, "viewer")
    clients = []
    for _ in range(3):
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = CHROME
        sign_in(client, auth_emulator, ME)
        clients.append(client)
    return clients


def keys(store, **where):
    return {s["id"] for s in store.sessions(email=ME, **where)}


def test_page_lists_my_sessions_with_device_and_marks_this_one(devices, store):
    page = devices[0].get("/admin/sessions").get_data(as_text=True)
    assert page.count("Chrome 150 on Windows") == 3
    assert page.count("This session") == 1
    for key in keys(store):
        assert key in page


def test_end_one_session(devices, store):
    mine = devices[0]
    other_key = next(iter(keys(store) - {_key_of(mine, store)}))
    response = post_form(mine, f"/admin/sessions/{other_key}/end")
    assert response.status_code == 303
    assert keys(store, active=True) == keys(store) - {other_key}
    statuses = sorted(d.get("/admin/", headers=JSON).status_code for d in devices)
    assert statuses == [200, 200, 401]
    [entry] = store.audit(event="session_ended")
    assert entry["actor"] == ME and entry["target"] == ME and entry["reason"] == "ended_by_self"


def test_end_all_other_sessions_keeps_this_one(devices, store):
    response = post_form(devices[0], "/admin/sessions/end-others")
    assert response.status_code == 303
    assert devices[0].get("/admin/").status_code == 200
    assert [d.get("/admin/", headers=JSON).status_code for d in devices[1:]] == [401, 401]
    assert len(keys(store, active=True)) == 1


def test_sign_out_everywhere_ends_all_and_revokes_firebase_tokens(devices, store, auth_emulator):
    store.update_admin(ME, service_account=True)  # so the token alone would open the API
    token = auth_emulator.sign_in(ME)
    time.sleep(1.1)  # revocation counts from the next whole second
    response = post_form(devices[0], "/admin/sessions/end-all")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/login"
    assert session_cookie(devices[0]) is None
    assert all(d.get("/admin/", headers=JSON).status_code == 401 for d in devices)
    assert keys(store, active=True) == set()
    # A Firebase ID token minted before is now revoked.
    api = devices[0].get("/admin/api/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    assert api.get_json()["error"] == "revoked_token"


def test_ending_my_own_current_session_signs_me_out(devices, store):
    key = _key_of(devices[0], store)
    response = post_form(devices[0], f"/admin/sessions/{key}/end")
    assert response.headers["Location"] == "/admin/login"
    assert session_cookie(devices[0]) is None


def test_a_viewer_cannot_see_or_end_someone_elses_sessions(devices, signed_in_as, store):
    signed_in_as("owner@example.com", "owner")
    owner_key = next(iter(s["id"] for s in store.sessions(email="owner@example.com")))
    assert devices[0].get("/admin/sessions?email=owner@example.com").status_code == 403
    assert post_form(devices[0], f"/admin/sessions/{owner_key}/end").status_code == 404
    assert [s["active"] for s in store.sessions(email="owner@example.com")] == [True]


def test_an_owner_sees_and_ends_another_admins_session(devices, signed_in_as, store):
    owner = signed_in_as("owner@example.com", "owner")
    page = owner.get(f"/admin/sessions?email={ME}").get_data(as_text=True)
    assert f"Sessions of {ME}" in page
    key = sorted(keys(store))[0]
    response = post_form(owner, f"/admin/sessions/{key}/end")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/sessions?email={ME}"
    [entry] = store.audit(event="session_ended")
    assert entry["actor"] == "owner@example.com" and entry["reason"] == "ended_by_owner"


@pytest.mark.parametrize("key", ["nothex", "0" * 64, "A" * 64])
def test_unknown_or_malformed_session_is_404(devices, key):
    assert post_form(devices[0], f"/admin/sessions/{key}/end").status_code == 404


def test_bad_email_filter_is_400(devices):
    assert devices[0].get("/admin/sessions?email=nope").status_code == 400


def _key_of(client, store) -> str:
    """The session key of this browser, found via the page's 'This session' row."""
    page = client.get("/admin/sessions").get_data(as_text=True)
    row = page.split("This session", 1)[0].rsplit('data-key="', 1)[1]
    return row.split('"', 1)[0]
