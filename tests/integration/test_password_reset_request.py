"""Asking for a reset link: only enabled admins get an email, everyone gets
the same page, and the limits hold. Both delivery modes, real emulators and
a real SMTP server."""

from __future__ import annotations

import threading

import pytest

from adminapp.testing.firebase import OWNER
from tests.support.reset import request_reset, settle
from tests.support.settings import base_config

SENT = "If an admin account exists for that address, a link is on its way."


@pytest.fixture(params=["firebase", "smtp"])
def mode(request):
    return request.param


@pytest.fixture
def config(mode, smtp):
    if mode == "smtp":
        return base_config(**smtp.config())
    return base_config()


@pytest.fixture
def emails(mode, smtp, outbox):
    """How many reset emails went to an address, in the mode under test."""

    def count(address: str) -> int:
        if mode == "smtp":
            return len(smtp.inbox.to(address))
        return len(outbox.sent(address))

    return count


@pytest.fixture
def people(owner, auth_emulator, store):
    auth_emulator.create_user("plain.user@example.com")  # a Firebase user, not an admin
    auth_emulator.create_user("disabled@example.com")
    store.add_admin("disabled@example.com", "admin", disabled=True)
    store.add_admin("no.account@example.com", "viewer")  # an admin without a Firebase user


def test_the_login_page_links_to_the_request_page(client):
    page = client.get("/admin/login").get_data(as_text=True)
    assert 'href="/admin/resetpassword"' in page
    assert "Forgot your password?" in page
    form = client.get("/admin/resetpassword")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.get_data(as_text=True)


def test_an_admin_gets_exactly_one_email(app, client, people, emails, store, mode):
    response = request_reset(client, OWNER.upper())  # case does not matter
    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    settle(app)
    assert emails(OWNER) == 1
    [entry] = store.audit(event="password_reset_requested")
    assert entry["target"] == OWNER and entry["actor"] is None
    assert entry["outcome"] == "ok"
    assert entry["reason"] == mode


@pytest.mark.parametrize(
    "address",
    [
        "plain.user@example.com",
        "unknown@example.com",
        "disabled@example.com",
        "no.account@example.com",
    ],
)
def test_others_get_no_email_and_the_identical_page(app, people, emails, store, address):
    admin_page = request_reset(app.test_client(), OWNER)
    other_page = request_reset(app.test_client(), address)
    assert other_page.status_code == admin_page.status_code == 200
    assert other_page.get_data() == admin_page.get_data()
    settle(app)
    assert emails(address) == 0
    assert emails(OWNER) == 1
    # Internet noise is logged, not written to the trail.
    assert [e["target"] for e in store.audit(event="password_reset_requested")] == [OWNER]


def test_the_request_does_not_wait_for_the_delivery(app, client, people, emails):
    # The decision and the delivery happen after the response: the page can
    # be answered before any email exists.
    services = app.extensions["adminapp"]
    release = threading.Event()
    for _ in range(2):  # both workers busy until the test lets them go
        services.background.submit(lambda: release.wait(60), "hold the worker")
    response = request_reset(client, OWNER)
    assert response.status_code == 200
    assert emails(OWNER) == 0
    release.set()
    settle(app)
    assert emails(OWNER) == 1


def test_a_form_posted_twice_sends_one_email(app, client, people, emails):
    first = request_reset(client, OWNER)
    second = request_reset(client, OWNER)
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already received" in second.get_data(as_text=True)
    settle(app)
    assert emails(OWNER) == 1


def test_a_double_post_answers_the_same_for_strangers(app, people):
    client = app.test_client()
    request_reset(client, "unknown@example.com")
    again = request_reset(client, "unknown@example.com")
    assert again.status_code == 409


def test_missing_csrf_token_is_refused_and_sends_nothing(app, client, people, emails):
    response = request_reset(client, OWNER, csrf=False)
    assert response.status_code == 400
    assert "security token is missing" in response.get_data(as_text=True)
    settle(app)
    assert emails(OWNER) == 0


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "Enter your email address."),
        ("not-an-address", "Enter a valid email address"),
        ("a" * 250 + "@example.com", "at most 254 characters"),
        ("owner@example.com\r\nBcc: x@example.com", "Enter a valid email address"),
    ],
)
def test_bad_addresses_get_a_clear_400(app, client, people, emails, address, message):
    response = request_reset(client, address)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    settle(app)
    assert emails(OWNER) == 0


def test_an_oversized_body_is_refused(client, people):
    response = client.post("/admin/resetpassword", data={"email": "x" * 70_000})
    assert response.status_code == 413


class TestLimits:
    @pytest.fixture
    def config(self, mode, smtp):
        extra = smtp.config() if mode == "smtp" else {}
        return base_config(
            RESET_RATE_LIMIT_PER_EMAIL="2 per hour", RESET_RATE_LIMIT_PER_IP="4 per hour", **extra
        )

    def test_per_address(self, app, client, people, emails):
        assert request_reset(client, OWNER).status_code == 200
        assert request_reset(client, OWNER).status_code == 409  # the double-post guard
        limited = request_reset(client, OWNER)
        assert limited.status_code == 429
        body = limited.get_data(as_text=True)
        assert "Too many attempts. Try again in" in body and "minutes" in body
        assert int(limited.headers["Retry-After"]) > 60
        settle(app)
        assert emails(OWNER) == 1

    def test_per_client_ip(self, app, client, people, emails):
        for n in range(4):
            assert request_reset(client, f"someone{n}@example.com").status_code == 200
        assert request_reset(client, OWNER).status_code == 429
        settle(app)
        assert emails(OWNER) == 0
        # Another client IP is not affected.
        other = request_reset(client, OWNER, environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert other.status_code == 200
        settle(app)
        assert emails(OWNER) == 1

    def test_the_page_itself_is_not_limited(self, client, people):
        for _ in range(6):
            assert client.get("/admin/resetpassword").status_code == 200
