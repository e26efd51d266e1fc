"""The users console against the Auth emulator: search, paging, every action,
the rules beyond the route's role, and the audit entries each action leaves.

Who may reach each route at all is tests/integration/test_route_access.py;
here the targets exist, so the effect (or its absence) is checked for real.
"""

from __future__ import annotations

import time

import pytest
from firebase_admin import auth

from adminapp.testing.sign_in import SESSION_COOKIE
from tests.support.outages import app_reaching, refusing
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, post_form

CUSTOMER = "customer@example.com"
OWNER_ACTOR = "boss@example.com"
ADMIN_ACTOR = "helper@example.com"
VIEWER_ACTOR = "watcher@example.com"
PAGE_SIZE = 2


@pytest.fixture
def config() -> dict[str, str]:
    return base_config(USERS_PAGE_SIZE=str(PAGE_SIZE))


@pytest.fixture
def customer(auth_emulator):
    """An end user of the product (not an admin), email not yet verified."""
    return auth_emulator.create_user(CUSTOMER, verified=False)


def firebase_user(auth_emulator, uid: str):
    return auth.get_user(uid, app=auth_emulator.app)


def api_write(client, method: str, path: str, body: dict | None = None):
    headers = {"Origin": ORIGIN, "X-CSRFToken": csrf_token(client)}
    return client.open(path, method=method, headers=headers, json=body or {})


def entries(store, event: str) -> list[dict]:
    return store.audit(event=event)


# -- reading ------------------------------------------------------------------


def test_browsing_walks_every_user_through_page_tokens(signed_in_as, auth_emulator):
    client = signed_in_as(VIEWER_ACTOR, "viewer")
    made = {auth_emulator.create_user(f"user{n}@example.com").uid for n in range(5)}

    seen, token, pages = [], None, 0
    while True:
        query = f"?limit={PAGE_SIZE}" + (f"&page={token}" if token else "")
        body = client.get(f"/admin/api/users{query}").get_json()
        assert len(body["users"]) <= PAGE_SIZE
        seen += [user["uid"] for user in body["users"]]
        pages += 1
        token = body["next"]
        if not token:
            break
    assert pages >= 3  # 6 users (5 and the viewer), 2 a page
    assert len(seen) == len(set(seen))  # no user twice
    assert made <= set(seen)

    # The page follows the same tokens: its "Next" link opens other users.
    first = client.get("/admin/users/").get_data(as_text=True)
    assert 'rel="next"' in first
    second_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(second_url).get_data(as_text=True)
    first_uids = {uid for uid in seen[:PAGE_SIZE] if uid in first}
    assert first_uids and not any(uid in second for uid in first_uids)


def test_a_bad_page_token_is_a_clear_400(signed_in_as):
    client = signed_in_as(VIEWER_ACTOR, "viewer")
    response = client.get("/admin/api/users?page=" + "x" * 3000)
    assert response.status_code == 400
    assert "page" in response.get_json()["message"]


def test_search_finds_a_user_by_email_phone_or_uid(signed_in_as, auth_emulator):
    client = signed_in_as(VIEWER_ACTOR, "viewer")
    user = auth.create_user(
        email="phoned@example.com", phone_number="+15555550123", app=auth_emulator.app
    )
    for query in ("Phoned@Example.com", "+15555550123", user.uid):
        response = client.get("/admin/users/", query_string={"q": query})
        # The user's page itself answers, not a redirect to it.
        assert response.status_code == 200, query
        assert f'id="user-uid">{user.uid}<' in response.get_data(as_text=True)
        api = client.get("/admin/api/users", query_string={"q": query}).get_json()
        assert [found["uid"] for found in api["users"]] == [user.uid]

    missing = client.get("/admin/users/", query_string={"q": "nobody@example.com"})
    assert missing.status_code == 404
    assert "There is no Firebase user nobody@example.com" in missing.get_data(as_text=True)
    api = client.get("/admin/api/users", query_string={"q": "nobody@example.com"})
    assert api.status_code == 404 and api.get_json()["error"] == "user_not_found"


