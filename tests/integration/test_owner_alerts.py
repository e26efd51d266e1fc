"""Alerts to the owners (issue 22 item 6; PIPA art. 8): every enabled owner
is emailed, in their own language, through a real SMTP server, when an owner
is added or a role raised, factors are reset, the chain check fails or an
admin looks at more people than ACCESS_ALERT_SUBJECTS_PER_HOUR in an hour
(the tripped lock: tests/integration/test_second_factor_lockout.py). Other
admins and disabled owners are not; a lowered role is not news; a failed
send fails nothing.

docs/pipa.md names these tests.
"""

from __future__ import annotations

import json
import logging

import pytest

from adminapp.firebase.audit import AUDIT
from tests.support.reset import settle
from tests.support.settings import base_config
from tests.support.web import post_form

OWNER = "boss@example.com"  # signed in; reads English (the default)
KO_OWNER = "sajang@example.com"  # reads Korean
STAFF = "staff@example.com"  # an admin, not an owner
RETIRED = "retired@example.com"  # a disabled owner
THRESHOLD = 5


@pytest.fixture
def config(smtp):
    return base_config(ACCESS_ALERT_SUBJECTS_PER_HOUR=str(THRESHOLD), **smtp.config())


@pytest.fixture
def boss(signed_in_as, store):
    """The signed-in owner, with a Korean-reading owner, a staff admin and
    a disabled owner beside them."""
    client = signed_in_as(OWNER, "owner")
    store.add_admin(KO_OWNER, "owner", locale="ko")
    store.add_admin(STAFF, "admin")
    store.add_admin(RETIRED, "owner", disabled=True)
    return client


def alerts(smtp, address: str) -> list:
    """The owners' alerts (not invitations or notices) sent to ``address``."""
    return [
        message
        for message in smtp.inbox.to(address)
        if message["Subject"].startswith(("Admin area:", "관리자 영역:"))
    ]


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def alert_lines(caplog) -> list[dict]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "adminapp.security" and '"event": "owner_alert"' in record.getMessage()
    ]


def nobody_else_alerted(smtp) -> None:
    assert alerts(smtp, STAFF) == []
    assert alerts(smtp, RETIRED) == []


def test_a_new_owner_alerts_every_enabled_owner_in_their_language(boss, smtp, app, store, caplog):
    caplog.set_level(logging.INFO, logger="adminapp.security")

    response = post_form(boss, "/admin/admins", {"email": "new@example.com", "role": "owner"})

    assert response.status_code == 303
    settle(app)
    [english] = alerts(smtp, OWNER)
    assert english["Subject"] == "Admin area: a new owner"
    assert f"{OWNER} made new@example.com an owner of the admin area." in text(english)
    [korean] = alerts(smtp, KO_OWNER)
    assert korean["Subject"] == "관리자 영역: 새 소유자"
    assert f"{OWNER} 님이 new@example.com 님을 관리자 영역의 소유자로 지정했습니다." in text(korean)
    assert "일시:" in text(korean) and "When:" not in text(korean)
    nobody_else_alerted(smtp)
    # Whoever is an enabled owner when the alert goes out is told: the new
    # owner too, who learns of it from their own mailbox.
    assert len(alerts(smtp, "new@example.com")) == 1
    assert sorted((line["to"], line["outcome"]) for line in alert_lines(caplog)) == [
        (OWNER, "ok"),
        ("new@example.com", "ok"),
        (KO_OWNER, "ok"),
    ]
    [entry] = store.audit(event="admin_invited")
    assert (entry["role"], entry.get("previous_role")) == ("owner", None)


def test_inviting_someone_below_owner_alerts_nobody(boss, smtp, app):
    response = post_form(boss, "/admin/admins", {"email": "new@example.com", "role": "admin"})

    assert response.status_code == 303
    settle(app)
    assert alerts(smtp, OWNER) == [] and alerts(smtp, KO_OWNER) == []


