"""Single use under concurrency: N submissions at once (issue 20).

One TOTP step, one recovery code and one passkey challenge each open one
session however many requests carry them at once, and the wrong-code count
of a pending session counts every concurrent guess. The app is served over
HTTP (a thread per request, as gunicorn's threads); the requests are
released together by a barrier, and each request's first Firestore write is
held until all of them have reached theirs (``reads_before_writes``), so
every request has read the factor and the session before any of them
writes. That is the interleaving in which a read-then-write race is lost,
reached on a quiet machine or a loaded one alike.

Each test fails on the upstream emulator (``--upstream-semantics``, which
ignores update-time preconditions): there the same code opened every
session. The failure-count test also fails on the old count (read, +1,
write back): twelve guesses were all told "4 attempts left".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import pyotp
import pytest
import requests

from adminapp.services.mfa.steps import MAX_FAILURES
from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import LiveBrowser, authenticator_for, csrf_token, exchange, sign_in
from tests.support.concurrency import DEADLINE_SECONDS, at_once, reads_before_writes
from tests.support.passkeys import SoftPasskey
from tests.support.settings import base_config

NEXT = "?next=/admin/sessions"
SESSIONS = 6  # pending sessions racing one code, as in the review
GUESSES = 12  # concurrent wrong codes on one pending session
_LEFT = re.compile(r"(\d) attempts? left")


@pytest.fixture
def config():
    # Many sign-ins and proofs from one address within a minute.
    return base_config(SIGN_IN_RATE_LIMIT="500 per minute")


@dataclass
class Pending:
    """A browser holding a pending session of OWNER: the password proven,
    the second factor due."""

    browser: LiveBrowser
    csrf: str

    @classmethod
    def open(cls, site: str, auth_emulator) -> Pending:
        # The app holds these requests until all have read (a deadline, not a speed).
        browser = LiveBrowser(site, timeout=DEADLINE_SECONDS)
        response = exchange(browser, auth_emulator.sign_in(OWNER), next_path="/admin/sessions")
        assert response.json()["redirect"].startswith("/admin/mfa"), response.text
        return cls(browser, csrf_token(browser))

    def twin(self) -> Pending:
        """Another browser (another tab, or a thief) with the same cookies."""
        twin = LiveBrowser(self.browser.origin, self.browser.cookies, timeout=self.browser.timeout)
        return Pending(twin, self.csrf)

    def submit(self, path: str, **fields: str) -> requests.Response:
        return self.browser.post(
            path + NEXT,
            headers={"Origin": self.browser.origin},
            data={"csrf_token": self.csrf, **fields},
        )

    def passkey_options(self, kind: str) -> dict:
        response = self.browser.post(
            f"/admin/mfa/passkeys/{kind}-options",
            headers={"X-CSRFToken": self.csrf, "Origin": self.browser.origin},
        )
        assert response.status_code == 200, response.text
        return response.json()


def enrol_totp(site: str, auth_emulator):
    """OWNER's authenticator app, enrolled through a first sign-in."""
    sign_in(LiveBrowser(site), auth_emulator.sign_in(OWNER))
    return authenticator_for(site, OWNER)


