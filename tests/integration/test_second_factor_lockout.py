"""The per-admin bound on wrong second-factor codes (review finding Medium 2).

A pending session ends after 5 wrong proofs and the challenge shares the
per-IP sign-in limit, but someone who knows the password could open pending
session after pending session from many addresses: after 20 wrong codes
across 4 pending sessions the right code still signed in. Wrong codes are
now also counted per admin, across every session and address; at
MFA_ADMIN_MAX_FAILURES codes are refused, the right one too, audited, the
admin emailed, until the lock ends or an owner or the CLI lifts it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.support.reset import settle
from tests.support.settings import base_config
from tests.support.web import ORIGIN, exchange, post_form

STAFF = "staff@example.com"
LIMIT = 6


@pytest.fixture
def config(smtp):
    return base_config(
        MFA_ADMIN_MAX_FAILURES=str(LIMIT),
        # The per-IP limit is not what is tested here.
        SIGN_IN_RATE_LIMIT="500 per minute",
        **smtp.config(),
    )


@pytest.fixture
def staff(signed_in_as, store):
    """A staff admin with an authenticator app (enrolled at a first sign-in)."""
    AUTHENTICATORS.clear()
    signed_in_as(STAFF, "admin")
    return AUTHENTICATORS[ORIGIN, STAFF]


def pending(app, auth_emulator, address: str):
    """A new pending session of the staff admin, from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert exchange(client, auth_emulator.sign_in(STAFF)).status_code == 200
    return client


def try_code(client, code: str):
    return post_form(client, "/admin/mfa/totp?next=/admin/", {"code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_wrong_codes_across_sessions_and_addresses_lock_the_admins_codes(
    app, auth_emulator, staff, store, smtp
):
    # An owner who reads Korean: the tripped lock alerts them (services/alerts.py).
    store.add_admin("sajang@example.com", "owner", locale="ko")
    right = pyotp.TOTP(staff.secret).now()
    sessions = [pending(app, auth_emulator, f"198.51.100.{n}") for n in range(3)]
    for client in sessions:
        for _ in range(LIMIT // 3):
            assert try_code(client, wrong(right)).status_code == 400

    last = pending(app, auth_emulator, "203.0.113.9")
    response = try_code(last, staff.spare_code())

    assert response.status_code == 429
    assert "Too many wrong codes were entered for this account" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) == 15 * 60
    # No full session but the one the staff fixture opened at enrolment.
    assert len([s for s in store.sessions(email=STAFF, active=True) if not s["mfa_pending"]]) == 1
    [locked] = store.audit(event="second_factor_locked")
    assert locked["target"] == STAFF and locked["outcome"] == "refused"
    settle(app)
    [notice] = smtp.inbox.to(STAFF)
    assert notice["Subject"] == "Your admin second factor is locked after wrong codes"
    text = notice.get_body(("plain",)).get_content()
    assert f"{LIMIT} wrong second-factor codes" in text and "203.0.113" not in text
    [alert] = smtp.inbox.to("sajang@example.com")
    assert alert["Subject"] == "관리자 영역: 관리자의 2단계 인증이 잠겼습니다"
    assert f"{STAFF} 계정에 잘못된 2단계 인증 코드가" in alert.get_body(("plain",)).get_content()
    # The staff admin is no owner: their only email is their own notice.
    assert len(smtp.inbox.to(STAFF)) == 1


def test_a_recovery_code_is_refused_while_locked_too(app, auth_emulator, staff, store):
    lock(store, STAFF)
    client = pending(app, auth_emulator, "198.51.100.7")

    response = post_form(
        client, "/admin/mfa/recovery?next=/admin/", {"recovery_code": staff.recovery_codes[0]}
    )

    assert response.status_code == 429
    assert store.admin(STAFF)["second_factors"] == 1
    # The code was not spent: it still works once the lock is lifted.
    store.client.collection("admin_mfa_lockouts").document(STAFF).delete()
    again = post_form(
        client, "/admin/mfa/recovery?next=/admin/", {"recovery_code": staff.recovery_codes[0]}
    )
    assert again.status_code == 303


def test_an_owner_lifts_the_lock_from_the_admins_page(
    app, auth_emulator, signed_in_as, staff, store
):
    boss = signed_in_as(OWNER, "owner")
    lock(store, STAFF)
    page = boss.get("/admin/admins").get_data(as_text=True)
    assert f"/admin/admins/{STAFF}/unlock" in page and "Codes locked until" in page

    response = post_form(boss, f"/admin/admins/{STAFF}/unlock")

    assert response.status_code == 303
    [entry] = store.audit(event="second_factor_unlocked")
    assert entry["actor"] == OWNER and entry["target"] == STAFF and entry["reason"] == "was locked"
    client = pending(app, auth_emulator, "198.51.100.8")
    assert try_code(client, staff.spare_code()).status_code == 303


def test_the_cli_lifts_the_lock(app, auth_emulator, staff, store):
    lock(store, STAFF)
    cli = app.test_cli_runner()
    assert "Codes are locked until" in cli.invoke(args=["admins", "factors", STAFF]).output

    result = cli.invoke(args=["admins", "unlock", STAFF])

    assert result.exit_code == 0, result.output
    assert f"{STAFF}'s codes are unlocked." in result.output
    [entry] = store.audit(event="second_factor_unlocked")
    assert entry["actor"].startswith("cli")
    client = pending(app, auth_emulator, "198.51.100.9")
    assert try_code(client, staff.spare_code()).status_code == 303


def test_the_lock_ends_by_itself_and_a_new_window_starts(app, auth_emulator, staff, store):
    long_ago = datetime.now(UTC) - timedelta(minutes=16)
    store.client.collection("admin_mfa_lockouts").document(STAFF).set(
        {"failures": LIMIT, "window_started_at": long_ago, "locked_until": long_ago}
    )
    client = pending(app, auth_emulator, "198.51.100.10")

    assert try_code(client, wrong(pyotp.TOTP(staff.secret).now())).status_code == 400
    document = store.client.collection("admin_mfa_lockouts").document(STAFF).get().to_dict()
    assert document["failures"] == 1  # counted in a new window
    assert try_code(client, staff.spare_code()).status_code == 303


def test_a_wrong_code_while_enrolling_does_not_count_towards_the_lock(app, auth_emulator, store):
    """Enrolment codes are for a key the admin was just shown, not a guess
    at a secret they hold."""
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "admin")
    client = app.test_client()
    exchange(client, auth_emulator.sign_in(STAFF))
    page = client.get("/admin/mfa/enrol").get_data(as_text=True)
    sealed = re.search(r'name="enrolment"[^>]*value="([^"]+)"', page).group(1)

    refused = post_form(client, "/admin/mfa/enrol/totp", {"code": "000000", "enrolment": sealed})

    assert refused.status_code == 400 and "attempts left" in refused.get_data(as_text=True)
    assert not store.client.collection("admin_mfa_lockouts").document(STAFF).get().exists


def lock(store, email: str) -> None:
    store.client.collection("admin_mfa_lockouts").document(email).set(
        {
            "failures": 0,
            "window_started_at": datetime.now(UTC),
            "locked_until": datetime.now(UTC) + timedelta(minutes=15),
        }
    )
