"""COOKIE_MODE=hosting: what only the one-cookie mode does, and what tells a
team that its proxy strips cookies.

The guard, sign-in, language, step-up and cookie-attack tests run in both
modes (``@pytest.mark.both_cookie_modes``); these are the jar's own rules:
its bound, its signature, and that it never replaces a cookie it was not
shown. The browser flows through a stand-in for Firebase Hosting are in
tests/browser/test_behind_hosting.py.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

import pytest
from flask import Response

from adminapp.domain.sessions import CookieClaims
from adminapp.testing.firebase import OWNER
from adminapp.web.context import COOKIE_KEY
from adminapp.web.cookie_jar import (
    HOSTING_COOKIE,
    LANGUAGE,
    MAX_COOKIE_BYTES,
    SESSION,
    STATE,
    cookie_jar_of,
)
from adminapp.web.mfa.step_up import MAX_RESUME_BYTES
from adminapp.web.session_state import RESUME_KEY
from tests.support.cookies import held, items_set_by, set_cookie_names
from tests.support.settings import base_config
from tests.support.web import csrf_token, exchange, session_cookie, sign_in

JSON = {"Accept": "application/json"}
# What a browser sends when another site links to us (Fetch Metadata).
CROSS_SITE_LINK = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
CROSS_SITE_IMAGE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}


@pytest.fixture
def cookie_mode():
    return "hosting"


def _random_text(length: int, seed: int) -> str:
    """Printable text that compresses badly: the worst case for the bound."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(length))


def _largest_resume(session_key: str) -> dict:
    """The biggest interrupted form step_up.py keeps: fields until its
    JSON reaches MAX_RESUME_BYTES."""
    import json

    resume = {"session": session_key, "path": "/admin/admins/" + "x" * 200, "fields": []}
    seed = 0
    while True:
        seed += 1
        field = [f"field{seed}", _random_text(40, seed)]
        if len(json.dumps({**resume, "fields": [*resume["fields"], field]})) > MAX_RESUME_BYTES:
            return resume
        resume["fields"].append(field)


@pytest.mark.both_cookie_modes
def test_the_largest_state_the_app_keeps_fits_every_cookie_under_the_bound(app, cookie_mode):
    """The longest address there can be (254 characters, random), the
    biggest step-up form, a CSRF secret, a long Korean flash message and the
    language: every cookie carrying them stays under MAX_COOKIE_BYTES, and
    nothing had to be dropped."""
    jar = cookie_jar_of(app)
    email = _random_text(64, 1) + "@" + _random_text(185, 2) + ".com"
    assert len(email) == 254
    claims = CookieClaims(session_id="x" * 43, email=email)
    session_value = app.extensions[COOKIE_KEY].encode(claims)
    state = {
        "csrf_token": _random_text(40, 3),
        RESUME_KEY: _largest_resume("f" * 64),
        "_flashes": [("notice", "관리자 초대 메일을 보냈습니다. " * 12)],
    }
    values = {SESSION: session_value, STATE: state, LANGUAGE: "ko"}
    later = datetime.now(UTC) + timedelta(hours=1)

    with app.test_request_context("/admin/"):
        response = Response()
        for item, value in values.items():
            jar.write(response, item, value, expires=later)  # raises when too large
        headers = response.headers.getlist("Set-Cookie")

    for header in headers:
        name_and_value = header.split(";", 1)[0]
        assert len(name_and_value) <= MAX_COOKIE_BYTES
    assert len(headers) == (1 if cookie_mode == "hosting" else 3)
    sent_back = dict(header.split(";", 1)[0].split("=", 1) for header in headers)
    assert jar.items_in(sent_back) == values  # all of it, nothing shed


def test_a_state_too_large_sheds_the_step_up_form_first_and_keeps_the_csrf_secret(app, client):
    """Past the bound (more than the app ever keeps), the interrupted form
    goes first, then older flash messages; the CSRF secret stays."""
    client.get("/admin/login")
    secret = held(client, STATE)["csrf_token"]
    huge = {"session": "f" * 64, "path": "/admin/", "fields": [["x", _random_text(5000, 4)]]}
    with client.session_transaction() as state:  # saved as a response would be
        state[RESUME_KEY] = huge
        state["_flashes"] = [("notice", _random_text(3500, 5)), ("notice", "kept")]

    kept = held(client, STATE)
    assert kept["csrf_token"] == secret
    assert RESUME_KEY not in kept
    assert kept["_flashes"] == [("notice", "kept")]
    assert len(client.get_cookie(HOSTING_COOKIE).value) + len(HOSTING_COOKIE) < MAX_COOKIE_BYTES
    assert client.get("/admin/login").status_code == 200