def test_a_users_page_shows_the_account_and_whether_it_is_an_admin(
    signed_in_as, auth_emulator, store
):
    client = signed_in_as(VIEWER_ACTOR, "viewer")
    user = auth_emulator.create_user("staff@example.com")
    auth.set_custom_user_claims(user.uid, {"plan": "pro"}, app=auth_emulator.app)
    store.add_admin("staff@example.com", "admin")

    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "staff@example.com" in page and "password" in page
    assert "&#34;plan&#34;: &#34;pro&#34;" in page or '"plan": "pro"' in page
    assert 'id="user-admin"><span class="role role-admin">admin</span>' in page
    # A viewer sees no action buttons.
    assert 'id="user-actions"' not in page and 'id="claims-form"' not in page

    body = client.get(f"/admin/api/users/{user.uid}").get_json()["user"]
    assert body["custom_claims"] == {"plan": "pro"}
    assert body["providers"] == ["password"]
    assert body["admin_role"] == "admin"


# -- admin actions ------------------------------------------------------------

ADMIN_ACTIONS = [
    # (path part, audit event, did it happen? given the user before and after)
    ("disable", "user_disabled", lambda before, after: after.disabled),
    (
        "revoke",
        "user_tokens_revoked",
        lambda before, after: (
            after.tokens_valid_after_timestamp > before.tokens_valid_after_timestamp
        ),
    ),
    ("verify", "user_email_verified", lambda before, after: after.email_verified),
]


def acted(auth_emulator, uid: str, done, request) -> bool:
    """Whether ``request()`` did the action to the user (``done``)."""
    before = firebase_user(auth_emulator, uid)
    time.sleep(1.1)  # tokens_valid_after has a resolution of one second
    request()
    return done(before, firebase_user(auth_emulator, uid))


@pytest.mark.parametrize(("action", "event", "done"), ADMIN_ACTIONS)
def test_an_admin_acts_from_the_page_and_the_trail_finds_it_by_email_or_uid(
    signed_in_as, auth_emulator, store, customer, action, event, done
):
    client = signed_in_as(ADMIN_ACTOR, "admin")
    responses = []
    post = lambda: responses.append(post_form(client, f"/admin/users/{customer.uid}/{action}"))  # noqa: E731
    assert acted(auth_emulator, customer.uid, done, post)
    assert responses[0].status_code == 303

    [entry] = entries(store, event)
    assert (entry["actor"], entry["target"], entry["target_uid"]) == (
        ADMIN_ACTOR,
        CUSTOMER,
        customer.uid,
    )
    for target in (CUSTOMER, customer.uid):
        found = client.get("/admin/api/audit", query_string={"target": target}).get_json()
        # Only this user's entries: not the admin's own sign-in.
        assert [(e["event"], e["target_uid"]) for e in found["entries"]] == [
            (event, customer.uid)
        ], target
    page = client.get("/admin/audit", query_string={"target": customer.uid, "event": event})
    assert CUSTOMER in page.get_data(as_text=True)


@pytest.mark.parametrize(("action", "event", "done"), ADMIN_ACTIONS)
def test_a_viewer_is_refused_every_action_and_nothing_changes(
    signed_in_as, auth_emulator, store, customer, action, event, done
):
    client = signed_in_as(VIEWER_ACTOR, "viewer")
    statuses = []

    def both():
        statuses.append(post_form(client, f"/admin/users/{customer.uid}/{action}").status_code)
        path = f"/admin/api/users/{customer.uid}/{action}"
        statuses.append(api_write(client, "POST", path).status_code)

    assert not acted(auth_emulator, customer.uid, done, both)
    assert statuses == [403, 403]
    assert entries(store, event) == []


def test_enable_through_the_api_returns_the_new_state(signed_in_as, auth_emulator, store):
    client = signed_in_as(ADMIN_ACTOR, "admin")
    user = auth_emulator.create_user("blocked@example.com", disabled=True)
    response = api_write(client, "POST", f"/admin/api/users/{user.uid}/enable")
    assert response.status_code == 200
    assert response.get_json()["user"]["disabled"] is False
    assert not firebase_user(auth_emulator, user.uid).disabled
    [entry] = entries(store, "user_enabled")
    assert entry["target_uid"] == user.uid