def wrong_code(secret: str) -> str:
    """A code no step around now has (the app accepts one step either side)."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now())
    valid = {totp.generate_otp(now + offset) for offset in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def all_at_once(app, attempts: list, act) -> list[requests.Response]:
    """Send every attempt at once, every read before any write; the responses."""
    with reads_before_writes(app, len(attempts)):
        outcomes = at_once(attempts, act)
    assert all(isinstance(o, requests.Response) for o in outcomes), outcomes
    return outcomes


def statuses(responses: list[requests.Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


def opened_with(store, factor: str) -> int:
    """Full sessions of OWNER opened with ``factor``."""
    return len([s for s in store.sessions(email=OWNER) if s["mfa_factor"] == factor])


def test_one_totp_code_opens_one_of_many_pending_sessions(app, site, auth_emulator, owner, store):
    authenticator = enrol_totp(site, auth_emulator)
    sessions = [Pending.open(site, auth_emulator) for _ in range(SESSIONS)]
    code = authenticator.next_code()

    outcomes = all_at_once(app, sessions, lambda s: s.submit("/admin/mfa/totp", code=code))

    assert statuses(outcomes) == [303] + [400] * (SESSIONS - 1)
    assert all("already used" in r.text for r in outcomes if r.status_code == 400)
    assert opened_with(store, "totp") == 2  # the enrolment's, and one of these
    assert len(store.audit(event="second_factor_passed")) == 2


def test_one_recovery_code_opens_one_of_many_pending_sessions(
    app, site, auth_emulator, owner, store
):
    authenticator = enrol_totp(site, auth_emulator)
    sessions = [Pending.open(site, auth_emulator) for _ in range(SESSIONS)]
    code = authenticator.recovery_codes[0]

    outcomes = all_at_once(
        app, sessions, lambda s: s.submit("/admin/mfa/recovery", recovery_code=code)
    )

    assert statuses(outcomes) == [303] + [400] * (SESSIONS - 1)
    assert all("already used" in r.text for r in outcomes if r.status_code == 400)
    assert opened_with(store, "recovery_codes") == 1
    [codes] = [f for f in store.factors(OWNER) if f["kind"] == "recovery_codes"]
    assert len([c for c in codes["codes"] if c["used_at"] is not None]) == 1


def test_one_passkey_challenge_answered_twice_at_once_opens_one_session(
    app, site, auth_emulator, owner, store
):
    enrolling = Pending.open(site, auth_emulator)
    passkey = SoftPasskey(origin=site)
    answer = passkey.register(enrolling.passkey_options("registration"))
    enrolled = enrolling.submit("/admin/mfa/enrol/passkey", credential=json.dumps(answer))
    assert enrolled.status_code == 200, enrolled.text
    tab = Pending.open(site, auth_emulator)
    options = tab.passkey_options("authentication")
    # Two valid answers to the one challenge (the counter goes up in each).
    answers = [(tab, passkey.assert_(options)), (tab.twin(), passkey.assert_(options))]

    outcomes = all_at_once(
        app,
        answers,
        lambda a: a[0].submit("/admin/mfa/passkey", credential=json.dumps(a[1])),
    )

    assert statuses(outcomes) == [303, 400]
    assert "already answered" in next(r.text for r in outcomes if r.status_code == 400)
    assert opened_with(store, "passkey") == 2  # the enrolment's, and one of these


def test_concurrent_wrong_codes_end_the_session_at_the_fifth(
    app, site, auth_emulator, owner, store
):
    authenticator = enrol_totp(site, auth_emulator)
    tab = Pending.open(site, auth_emulator)
    guesses = [tab] + [tab.twin() for _ in range(GUESSES - 1)]
    wrong = wrong_code(authenticator.secret)

    outcomes = all_at_once(app, guesses, lambda g: g.submit("/admin/mfa/totp", code=wrong))

    # Every guess was counted: four were told how many attempts are left
    # (each a different number), the fifth ended the session, and the rest
    # found it over. The old count told all twelve "4 attempts left".
    told = sorted(int(_LEFT.search(r.text).group(1)) for r in outcomes if r.status_code == 400)
    assert told == [1, 2, 3, 4]
    ended = [r for r in outcomes if r.status_code == 303]
    assert len(ended) == GUESSES - (MAX_FAILURES - 1)
    assert all(r.headers["Location"] == "/admin/login" for r in ended)
    [record] = [s for s in store.sessions(email=OWNER) if s["mfa_pending"]]
    assert record["active"] is False and record["ended_reason"] == "too_many_attempts"
    assert record["mfa_failures"] == GUESSES
    ending = store.audit(event="second_factor_failed", reason="too_many_attempts")
    assert ending and all(e["actor"] == OWNER for e in ending)
    # The right code comes too late for this session.
    late = tab.twin().submit("/admin/mfa/totp", code=authenticator.next_code())
    assert late.status_code == 401  # signed out: the session is over
    assert opened_with(store, "totp") == 1  # the enrolment's only
