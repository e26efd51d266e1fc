"""adminapp.testing's opened sessions (``adminapp/testing/opened_sessions.py``)
leave what a sign-in over HTTP leaves, so that the tests that open one test
the app that a signed-in admin meets."""

from __future__ import annotations

import pytest

from adminapp.firebase.identity import SignInRefused
from tests.support.web import open_session, sign_in

JSON = {"Accept": "application/json"}
SIGNED_IN = "signed.in@example.com"
OPENED = "opened@example.com"


def records_of(store, email: str, uid: str) -> dict:
    """What a sign-in with a first TOTP enrolment leaves for ``email``, with
    the values that differ from one admin to the next left out."""
    admin = store.admin(email)
    return {
        "admin": (admin["role"], admin.get("second_factors"), admin.get("uid") == uid),
        "factors": sorted(
            (factor["kind"], len(factor.get("codes") or ())) for factor in store.factors(email)
        ),
        "sessions": sorted(
            (record["mfa_pending"], record.get("mfa_factor"), record.get("ended_reason") or "")
            for record in store.sessions(spent_pending=True, email=email)
        ),
        "audit": sorted(
            (entry["event"], entry.get("reason") or "", entry.get("outcome") or "")
            for entry in store.audit(actor=email)
        ),
    }


@pytest.fixture
def two_admins(auth_emulator, store):
    users = {email: auth_emulator.create_user(email) for email in (SIGNED_IN, OPENED)}
    for email in users:
        store.add_admin(email, "admin")
    return users


def test_an_opened_session_leaves_what_a_sign_in_leaves(app, auth_emulator, store, two_admins):
    signed_in = app.test_client()
    sign_in(signed_in, auth_emulator, SIGNED_IN)
    opened = app.test_client()
    open_session(opened, OPENED, two_admins[OPENED].uid)

    expected = records_of(store, SIGNED_IN, two_admins[SIGNED_IN].uid)
    assert expected["factors"] and expected["audit"]  # the comparison compares something
    assert records_of(store, OPENED, two_admins[OPENED].uid) == expected
    for client in (signed_in, opened):
        assert client.get("/admin/api/me", headers=JSON).status_code == 200


def test_the_next_sign_in_answers_the_challenge_of_the_factor_it_enrolled(
    app, auth_emulator, store, two_admins
):
    """An opened session's authenticator is the one a later sign-in uses,
    over HTTP or opened again."""
    open_session(app.test_client(), OPENED, two_admins[OPENED].uid)
    again = app.test_client()
    open_session(again, OPENED, two_admins[OPENED].uid)
    over_http = app.test_client()
    sign_in(over_http, auth_emulator, OPENED)

    for client in (again, over_http):
        assert client.get("/admin/api/me", headers=JSON).status_code == 200
    # One enrolment (the app and its recovery codes), then two proofs of it:
    # a TOTP code, or one of its recovery codes once a burst of sign-ins has
    # spent the steps the app accepts (adminapp/testing/sign_in.py).
    assert sorted(factor["kind"] for factor in store.factors(OPENED)) == ["recovery_codes", "totp"]
    assert [e["reason"] for e in store.audit(event="second_factor_added", actor=OPENED)] == ["totp"]
    proofs = [e["reason"] for e in store.audit(event="second_factor_passed", actor=OPENED)]
    assert len(proofs) == 3 and set(proofs) <= {"totp", "recovery_codes"}


def test_a_disabled_admin_gets_no_opened_session(app, store, two_admins):
    """The sign-in's admission rules apply: it is the exchange's service."""
    store.update_admin(OPENED, disabled=True)
    with pytest.raises(SignInRefused, match="disabled"):
        open_session(app.test_client(), OPENED, two_admins[OPENED].uid)
    assert store.sessions(email=OPENED) == []
