"""Cloud Run's default CPU allocation: CPU only while a request is answered.

Two things ran on threads between requests and would stall there:

- emails sent after the response (the password reset request, notices):
  with ``CLOUD_RUN_CPU=request`` they go out before the response, and the
  reset request still answers in the same time for every address (a floor);
- the session cache's invalidation subscriber: a worker whose subscriber has
  not run lately must not answer from its cache.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest
import redis as redis_client

from adminapp.services.background import settle
from adminapp.testing.firebase import OWNER
from adminapp.web.auth.reset import RESET_ANSWER_SECONDS
from tests.support.instances import redis_server
from tests.support.reset import fresh_app, request_reset
from tests.support.settings import base_config
from tests.support.web import present_session, session_cookie, sign_in

SENT = "If an admin account exists for that address, a link is on its way."
ME = "/admin/api/me"
JSON = {"Accept": "application/json"}
NO_FIRESTORE = 'firestore;desc="round trips";dur=0'


# -- emails -------------------------------------------------------------------


@pytest.fixture
def config(smtp):
    return base_config(CLOUD_RUN_CPU="request", **smtp.config())


def timed(call):
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


def test_the_reset_email_is_sent_before_the_answer_which_takes_the_same_floor_for_anyone(
    app, client, owner, auth_emulator, smtp
):
    auth_emulator.create_user("plain.user@example.com")  # in Firebase, not an admin

    for_admin, admin_took = timed(lambda: request_reset(client, OWNER))
    # No drain, no wait: the email is already in the inbox.
    assert len(smtp.inbox.to(OWNER)) == 1
    for_stranger, stranger_took = timed(lambda: request_reset(client, "plain.user@example.com"))

    assert for_admin.status_code == for_stranger.status_code == 200
    assert SENT in for_admin.get_data(as_text=True)
    assert for_admin.get_data() == for_stranger.get_data()
    assert smtp.inbox.to("plain.user@example.com") == []
    # Both held to the floor, which a lookup and a send fit under: the time
    # says nothing about the address (only the lower bound is asserted; a
    # busy machine may add to both).
    assert admin_took >= RESET_ANSWER_SECONDS
    assert stranger_took >= RESET_ANSWER_SECONDS


def test_without_the_setting_the_reset_answers_at_once_and_mails_after(
    clean, owner, smtp, monkeypatch
):
    """CLOUD_RUN_CPU=always (the default off Cloud Run): the job runs after
    the response, as before; the response does not wait for it."""
    release = threading.Event()
    with fresh_app(base_config(**smtp.config())) as app:
        resets = app.extensions["adminapp"].resets
        real = resets._decide_and_send
        # On the class: a service is a frozen dataclass, its instance fixed.
        monkeypatch.setattr(
            type(resets), "_decide_and_send", lambda _self, *a: (release.wait(30), real(*a))
        )
        client = app.test_client()

        response = request_reset(client, OWNER)

        assert response.status_code == 200
        assert smtp.inbox.to(OWNER) == []  # still waiting to be sent
        release.set()
        app.extensions["adminapp"].background.drain()
        assert len(smtp.inbox.to(OWNER)) == 1


def test_settle_answers_at_the_floor_and_leaves_a_slow_job_to_finish_after():
    release = threading.Event()
    slow: Future = Future()
    threading.Thread(target=lambda: (release.wait(30), slow.set_result(None)), daemon=True).start()
    done: Future = Future()
    done.set_result(None)
    clock = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    # A finished job: the answer still waits for the floor.
    settle([done], deadline=102.0, clock=lambda: clock[0], sleep=sleep)
    assert clock[0] == 102.0 and slept == [2.0]
    # A job slower than the floor: the answer does not wait for it.
    settle([slow], deadline=clock[0], clock=lambda: clock[0], sleep=sleep)
    assert not slow.done()
    release.set()


# -- the invalidation subscriber ------------------------------------------------


@pytest.fixture
def redis():
    with redis_server() as server:
        yield server


class Freezer:
    """Stops every subscriber's reads as throttled CPU would: the thread
    stays, its connection stays, it just does not run."""

    def __init__(self, monkeypatch):
        self.thawed = threading.Event()
        self.thawed.set()
        self.stopped = threading.Event()
        real = redis_client.client.PubSub.get_message

        def get_message(pubsub, *args, **kwargs):
            if not self.thawed.is_set():
                self.stopped.set()
                self.thawed.wait(60)
            return real(pubsub, *args, **kwargs)

        monkeypatch.setattr(redis_client.client.PubSub, "get_message", get_message)

    def freeze(self) -> None:
        self.thawed.clear()
        assert self.stopped.wait(10), "the subscriber did not come round to a read"

    def thaw(self) -> None:
        self.thawed.set()


def test_a_worker_whose_subscriber_has_not_run_does_not_serve_a_revoked_session_from_cache(
    clean, owner, auth_emulator, store, redis, monkeypatch
):
    settings = base_config(
        SESSION_CACHE_SECONDS="60", SESSION_INVALIDATION_URL=redis.uri, SERVER_TIMING="true"
    )
    freezer = Freezer(monkeypatch)
    with fresh_app(settings) as paused, fresh_app(settings) as other:
        browser = paused.test_client()
        sign_in(browser, auth_emulator, OWNER)
        cookie = session_cookie(browser).value

        def from_cache() -> bool:
            response = browser.get(ME, headers=JSON)
            return response.status_code == 200 and NO_FIRESTORE in response.headers["Server-Timing"]

        deadline = time.monotonic() + 10
        while not from_cache():
            assert time.monotonic() < deadline, "the cache never served the session"
        cache = paused.extensions["adminapp"].sessions._cache

        freezer.freeze()  # no CPU for the subscriber from here on
        # The session is ended elsewhere; the invalidation waits, unread.
        [session] = store.sessions(email=OWNER)
        other.extensions["adminapp"].access.end_session(
            session["id"], by=None, actor="other-owner@example.com", client=None
        )
        # Time passes without CPU (the cache's clock moves on by itself).
        real_clock = cache._clock
        monkeypatch.setattr(cache, "_clock", lambda: real_clock() + 5)

        refused = browser.get(ME, headers=JSON)

        assert refused.status_code == 401  # read from Firestore: ended
        freezer.thaw()
        # Running again, it drains the channel and the cache is used again.
        other_browser = paused.test_client()
        sign_in(other_browser, auth_emulator, OWNER)
        deadline = time.monotonic() + 10
        while True:
            response = other_browser.get(ME, headers=JSON)
            if NO_FIRESTORE in response.headers.get("Server-Timing", ""):
                break
            assert time.monotonic() < deadline, "the cache was not used again"
        present_session(browser, cookie)
        assert browser.get(ME, headers=JSON).status_code == 401