def test_an_admin_account_needs_an_owner_to_act_on_it(signed_in_as, auth_emulator, store):
    other_admin = auth_emulator.create_user("colleague@example.com")
    store.add_admin("colleague@example.com", "viewer")
    admin = signed_in_as(ADMIN_ACTOR, "admin")

    response = post_form(admin, f"/admin/users/{other_admin.uid}/disable")
    assert response.status_code == 403
    assert "only an owner" in response.get_data(as_text=True)
    assert not firebase_user(auth_emulator, other_admin.uid).disabled
    [refused] = entries(store, "user_disabled")
    assert (refused["outcome"], refused["reason"]) == ("refused", "target_is_admin")

    owner = signed_in_as(OWNER_ACTOR, "owner")
    assert post_form(owner, f"/admin/users/{other_admin.uid}/disable").status_code == 303
    assert firebase_user(auth_emulator, other_admin.uid).disabled


def test_nobody_disables_their_own_account_here(signed_in_as, auth_emulator):
    owner = signed_in_as(OWNER_ACTOR, "owner")
    me = auth.get_user_by_email(OWNER_ACTOR, app=auth_emulator.app)
    response = post_form(owner, f"/admin/users/{me.uid}/disable")
    assert response.status_code == 409
    assert not firebase_user(auth_emulator, me.uid).disabled


def test_a_password_reset_goes_out_once_through_the_reset_delivery(
    signed_in_as, auth_emulator, store, outbox
):
    user = auth_emulator.create_user("forgetful@example.com")
    client = signed_in_as(ADMIN_ACTOR, "admin")

    assert post_form(client, f"/admin/users/{user.uid}/reset").status_code == 303
    assert len(outbox.sent("forgetful@example.com")) == 1
    [entry] = entries(store, "user_password_reset_sent")
    assert (entry["target"], entry["target_uid"], entry["outcome"]) == (
        "forgetful@example.com",
        user.uid,
        "ok",
    )

    # A second press a moment later (or the same address on the public
    # reset form) is the double submit the reset form already refuses.
    again = api_write(client, "POST", f"/admin/api/users/{user.uid}/reset")
    assert again.status_code == 409
    assert again.get_json()["error"] == "duplicate_request"
    assert len(outbox.sent("forgetful@example.com")) == 1
    assert len(entries(store, "user_password_reset_sent")) == 1


# -- owner actions ------------------------------------------------------------


def test_an_owner_sets_claims_from_the_json_editor(signed_in_as, auth_emulator, store, customer):
    client = signed_in_as(OWNER_ACTOR, "owner")
    response = post_form(
        client, f"/admin/users/{customer.uid}/claims", {"claims": '{"plan": "pro", "seats": 3}'}
    )
    assert response.status_code == 303
    assert firebase_user(auth_emulator, customer.uid).custom_claims == {"plan": "pro", "seats": 3}
    [entry] = entries(store, "user_claims_set")
    assert (entry["target_uid"], entry["reason"]) == (customer.uid, "keys: plan, seats")

    api = api_write(client, "PUT", f"/admin/api/users/{customer.uid}/claims", {"claims": {}})
    assert api.status_code == 200
    assert not firebase_user(auth_emulator, customer.uid).custom_claims


BAD_CLAIMS = {
    "not an object": '["plan", "pro"]',
    "not JSON": "{plan: pro}",
    "over 1000 bytes": '{"note": "' + "x" * 1000 + '"}',
    "a reserved claim": '{"sub": "someone-else"}',
}


