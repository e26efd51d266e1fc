"""The second factor at gate 2: pending sessions, TOTP enrolment, the
challenge, recovery codes, lock-out (issue 13, slice 1)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp

from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.support.web import ORIGIN, csrf_token, exchange, session_cookie, sign_in

_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
_FIELD = re.compile(r'name="(csrf_token|enrolment)"[^>]*value="([^"]*)"')
_CODES = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")


def _fields(html: str) -> dict[str, str]:
    return dict(_FIELD.findall(html))


def pending(client, auth_emulator, email=OWNER):
    response = exchange(client, auth_emulator.sign_in(email), next_path="/admin/sessions")
    assert response.status_code == 200
    return response.get_json()["redirect"]


def enrol(client, auth_emulator, email=OWNER):
    """Sign in with the password and enrol a TOTP app; (secret, recovery
    codes, the confirming response)."""
    pending(client, auth_emulator, email)
    return confirm_enrolment(client)


def confirm_enrolment(client):
    page = client.get("/admin/mfa/enrol?next=/admin/sessions").get_data(as_text=True)
    secret = _SECRET.search(page).group(1).replace(" ", "")
    response = client.post(
        "/admin/mfa/enrol/totp?next=/admin/sessions",
        data={**_fields(page), "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return secret, _CODES.findall(response.get_data(as_text=True)), response


def post_code(client, code: str, kind: str = "totp"):
    field = "code" if kind == "totp" else "recovery_code"
    page = client.get("/admin/mfa").get_data(as_text=True)
    return client.post(
        f"/admin/mfa/{kind}?next=/admin/sessions",
        data={"csrf_token": _fields(page)["csrf_token"], field: code},
    )


def code_at(secret: str, steps_from_now: int) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(time.time()) + steps_from_now)


def test_a_pending_session_reaches_only_the_second_factor_pages(client, auth_emulator, owner):
    assert pending(client, auth_emulator) == "/admin/mfa?next=/admin/sessions"

    page = client.get("/admin/sessions")
    assert page.status_code == 302
    assert page.headers["Location"] == "/admin/mfa?next=/admin/sessions"
    api = client.get("/admin/api/me")
    assert api.status_code == 401
    assert api.get_json()["error"] == "second_factor_required"
    write = client.post(
        "/admin/api/admins",
        json={"email": "x@example.com", "role": "viewer"},
        headers={"X-CSRFToken": csrf_token(client), "Origin": ORIGIN},
    )
    assert write.status_code == 401
    # Without a factor the challenge sends the admin to enrolment.
    challenge = client.get("/admin/mfa?next=/admin/sessions")
    assert challenge.headers["Location"] == "/admin/mfa/enrol?next=/admin/sessions"


def test_a_pending_session_is_short_lived(client, auth_emulator, owner, store):
    pending(client, auth_emulator)

    [session] = store.sessions(email=OWNER)
    assert session["mfa_pending"] is True
    assert session["expires_at"] - session["created_at"] == timedelta(minutes=5)
    assert session["mfa_factor"] is None


def test_enrolment_opens_a_new_full_session_and_stores_the_secret_sealed(
    client, auth_emulator, owner, store
):
    pending(client, auth_emulator)
    pending_cookie = session_cookie(client).value

    secret, codes, _ = confirm_enrolment(client)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert session_cookie(client).value != pending_cookie
    spent, full = sorted(
        store.sessions(email=OWNER, spent_pending=True), key=lambda s: s["created_at"]
    )
    assert spent["ended_reason"] == "second_factor_passed" and spent["active"] is False
    assert full["id"] != spent["id"]
    assert full["mfa_pending"] is False and full["mfa_factor"] == "totp"
    assert full["expires_at"] - full["created_at"] == timedelta(hours=12)
    assert client.get("/admin/sessions").status_code == 200
    # The old (pending) cookie opens nothing any more.
    client.set_cookie("__Host-admin_session", pending_cookie)
    assert client.get("/admin/mfa").status_code == 302
    # Stored: the secret sealed, the recovery codes as hashes only.
    factors = {f["kind"]: f for f in store.factors(OWNER)}
    assert set(factors) == {"totp", "recovery_codes"}
    assert secret.encode() not in factors["totp"]["secret"]
    stored = repr(factors["recovery_codes"])
    assert not any(code.replace("-", "") in stored or code in stored for code in codes)
    assert store.admin(OWNER)["second_factors"] == 1
    events = [e["event"] for e in store.audit(actor=OWNER)]
    assert {"second_factor_added", "recovery_codes_generated", "second_factor_passed"} <= set(
        events
    )


def test_the_enrolment_page_is_csp_clean(client, auth_emulator, owner):
    pending(client, auth_emulator)
    response = client.get("/admin/mfa/enrol")
    html = response.get_data(as_text=True)

    assert 'src="data:image/svg+xml' in html  # the QR code, as an image
    assert "style=" not in html and "<style" not in html
    assert "<script>" not in html
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]


def test_a_wrong_enrolment_code_stores_nothing(client, auth_emulator, owner, store):
    pending(client, auth_emulator)
    page = client.get("/admin/mfa/enrol").get_data(as_text=True)
    secret = _SECRET.search(page).group(1).replace(" ", "")

    response = client.post(
        "/admin/mfa/enrol/totp", data={**_fields(page), "code": code_at(secret, 5)}
    )

    assert response.status_code == 400
    assert store.factors(OWNER) == []
    assert client.get("/admin/api/me").status_code == 401


def test_totp_signs_in_and_a_replayed_code_is_refused(app, auth_emulator, owner, store):
    secret, _, _ = enrol(app.test_client(), auth_emulator)
    client = app.test_client()
    pending(client, auth_emulator)
    code = code_at(secret, 1)  # the enrolment spent the current step

    response = post_code(client, code)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/sessions"
    assert client.get("/admin/api/me").get_json()["session"] is not None

    thief = app.test_client()
    pending(thief, auth_emulator)
    replayed = post_code(thief, code)
    assert replayed.status_code == 400
    assert "already used" in replayed.get_data(as_text=True)
    assert thief.get("/admin/api/me").status_code == 401


def test_five_wrong_codes_end_the_pending_session(client, auth_emulator, owner, store):
    secret, _, _ = enrol(client.application.test_client(), auth_emulator)
    pending(client, auth_emulator)
    wrong = code_at(secret, 10)

    for attempt in range(4):
        response = post_code(client, wrong)
        assert response.status_code == 400
        assert f"{4 - attempt} attempt" in response.get_data(as_text=True)
    locked = post_code(client, wrong)

    assert locked.status_code == 303
    assert locked.headers["Location"] == "/admin/login"
    pendings = [s for s in store.sessions(email=OWNER) if s["mfa_pending"]]
    assert [s["ended_reason"] for s in pendings] == ["too_many_attempts"]
    [entry] = store.audit(event="second_factor_failed")
    assert entry["reason"] == "too_many_attempts" and entry["actor"] == OWNER
    # The cookie was cleared; replayed, it opens nothing either.
    assert client.get("/admin/mfa").headers["Location"].startswith("/admin/login")
    assert client.get("/admin/api/me").status_code == 401


def test_a_recovery_code_signs_in_once(app, auth_emulator, owner, store):
    _, codes, _ = enrol(app.test_client(), auth_emulator)
    client = app.test_client()
    pending(client, auth_emulator)

    response = post_code(client, codes[0].lower().replace("-", " "), kind="recovery")

    assert response.status_code == 303
    full = [s for s in store.sessions(email=OWNER) if s["active"] and not s["mfa_pending"]]
    assert "recovery_codes" in {s["mfa_factor"] for s in full}
    again = app.test_client()
    pending(again, auth_emulator)
    reused = post_code(again, codes[0], kind="recovery")
    assert reused.status_code == 400
    assert again.get("/admin/api/me").status_code == 401
    page = again.get("/admin/mfa").get_data(as_text=True)
    assert "9 left" in page


def test_a_pending_session_cannot_enrol_over_an_existing_factor(app, auth_emulator, owner, store):
    enrol(app.test_client(), auth_emulator)
    attacker = app.test_client()  # knows the password only
    pending(attacker, auth_emulator)

    page = attacker.get("/admin/mfa/enrol")
    assert page.status_code == 302 and page.headers["Location"].startswith("/admin/mfa?")
    assert len(store.factors(OWNER)) == 2


def test_the_test_helper_signs_in_repeatedly_within_one_totp_step(app, auth_emulator, owner):
    AUTHENTICATORS.clear()
    for _ in range(5):
        client = app.test_client()
        sign_in(client, auth_emulator, OWNER)
        assert client.get("/admin/api/me").status_code == 200


def test_roles_outside_mfa_required_roles_sign_in_without_one(auth_emulator, store, clean):
    from adminapp import create_app
    from tests.support.settings import base_config

    app = create_app(base_config(MFA_REQUIRED_ROLES="owner"))
    try:
        auth_emulator.create_user("viewer@example.com")
        store.add_admin("viewer@example.com", "viewer")
        client = app.test_client()
        response = exchange(client, auth_emulator.sign_in("viewer@example.com"))
        assert response.get_json() == {"redirect": "/admin/"}
        assert client.get("/admin/api/me").status_code == 200
    finally:
        app.extensions["adminapp"].close()