def test_everything_travels_in_one_cookie_that_hosting_forwards(client, auth_emulator, owner):
    client.get("/admin/language", query_string={"lang": "ko"})
    sign_in(client, auth_emulator, OWNER)

    assert [cookie.key for cookie in client._cookies.values()] == [HOSTING_COOKIE]
    cookie = client.get_cookie(HOSTING_COOKIE)
    assert cookie.http_only and cookie.secure and cookie.same_site == "Strict"
    assert cookie.path == "/" and cookie.origin_only
    assert held(client, LANGUAGE) == "ko"
    assert held(client, STATE)["csrf_token"]
    assert session_cookie(client) is not None
    assert client.get("/admin/", headers=JSON).status_code == 200


def test_a_forged_jar_holds_nothing_and_is_replaced(client, auth_emulator, owner, caplog):
    sign_in(client, auth_emulator, OWNER)
    genuine = client.get_cookie(HOSTING_COOKIE).value
    payload, signature = genuine.rsplit(".", 1)
    client.set_cookie(
        HOSTING_COOKIE, f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    )

    response = client.get("/admin/", headers=JSON)

    assert response.status_code == 401
    assert "bad_cookie_jar" in caplog.text
    client.set_cookie(HOSTING_COOKIE, genuine)
    assert client.get("/admin/", headers=JSON).status_code == 200


def test_a_jar_of_another_deployment_is_refused(client, auth_emulator, owner, clean):
    from adminapp import create_app

    other = create_app(
        base_config(COOKIE_MODE="hosting", SECRET_KEY=_random_text(48, 6))
    ).test_client()
    sign_in(other, auth_emulator, OWNER)
    client.set_cookie(HOSTING_COOKIE, other.get_cookie(HOSTING_COOKIE).value)

    assert client.get("/admin/", headers=JSON).status_code == 401
    assert other.get("/admin/", headers=JSON).status_code == 200  # it was genuine


def test_a_link_from_another_site_is_sent_round_and_never_replaces_the_jar(
    app, client, auth_emulator, owner
):
    """SameSite=Strict: a link from another site comes without __session.
    Writing a cookie then would replace the one the browser holds (and sign
    the person out): the public page is re-navigated from our own origin
    instead, and nothing is set."""
    sign_in(client, auth_emulator, OWNER)
    stranger = app.test_client()  # what the browser sends cross-site: no cookie

    for path in ("/admin/login", "/admin/language?lang=ko&next=/admin/", "/admin/resetpassword"):
        response = stranger.get(path, headers=CROSS_SITE_LINK)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert f'content="0;url={path.replace("&", "&amp;")}"' in page, path
        assert set_cookie_names(response) == [], path
    # A cross-site request that is not a navigation gets the page, but no
    # cookie either (its CSRF secret is not kept: it was not our tab).
    image = stranger.get("/admin/login", headers=CROSS_SITE_IMAGE)
    assert image.status_code == 200 and set_cookie_names(image) == []
    # The same request from our own origin carries the jar, and keeps it.
    again = client.get(
        "/admin/language?lang=ko&next=/admin/", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert items_set_by(client, again)[LANGUAGE] == "ko"
    assert session_cookie(client) is not None
    assert client.get("/admin/", headers=JSON).status_code == 200


@pytest.mark.both_cookie_modes
def test_a_proxy_that_strips_the_apps_cookies_is_named_not_looped(
    client, auth_emulator, owner, store, cookie_mode, caplog
):
    """Behind Firebase Hosting in the default mode, the login page's CSRF
    cookie never comes back. The exchange then says what is wrong and what
    to set, instead of "reload and try again" for ever; nothing is written."""
    token = csrf_token(client)  # the login page: its CSRF secret's cookie is set
    for cookie in list(client._cookies.values()):
        client.delete_cookie(cookie.key, domain=cookie.domain, path=cookie.path)

    response = client.post(
        "/admin/session",
        headers={
            "Authorization": f"Bearer {auth_emulator.sign_in(OWNER)}",
            "X-CSRFToken": token,
            "Origin": "http://localhost",
            **JSON,
        },
        json={},
    )

    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "cookies_not_returned"
    assert "COOKIE_MODE=hosting" in body["message"]
    assert "cookies_not_returned" in caplog.text
    assert store.sessions() == []
    # Without a token of ours it is the plain CSRF refusal: nothing to diagnose.
    forged = exchange(client, auth_emulator.sign_in(OWNER), csrf=False)
    assert forged.get_json()["error"] == "csrf_failed"
