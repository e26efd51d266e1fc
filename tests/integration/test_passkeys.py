"""Passkeys at the second gate over real HTTP (issue 13, slice 2).

A hand-made passkey (tests/support/passkeys.py: a real P-256 key, 'none'
attestation) is registered through the real endpoints; then answers that a
browser would never send are forged with requests against the challenge:
a wrong origin, a wrong RP ID, a replayed challenge, a counter going
backwards, another admin's credential, no user verification. Each is
refused and opens nothing.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import LiveBrowser, csrf_token, exchange
from tests.support.passkeys import FLAG_UP, SoftPasskey
from tests.support.settings import base_config

OTHER = "other@example.com"
_CODES = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")
NEXT = "?next=/admin/sessions"


@pytest.fixture
def config():
    # Each test here makes more second-factor requests than a person would.
    return base_config(SIGN_IN_RATE_LIMIT="200 per minute")


class Visit:
    """One browser's sign-in, spoken with requests."""

    def __init__(self, site: str, auth_emulator, email: str = OWNER):
        self.browser = LiveBrowser(site)
        self.email = email
        response = exchange(self.browser, auth_emulator.sign_in(email), next_path="/admin/sessions")
        assert response.status_code == 200, response.text
        self.csrf = csrf_token(self.browser)

    def options(self, kind: str) -> dict:
        response = self.browser.post(
            f"/admin/mfa/passkeys/{kind}-options",
            headers={
                "Accept": "application/json",
                "X-CSRFToken": self.csrf,
                "Origin": self.browser.origin,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()

    def submit(self, path: str, **fields: str):
        return self.browser.post(
            path + NEXT,
            headers={"Origin": self.browser.origin},
            data={"csrf_token": self.csrf, **fields},
        )

    def answer(self, answer: dict):
        return self.submit("/admin/mfa/passkey", credential=json.dumps(answer))

    def signed_in(self) -> bool:
        return self.browser.get("/admin/api/me").status_code == 200


def enrol(site, auth_emulator, email=OWNER) -> tuple[SoftPasskey, list[str], Visit]:
    visit = Visit(site, auth_emulator, email)
    options = visit.options("registration")
    passkey = SoftPasskey(origin=site)
    response = visit.submit(
        "/admin/mfa/enrol/passkey",
        credential=json.dumps(passkey.register(options)),
        name="  Soft   key ",
    )
    assert response.status_code == 200, response.text
    assert visit.signed_in()
    return passkey, _CODES.findall(response.text), visit


def full_sessions(store, email=OWNER) -> list[dict]:
    return [s for s in store.sessions(email=email) if s["active"] and not s["mfa_pending"]]


def passkey_document(store, email=OWNER) -> dict:
    [document] = [f for f in store.factors(email) if f["kind"] == "passkey"]
    return document


def test_enrolling_a_passkey_stores_it_and_shows_recovery_codes(site, auth_emulator, owner, store):
    passkey, codes, _ = enrol(site, auth_emulator)

    assert len(codes) == 10 and len(set(codes)) == 10
    stored = passkey_document(store)
    assert stored["credential_id"] == passkey.id
    assert stored["name"] == "Soft key"
    assert stored["sign_count"] == 0
    assert stored["transports"] == ["internal"]
    assert stored["aaguid"] == "00000000-0000-0000-0000-000000000000"
    assert stored["public_key"] and stored["created_at"] and stored["last_used_at"] is None
    assert store.admin(OWNER)["second_factors"] == 1
    assert {f["kind"] for f in store.factors(OWNER)} == {"passkey", "recovery_codes"}
    [session] = full_sessions(store)
    assert session["mfa_factor"] == "passkey" and session["mfa_challenge"] is None
    added = store.audit(event="second_factor_added")
    assert [(e["actor"], e["reason"]) for e in added] == [(OWNER, "passkey")]


def test_a_passkey_signs_in_and_its_counter_is_kept(site, auth_emulator, owner, store):
    passkey, _, _ = enrol(site, auth_emulator)
    visit = Visit(site, auth_emulator)
    options = visit.options("authentication")
    assert [c["id"] for c in options["allowCredentials"]] == [passkey.id]
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"

    response = visit.answer(passkey.assert_(options))

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/sessions"
    assert visit.signed_in()
    stored = passkey_document(store)
    assert stored["sign_count"] == 1 and stored["last_used_at"] is not None
    assert [s["mfa_factor"] for s in full_sessions(store)] == ["passkey", "passkey"]
    passed = [e["reason"] for e in store.audit(event="second_factor_passed")]
    assert passed == ["passkey", "passkey"]


def refused(visit: Visit, response, store, sessions_before: int) -> None:
    """The answer was refused and opened nothing."""
    assert response.status_code == 400, response.text
    assert "passkey was not accepted" in response.text or "passkey request" in response.text
    assert not visit.signed_in()
    assert len(full_sessions(store, visit.email)) == sessions_before


@pytest.mark.parametrize(
    "forgery",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://localhost:1"},
        {"rp_id": "evil.example"},
        {"rp_id": "127.0.0.1"},
        {"flags": FLAG_UP},  # present, but not verified
        {"challenge": "AAAA"},
    ],
    ids=["foreign-origin", "other-port", "foreign-rp-id", "ip-rp-id", "no-uv", "wrong-challenge"],
)
def test_forged_assertions_are_refused(site, auth_emulator, owner, store, forgery):
    passkey, _, _ = enrol(site, auth_emulator)
    visit = Visit(site, auth_emulator)

    response = visit.answer(passkey.assert_(visit.options("authentication"), **forgery))

    refused(visit, response, store, 1)
    assert passkey_document(store)["sign_count"] == 0
    failed = [e for e in store.audit(event="second_factor_passed")]
    assert len(failed) == 1  # the enrolment's only
    [record] = [s for s in store.sessions(email=OWNER) if s["mfa_pending"] and s["active"]]
    assert record["mfa_failures"] == 1 and record["mfa_challenge"] is None


def test_a_challenge_is_answered_once(site, auth_emulator, owner, store):
    passkey, _, _ = enrol(site, auth_emulator)
    visit = Visit(site, auth_emulator)
    options = visit.options("authentication")
    # A first answer spends the challenge, whatever it is worth...
    visit.answer(passkey.assert_(options, origin="https://evil.example"))
    # ...so a good answer to the same challenge comes too late.
    late = visit.answer(passkey.assert_(options))

    refused(visit, late, store, 1)
    assert "No passkey request is waiting" in late.text


def test_a_used_assertion_does_not_open_another_session(site, auth_emulator, owner, store):
    passkey, _, _ = enrol(site, auth_emulator)
    visit = Visit(site, auth_emulator)
    answer = passkey.assert_(visit.options("authentication"))
    assert visit.answer(answer).status_code == 303

    thief = Visit(site, auth_emulator)  # knows the password, replays the answer
    thief.options("authentication")
    replayed = thief.answer(answer)

    refused(thief, replayed, store, 2)


def test_a_challenge_older_than_five_minutes_is_refused(site, auth_emulator, owner, store):
    passkey, _, _ = enrol(site, auth_emulator)
    visit = Visit(site, auth_emulator)
    options = visit.options("authentication")
    [record] = [s for s in store.sessions(email=OWNER) if s["mfa_pending"] and s["active"]]
    issued = record["mfa_challenge_at"]
    store.update_session(record["id"], mfa_challenge_at=issued - timedelta(minutes=6))

    response = visit.answer(passkey.assert_(options))

    refused(visit, response, store, 1)
    assert "expired" in response.text


def test_a_counter_going_backwards_is_refused_and_audited(site, auth_emulator, owner, store):
    passkey, _, _ = enrol(site, auth_emulator)
    first = Visit(site, auth_emulator)
    assert (
        first.answer(passkey.assert_(first.options("authentication"), sign_count=7)).status_code
        == 303
    )

    clone = Visit(site, auth_emulator)
    response = clone.answer(passkey.assert_(clone.options("authentication"), sign_count=3))

    refused(clone, response, store, 2)
    assert passkey_document(store)["sign_count"] == 7
    [alarm] = store.audit(event="passkey_clone_suspected")
    assert alarm["actor"] == OWNER and alarm["outcome"] == "refused"
    assert alarm["target"] == passkey_document(store)["id"]
    assert alarm["reason"] == "sign count 3 after 7"
    # The same count again is no better than a lower one.
    again = Visit(site, auth_emulator)
    response = again.answer(passkey.assert_(again.options("authentication"), sign_count=7))
    refused(again, response, store, 2)


def test_another_admins_passkey_proves_nothing(site, auth_emulator, owner, store):
    owners_passkey, _, _ = enrol(site, auth_emulator)
    auth_emulator.create_user(OTHER)
    store.add_admin(OTHER, "viewer")
    others_passkey, _, _ = enrol(site, auth_emulator, OTHER)

    visit = Visit(site, auth_emulator, OTHER)
    options = visit.options("authentication")
    assert [c["id"] for c in options["allowCredentials"]] == [others_passkey.id]
    # The owner's passkey, validly signed, answering the other admin's challenge.
    response = visit.answer(owners_passkey.assert_(options))

    refused(visit, response, store, 1)
    assert passkey_document(store)["sign_count"] == 0


def test_a_pending_session_cannot_register_over_an_existing_factor(
    site, auth_emulator, owner, store
):
    enrol(site, auth_emulator)
    attacker = Visit(site, auth_emulator)  # knows the password only

    response = attacker.browser.post(
        "/admin/mfa/passkeys/registration-options",
        headers={"Accept": "application/json", "X-CSRFToken": attacker.csrf},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "factor_exists"
    assert len(store.factors(OWNER)) == 2
    added = attacker.submit(
        "/admin/mfa/enrol/passkey",
        credential=json.dumps(
            SoftPasskey(origin=site).register({"rp": {"id": "localhost"}, "challenge": "AAAA"})
        ),
    )
    assert added.status_code == 303
    assert len(store.factors(OWNER)) == 2 and not attacker.signed_in()


def test_a_full_session_adds_a_second_passkey_that_signs_in(site, auth_emulator, owner, store):
    first, codes, visit = enrol(site, auth_emulator)
    # A pending session (the password only) cannot reach the page.
    pending = Visit(site, auth_emulator)
    assert (
        pending.browser.get("/admin/mfa/passkeys/new").headers["Location"].startswith("/admin/mfa?")
    )
    page = visit.browser.get("/admin/mfa/passkeys/new")
    assert page.status_code == 200 and 'id="passkey-registration-form"' in page.text
    options = visit.options("registration")
    assert [c["id"] for c in options["excludeCredentials"]] == [first.id]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    second = SoftPasskey(origin=site)

    response = visit.submit(
        "/admin/mfa/passkeys/new", credential=json.dumps(second.register(options)), name="Backup"
    )

    assert response.status_code == 303 and response.headers["Location"] == "/admin/sessions"
    passkeys = [f for f in store.factors(OWNER) if f["kind"] == "passkey"]
    assert sorted(p["name"] for p in passkeys) == ["Backup", "Soft key"]
    assert store.admin(OWNER)["second_factors"] == 2
    # The recovery codes made at enrolment stay the ones the admin saved.
    [recovery] = [f for f in store.factors(OWNER) if f["kind"] == "recovery_codes"]
    assert len(recovery["codes"]) == len(codes)
    later = Visit(site, auth_emulator)
    options = later.options("authentication")
    assert {c["id"] for c in options["allowCredentials"]} == {first.id, second.id}
    assert later.answer(second.assert_(options)).status_code == 303
    assert later.signed_in()
    # The same passkey twice is refused.
    again = visit.submit(
        "/admin/mfa/passkeys/new",
        credential=json.dumps(second.register(visit.options("registration"))),
    )
    assert again.status_code == 303 and again.headers["Location"].startswith(
        "/admin/mfa/passkeys/new"
    )
    assert store.admin(OWNER)["second_factors"] == 2


def _stale(store, email=OWNER, minutes=11) -> None:
    """Move the full session's last proof back past STEP_UP_MINUTES (10)."""
    from datetime import UTC, datetime

    long_ago = datetime.now(UTC) - timedelta(minutes=minutes)
    for session in full_sessions(store, email):
        store.update_session(session["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago)


def test_a_stale_session_cannot_add_a_passkey_to_step_up_with(site, auth_emulator, owner, store):
    """Review finding High 1: a full session whose last proof is old (an
    unattended tab, a stolen cookie) asked for registration options and
    added its own passkey without a step-up, then stepped up with it."""
    first, _, visit = enrol(site, auth_emulator)
    options = visit.options("registration")  # asked while the proof was fresh
    _stale(store)
    planted = SoftPasskey(origin=site)

    asked = visit.browser.post(
        "/admin/mfa/passkeys/registration-options",
        headers={"Accept": "application/json", "X-CSRFToken": visit.csrf, "Origin": site},
    )
    page = visit.browser.get("/admin/mfa/passkeys/new")
    added = visit.submit(
        "/admin/mfa/passkeys/new", credential=json.dumps(planted.register(options))
    )

    assert asked.status_code == 401 and asked.json()["error"] == "step_up_required"
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/admin/mfa/step-up?next=/admin/mfa/passkeys/new")
    assert added.status_code == 401 and "Confirm it is you" in added.text
    assert [p["credential_id"] for p in store.factors(OWNER) if p["kind"] == "passkey"] == [
        first.id
    ]
    assert store.admin(OWNER)["second_factors"] == 1
    assert store.audit(event="step_up") == []
    # A fresh proof with the admin's own passkey, and then it may add one.
    proved = visit.answer(first.assert_(visit.options("authentication")))
    assert proved.status_code == 303
    again = visit.submit(
        "/admin/mfa/passkeys/new",
        credential=json.dumps(planted.register(visit.options("registration"))),
    )
    assert again.status_code == 303
    assert store.admin(OWNER)["second_factors"] == 2


def test_a_passkey_still_signs_in_while_codes_are_locked(site, auth_emulator, owner, store):
    """The per-admin lock refuses codes (guessable); a passkey cannot be
    guessed, so an admin with one is never locked out by someone who knows
    the password."""
    from datetime import UTC, datetime

    passkey, _, _ = enrol(site, auth_emulator)
    store.client.collection("admin_mfa_lockouts").document(OWNER).set(
        {"failures": 0, "locked_until": datetime.now(UTC) + timedelta(minutes=15)}
    )
    visit = Visit(site, auth_emulator)

    response = visit.answer(passkey.assert_(visit.options("authentication")))

    assert response.status_code == 303
    assert visit.signed_in()
