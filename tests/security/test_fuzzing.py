"""Hypothesis throws arbitrary input at every place a visitor controls:
never a 5xx, never a session cookie, never a session document."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adminapp.testing.firebase import OWNER
from adminapp.web.redirects import DASHBOARD, safe_next
from tests.support.settings import base_config
from tests.support.web import SESSION_COOKIE, csrf_token, post_form, session_cookie, sign_in

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What can travel in an HTTP header: latin-1 without control characters.
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=600,
)
token_like = st.builds(
    lambda parts: ".".join(parts),
    st.lists(
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=",
            max_size=80,
        ),
        min_size=1,
        max_size=5,
    ),
)
JSON = {"Accept": "application/json"}


@pytest.fixture
def config():
    # Fuzzing makes far more attempts than the sign-in limit allows.
    return base_config(SIGN_IN_RATE_LIMIT="100000 per minute")


def session_set(response) -> bool:
    """A Set-Cookie giving the session cookie a value (clearing it is fine)."""
    return any(
        header.startswith(f"{SESSION_COOKIE}=") and not header.startswith(f"{SESSION_COOKIE}=;")
        for header in response.headers.getlist("Set-Cookie")
    )


def assert_no_way_in(response, store):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.status_code != 200 or b"Opening the admin area" in response.data
    assert not session_set(response)
    assert store.sessions() == []


@FUZZ
@given(value=st.one_of(header_text, token_like))
def test_cookie_values(client, store, value):
    response = client.get("/admin/api/me", headers={**JSON, "Cookie": f"{SESSION_COOKIE}={value}"})
    assert response.status_code == 401
    assert_no_way_in(response, store)


@FUZZ
@given(value=st.one_of(header_text, token_like.map(lambda t: f"Bearer {t}")))
def test_authorization_headers_at_the_exchange_and_the_api(client, store, value):
    exchange = client.post(
        "/admin/session",
        headers={
            "Authorization": value,
            "Origin": "http://localhost",
            "X-CSRFToken": csrf_token(client),
        },
    )
    assert 400 <= exchange.status_code < 500
    assert_no_way_in(exchange, store)
    api = client.get("/admin/api/me", headers={"Authorization": value})
    assert 400 <= api.status_code < 500
    assert_no_way_in(api, store)


@FUZZ
@given(next_value=st.one_of(header_text, st.text(max_size=300)))
def test_next_at_the_login_page(client, next_value):
    response = client.get("/admin/login", query_string={"next": next_value})
    assert response.status_code == 200
    assert safe_next(next_value) in (DASHBOARD, next_value)
    if safe_next(next_value) != DASHBOARD:
        assert next_value.startswith("/admin") and "//" not in next_value


@FUZZ
@given(
    body=st.one_of(
        st.dictionaries(
            st.text(max_size=20),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=50),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3)
                ),
                max_leaves=8,
            ),
            max_size=4,
        ),
        st.text(max_size=200),
    )
)
def test_exchange_bodies_without_a_valid_token(client, store, body):
    headers = {"Origin": "http://localhost", "X-CSRFToken": csrf_token(client), **JSON}
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    response = client.post("/admin/session", headers=headers, **kwargs)
    assert response.status_code == 401
    assert_no_way_in(response, store)


@pytest.fixture
def owner_client(app, auth_emulator, owner):
    client = app.test_client()
    sign_in(client, auth_emulator, OWNER)
    return client


@pytest.mark.long
@FUZZ
@given(email=st.text(max_size=300), role=st.text(max_size=30), csrf=st.text(max_size=100))
def test_form_fields_of_a_signed_in_owner(owner_client, store, email, role, csrf):
    sessions_before = len(store.sessions())
    invite = post_form(owner_client, "/admin/admins", {"email": email, "role": role})
    assert invite.status_code < 500, invite.get_data(as_text=True)[:500]
    assert invite.status_code in (303, 400, 409)
    logout = owner_client.post("/admin/logout", data={"csrf_token": csrf})
    assert logout.status_code == 400  # a guessed CSRF token never works
    assert session_cookie(owner_client) is not None
    assert len(store.sessions()) == sessions_before
    assert not session_set(invite) and not session_set(logout)


# Bodies a valid caller might send by mistake or on purpose: JSON of any
# shape (deep nesting included: 60 KB of brackets stays under the size cap
# and used to crash the parser), text, and bytes that are not UTF-8.
hostile_bodies = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=30),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=10,
    ),
    st.integers(min_value=1, max_value=30_000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=1, max_value=7_000).map(lambda n: '{"next":' * n + "1" + "}" * n),
    st.text(max_size=200),
    st.binary(max_size=200),
)


def _raw(body) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and body[:1] in "[{":
        return body.encode()
    import json

    return json.dumps(body).encode()


@pytest.mark.long
@FUZZ
@given(body=hostile_bodies)
def test_exchange_bodies_with_a_valid_token(client, auth_emulator, owner, store, body):
    """A valid admin token with any body: never a 5xx, and nothing written
    (no session, no audit entry) unless the exchange answered 200."""
    token = auth_emulator.sign_in(OWNER)
    sessions, entries = len(store.sessions()), len(store.audit())
    response = client.post(
        "/admin/session",
        headers={
            "Authorization": f"Bearer {token}",
            "Origin": "http://localhost",
            "X-CSRFToken": csrf_token(client),
            "Content-Type": "application/json",
            **JSON,
        },
        data=_raw(body),
    )
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        assert len(store.sessions()) == sessions + 1 and len(store.audit()) == entries + 1
    else:
        assert response.get_json()["error"] == "bad_request"
        assert not session_set(response)
        assert len(store.sessions()) == sessions and len(store.audit()) == entries


@pytest.mark.long
@FUZZ
@given(body=hostile_bodies)
def test_api_write_bodies_of_a_signed_in_owner(owner_client, store, body):
    """An owner's session with any body on the API's writes: never a 5xx, and
    nothing changed or audited unless the answer says it succeeded."""
    store.add_admin("staff@example.com", "viewer")
    entries = len(store.audit())
    headers = {"X-CSRFToken": csrf_token(owner_client), "Content-Type": "application/json"}
    for method, path in (
        ("PATCH", "/admin/api/admins/staff@example.com"),
        ("POST", "/admin/api/admins"),
    ):
        response = owner_client.open(path, method=method, headers=headers, data=_raw(body))
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if response.status_code >= 400:
            assert len(store.audit()) == entries
        entries = len(store.audit())