def test_a_raised_role_alerts_the_owners_and_a_lowered_one_does_not(boss, smtp, app, store):
    store.add_admin("watcher@example.com", "viewer")

    raised = post_form(boss, "/admin/admins/watcher@example.com/role", {"role": "admin"})
    settle(app)
    lowered = post_form(boss, "/admin/admins/watcher@example.com/role", {"role": "viewer"})
    settle(app)

    assert (raised.status_code, lowered.status_code) == (303, 303)
    [english] = alerts(smtp, OWNER)
    assert english["Subject"] == "Admin area: an admin's role was raised"
    assert f"{OWNER} raised the role of watcher@example.com from viewer to admin." in text(english)
    [korean] = alerts(smtp, KO_OWNER)
    assert korean["Subject"] == "관리자 영역: 관리자의 역할이 높아졌습니다"
    nobody_else_alerted(smtp)
    changes = sorted(store.audit(event="admin_role_changed"), key=lambda entry: entry["seq"])
    assert [(e["previous_role"], e["role"]) for e in changes] == [
        ("viewer", "admin"),
        ("admin", "viewer"),
    ]


def test_a_factor_reset_alerts_the_owners(boss, signed_in_as, smtp, app):
    signed_in_as("enrolled@example.com", "admin")  # signing in enrols a TOTP app

    response = post_form(boss, "/admin/admins/enrolled@example.com/reset-factors")

    assert response.status_code == 303
    settle(app)
    [english] = alerts(smtp, OWNER)
    assert english["Subject"] == "Admin area: an admin's second factors were reset"
    assert f"{OWNER} reset every second factor of enrolled@example.com." in text(english)
    [korean] = alerts(smtp, KO_OWNER)
    assert "2단계 인증 수단을 초기화했습니다" in text(korean)
    nobody_else_alerted(smtp)


def test_a_broken_chain_alerts_the_owners_once_a_day(boss, smtp, app, store):
    with app.app_context():
        from adminapp.web.context import services

        for _ in range(3):
            services().audit.record("step_up", actor=OWNER, target=OWNER)
    middle = sorted(store.audit(event="step_up"), key=lambda entry: entry["n"])[1]
    store.client.collection(AUDIT).document(middle["seq"]).update({"reason": "edited"})
    cli = app.test_cli_runner()

    first = cli.invoke(args=["audit", "verify"])
    again = boss.get("/admin/audit/verify")
    settle(app)

    assert first.exit_code == 1 and again.status_code == 409
    [english] = alerts(smtp, OWNER)
    assert english["Subject"] == "Admin area: the audit trail failed its check"
    assert f"(edited, {middle['chain']} #{middle['n']})" in text(english)
    [korean] = alerts(smtp, KO_OWNER)
    assert korean["Subject"] == "관리자 영역: 감사 기록이 검증을 통과하지 못했습니다"
    nobody_else_alerted(smtp)


def test_the_bulk_access_alert_fires_once_past_the_threshold_and_not_below(
    boss, signed_in_as, auth_emulator, smtp, app
):
    viewer = signed_in_as("watcher@example.com", "viewer")
    people = [auth_emulator.create_user(f"person{n}@example.com") for n in range(THRESHOLD + 3)]

    for person in people[:THRESHOLD]:
        assert viewer.get(f"/admin/users/{person.uid}").status_code == 200
    settle(app)
    assert alerts(smtp, OWNER) == []  # THRESHOLD people: not more than it

    for person in people[THRESHOLD:]:
        assert viewer.get(f"/admin/users/{person.uid}").status_code == 200
    settle(app)

    [english] = alerts(smtp, OWNER)  # once, for the next three
    assert english["Subject"] == "Admin area: an admin looked at many people's data"
    assert (
        f"watcher@example.com looked at the personal data of more than {THRESHOLD} people "
        "within an hour." in text(english)
    )
    [korean] = alerts(smtp, KO_OWNER)
    assert f"{THRESHOLD}명이 넘는 사람의 개인정보를 조회했습니다" in text(korean)
    nobody_else_alerted(smtp)


def test_a_failed_send_fails_nothing_and_is_logged_without_secrets(boss, smtp, app, store, caplog):
    caplog.set_level(logging.INFO, logger="adminapp.security")
    smtp.inbox.refuse = True

    response = post_form(boss, "/admin/admins", {"email": "new@example.com", "role": "owner"})

    assert response.status_code == 303
    assert store.admin("new@example.com")["role"] == "owner"
    settle(app)
    failed = [line for line in alert_lines(caplog) if line["outcome"] == "error"]
    assert {line["to"] for line in failed} >= {OWNER, KO_OWNER}
    assert {line["error"] for line in failed} == {"SMTPDataError"}
    # The line names the alert, the owner and the error's type: not the
    # server's reply, not the email's content.
    assert all(set(line) == {"event", "alert", "to", "outcome", "error"} for line in failed)
