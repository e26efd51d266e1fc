"""The second factor's rules, run by the real services and stores on an
in-memory Firestore (fast: no emulator). The flows over HTTP are in
tests/integration/; these pin the rules themselves: TOTP windows and replay,
recovery codes spent once, wrong proofs counted per session and per admin."""

from __future__ import annotations

import pyotp
import pytest

from adminapp.client import Client
from adminapp.services.mfa.refusals import (
    CodeAlreadyUsed,
    SecondFactorLocked,
    TooManyAttempts,
    WrongCode,
)
from adminapp.services.mfa.steps import MAX_FAILURES

EMAIL = "staff@example.com"
HERE = Client(ip="198.51.100.1", user_agent="tests")


def pending_session(services, clock):
    batch = services.audit.batch()
    _, session = services.sessions.stage_open(
        batch,
        uid="uid-staff",
        email=EMAIL,
        auth_time=clock(),
        client=HERE,
        now=clock(),
        pending=True,
    )
    services.backend.commit(batch, "open a pending session")
    return session


@pytest.fixture
def enrolled(memory_services, clock):
    """An admin who enrolled TOTP at a first sign-in: (services, secret, codes)."""
    services = memory_services
    services.directory.add(EMAIL, "admin")
    session = pending_session(services, clock)
    enrolment = services.totp.new_enrolment(session)
    admin = services.directory.get(EMAIL)
    code = pyotp.TOTP(enrolment.secret).at(clock())
    done = services.totp.enrol_first(session, admin, enrolment.sealed, code, HERE)
    return services, enrolment.secret, done.recovery_codes


def prove(services, clock, code: str):
    session = pending_session(services, clock)
    return services.totp.verify(session, services.directory.get(EMAIL), code, HERE)


def test_a_code_of_the_step_before_or_after_is_accepted_but_not_two_away(enrolled, clock):
    services, secret, _ = enrolled
    totp = pyotp.TOTP(secret)
    clock.advance(minutes=5)
    assert prove(services, clock, totp.at(clock(), counter_offset=-1)).claims is not None
    clock.advance(minutes=5)
    assert prove(services, clock, totp.at(clock(), counter_offset=1)).claims is not None
    clock.advance(minutes=5)
    with pytest.raises(WrongCode):
        prove(services, clock, totp.at(clock(), counter_offset=2))


def test_a_step_is_never_accepted_twice_nor_an_earlier_one(enrolled, clock):
    services, secret, _ = enrolled
    totp = pyotp.TOTP(secret)
    clock.advance(minutes=5)
    prove(services, clock, totp.at(clock(), counter_offset=1))
    with pytest.raises(CodeAlreadyUsed):
        prove(services, clock, totp.at(clock(), counter_offset=1))
    with pytest.raises(CodeAlreadyUsed):
        prove(services, clock, totp.at(clock()))  # an earlier step than the one spent


def test_a_recovery_code_opens_once(enrolled, clock):
    services, _, codes = enrolled
    session = pending_session(services, clock)
    admin = services.directory.get(EMAIL)
    assert services.recovery_codes.verify(session, admin, codes[0].lower(), HERE).claims
    again = pending_session(services, clock)
    with pytest.raises(WrongCode):
        services.recovery_codes.verify(again, admin, codes[0], HERE)


def test_wrong_proofs_end_the_pending_session_at_the_fifth(enrolled, clock):
    services, secret, _ = enrolled
    session = pending_session(services, clock)
    admin = services.directory.get(EMAIL)
    wrong = f"{(int(pyotp.TOTP(secret).at(clock())) + 1) % 10**6:06d}"
    for left in range(MAX_FAILURES - 1, 0, -1):
        with pytest.raises(WrongCode) as refused:
            services.totp.verify(session, admin, wrong, HERE)
        assert refused.value.params.get("left", 1) == left
    with pytest.raises(TooManyAttempts):
        services.totp.verify(session, admin, wrong, HERE)
    assert services.sessions.get(session.key).ended_reason == "too_many_attempts"


def test_wrong_codes_across_sessions_lock_the_admin_and_the_window_ends(enrolled, clock):
    services, secret, _ = enrolled  # MFA_ADMIN_MAX_FAILURES=6 in the fixture
    admin = services.directory.get(EMAIL)
    wrong = f"{(int(pyotp.TOTP(secret).at(clock())) + 1) % 10**6:06d}"
    for _ in range(3):
        session = pending_session(services, clock)
        for _ in range(2):
            with pytest.raises(WrongCode):
                services.totp.verify(session, admin, wrong, HERE)
    right = pyotp.TOTP(secret).at(clock(), counter_offset=1)
    with pytest.raises(SecondFactorLocked):
        prove(services, clock, right)
    [locked] = services.audit.page(event="second_factor_locked").entries
    assert locked.target == EMAIL
    clock.advance(minutes=16)  # MFA_ADMIN_LOCK_MINUTES is 15
    assert prove(services, clock, pyotp.TOTP(secret).at(clock())).claims is not None


def test_an_owner_lifting_the_lock_lets_the_right_code_in(enrolled, clock):
    services, secret, _ = enrolled
    for _ in range(6):  # MFA_ADMIN_MAX_FAILURES in the fixture
        services.lockout.count_failure(EMAIL, "totp", HERE)
    assert services.lockout.status(EMAIL).locked(clock())
    assert services.lockout.unlock(EMAIL, actor="owner@example.com", client=HERE) is True
    assert prove(services, clock, pyotp.TOTP(secret).at(clock(), counter_offset=1)).claims


def test_a_wrong_code_whose_admin_count_lost_to_contention_still_counts_for_its_session(
    enrolled, clock, monkeypatch
):
    """Many wrong codes for one admin at once contend for the admin's count
    (a transaction on one document); one that loses every attempt is still
    refused as a wrong code, and still counts towards its session's bound,
    not a 503 or a 500 that would leave it counted nowhere."""
    from adminapp.errors import Contended

    services, secret, _ = enrolled
    session = pending_session(services, clock)
    admin = services.directory.get(EMAIL)
    wrong = f"{(int(pyotp.TOTP(secret).at(clock())) + 1) % 10**6:06d}"

    def contended(*args, **kwargs):
        raise Contended("count a wrong second-factor code")

    monkeypatch.setattr(services.lockout.store, "count_failure", contended)
    with pytest.raises(WrongCode) as refused:
        services.totp.verify(session, admin, wrong, HERE)
    assert refused.value.params == {"left": MAX_FAILURES - 1}
    assert services.sessions.get(session.key).mfa_failures == 1