@pytest.mark.parametrize("text", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_bad_claims_are_refused_with_a_reason_and_nothing_is_sent(
    signed_in_as, auth_emulator, store, customer, text
):
    auth.set_custom_user_claims(customer.uid, {"plan": "free"}, app=auth_emulator.app)
    client = signed_in_as(OWNER_ACTOR, "owner")

    page = post_form(client, f"/admin/users/{customer.uid}/claims", {"claims": text})
    assert page.status_code == 400
    assert 'id="claims-error"' in page.get_data(as_text=True)

    api = api_write(client, "PUT", f"/admin/api/users/{customer.uid}/claims", {"claims": text})
    assert api.status_code == 400
    assert api.get_json()["error"] == "invalid_claims"

    assert firebase_user(auth_emulator, customer.uid).custom_claims == {"plan": "free"}
    assert entries(store, "user_claims_set") == []


# Deeper than the claims' limit (7); 1900 would blow Python's recursion
# limit (json.loads gives up at about 1000) and still fits the page's
# 4000-character editor.
DEEP_CLAIMS = {"one level too deep": 8, "deeper than python recurses": 1900}


@pytest.mark.parametrize("depth", DEEP_CLAIMS.values(), ids=DEEP_CLAIMS.keys())
def test_claims_nested_too_deeply_are_a_clear_400_on_the_page_and_the_api(
    signed_in_as, auth_emulator, store, customer, depth
):
    auth.set_custom_user_claims(customer.uid, {"plan": "free"}, app=auth_emulator.app)
    client = signed_in_as(OWNER_ACTOR, "owner")
    text = '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    path = f"/admin/api/users/{customer.uid}/claims"

    page = post_form(client, f"/admin/users/{customer.uid}/claims", {"claims": text})
    assert page.status_code == 400
    assert "can nest at most 7 levels" in page.get_data(as_text=True)
    # The API takes the claims as an object, or as JSON text like the editor.
    as_object = client.put(
        path,
        data='{"claims": ' + text + "}",
        headers={"Origin": ORIGIN, "X-CSRFToken": csrf_token(client)},
        content_type="application/json",
    )
    as_text = api_write(client, "PUT", path, {"claims": text})
    for api in (as_object, as_text):
        assert api.status_code == 400
        assert api.get_json() == {
            "error": "invalid_claims",
            "message": "Custom claims can nest at most 7 levels of objects and lists.",
        }

    assert firebase_user(auth_emulator, customer.uid).custom_claims == {"plan": "free"}
    assert entries(store, "user_claims_set") == []


def test_an_admin_cannot_set_claims_or_delete(signed_in_as, auth_emulator, customer):
    client = signed_in_as(ADMIN_ACTOR, "admin")
    path = f"/admin/users/{customer.uid}"
    assert post_form(client, f"{path}/claims", {"claims": '{"a": 1}'}).status_code == 403
    assert post_form(client, f"{path}/delete", {"confirm": CUSTOMER}).status_code == 403
    user = firebase_user(auth_emulator, customer.uid)
    assert not user.custom_claims


def test_delete_needs_the_email_typed_again(signed_in_as, auth_emulator, store, customer):
    client = signed_in_as(OWNER_ACTOR, "owner")
    page = client.get(f"/admin/users/{customer.uid}/delete").get_data(as_text=True)
    assert f"Type {CUSTOMER} to confirm" in page

    wrong = post_form(client, f"/admin/users/{customer.uid}/delete", {"confirm": "someone"})
    assert wrong.status_code == 400
    assert firebase_user(auth_emulator, customer.uid).uid == customer.uid
    assert entries(store, "user_deleted") == []

    right = post_form(client, f"/admin/users/{customer.uid}/delete", {"confirm": CUSTOMER})
    assert right.status_code == 303
    with pytest.raises(auth.UserNotFoundError):
        firebase_user(auth_emulator, customer.uid)
    [entry] = entries(store, "user_deleted")
    assert (entry["actor"], entry["target"], entry["target_uid"]) == (
        OWNER_ACTOR,
        CUSTOMER,
        customer.uid,
    )


def test_an_admins_firebase_account_is_not_deleted_from_here(signed_in_as, auth_emulator, store):
    staff = auth_emulator.create_user("staff@example.com")
    store.add_admin("staff@example.com", "viewer")
    client = signed_in_as(OWNER_ACTOR, "owner")
    response = api_write(
        client, "DELETE", f"/admin/api/users/{staff.uid}", {"confirm": "staff@example.com"}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "user_is_admin"
    assert firebase_user(auth_emulator, staff.uid).uid == staff.uid


# -- failures -----------------------------------------------------------------


def test_firebase_auth_down_is_a_503_not_a_crash(signed_in_as, config, customer, monkeypatch):
    cookie = signed_in_as(VIEWER_ACTOR, "viewer").get_cookie(SESSION_COOKIE).value
    # The same settings and session on an app whose Auth refuses connections.
    with (
        refusing() as host,
        app_reaching(monkeypatch, "FIREBASE_AUTH_EMULATOR_HOST", host, config, cookie) as client,
    ):
        page = client.get(f"/admin/users/{customer.uid}")
        api = client.get(f"/admin/api/users/{customer.uid}")
    assert page.status_code == 503
    assert "Firebase Authentication is not answering" in page.get_data(as_text=True)
    assert api.status_code == 503
    assert api.get_json()["error"] == "service_unavailable"
