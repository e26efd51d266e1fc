"""Nobody changes an admin who holds more than they do.

Granting is checked (test_custom_roles.py: no role gives what the actor does
not hold); this is the other half. With custom roles an owner can hand
``admins.role`` or ``admins.factors.reset`` to a "team lead" who is not an
owner. Without this rule that lead could demote, disable or remove an
owner, reset an owner's second factors (so that whoever has the owner's
password enrols a new one), lift the lock on an owner's codes again and
again, approve a second factor planted on an owner's Firebase account, or
sign an owner out again and again.
Each is refused here, through the page, the API and the command line's
``--as``-free operator (who holds everything), with the refusal audited and
the owner's document unchanged; the same lead acting on a viewer succeeds,
so the permissions themselves work.
"""

from __future__ import annotations

import pytest

from adminapp.firebase.roles import ROLES_COLLECTION, ROLES_DOCUMENT
from adminapp.web.permissions import PERMISSIONS_KEY
from tests.support.web import ORIGIN, csrf_token, post_form

OWNER = "boss@example.com"
LEAD = "lead@example.com"
INTERN = "intern@example.com"
LEAD_PERMISSIONS = [
    "admins.read",
    "admins.role",
    "admins.disable",
    "admins.remove",
    "admins.factors.reset",
    "admins.factors.trust",
    "admins.unlock",
    "sessions.read_others",
    "sessions.end_others",
]
REFUSAL = (
    f"{OWNER} holds permissions you do not (%s): only an admin who holds all of them "
    "may change this account."
)


def api(client, method: str, path: str, body: dict | None = None):
    headers = {"Origin": ORIGIN, "X-CSRFToken": csrf_token(client)}
    return client.open(path, method=method, headers=headers, json=body or {})


@pytest.fixture
def lead(signed_in_as, store):
    signed_in_as(OWNER, "owner")
    store.client.collection(ROLES_COLLECTION).document(ROLES_DOCUMENT).set(
        {
            "roles": {
                "lead": {"description": "Runs the team", "permissions": LEAD_PERMISSIONS},
                "intern": {"description": "Looks on", "permissions": ["admins.read"]},
            }
        }
    )
    return signed_in_as(LEAD, "lead")


def _missing(app) -> str:
    registry = app.extensions[PERMISSIONS_KEY]
    held = set(LEAD_PERMISSIONS)
    return ", ".join(sorted(name for name in registry.of_role("owner") if name not in held))


def test_a_lead_changes_nothing_of_an_owner_through_the_api(app, lead, store, auth_emulator):
    auth_emulator.enrol_sms_factor(OWNER, "+15555550101")
    [enrolment] = auth_emulator.enrolment_ids(OWNER)
    before = store.admin(OWNER)
    expected = {"error": "acting_above", "message": REFUSAL % _missing(app)}
    for method, path, body in (
        ("PATCH", f"/admin/api/admins/{OWNER}", {"role": "lead"}),
        ("PATCH", f"/admin/api/admins/{OWNER}", {"disabled": True}),
        ("DELETE", f"/admin/api/admins/{OWNER}", None),
        ("POST", f"/admin/api/admins/{OWNER}/reset-factors", None),
        ("POST", f"/admin/api/admins/{OWNER}/unlock", None),
        ("PUT", f"/admin/api/admins/{OWNER}/firebase-factors/{enrolment}", None),
        ("DELETE", f"/admin/api/admins/{OWNER}/firebase-factors/{enrolment}", None),
    ):
        response = api(lead, method, path, body)
        assert response.status_code == 403, (method, path, response.get_data(as_text=True))
        assert response.get_json() == expected, (method, path)

    assert store.admin(OWNER) == before  # not a field written, the trust included
    # The refusals are in the trail, each under its event.
    refused = {
        e["event"]: e["reason"]
        for e in store.audit(outcome="refused")
        if e["actor"] == LEAD and e["target"] == OWNER
    }
    assert refused == {
        "admin_role_changed": "acting_above",
        "admin_disabled": "acting_above",
        "admin_removed": "acting_above",
        "second_factors_reset": "acting_above",
        "second_factor_unlocked": "acting_above",
        "firebase_factor_trusted": "acting_above",
        "firebase_factor_distrusted": "acting_above",
    }
    done_to_owner = [e for e in store.audit(actor=LEAD, target=OWNER) if e["outcome"] != "refused"]
    assert not done_to_owner


def test_a_lead_changes_nothing_of_an_owner_through_the_pages(app, lead, store):
    before = store.admin(OWNER)
    message = REFUSAL % _missing(app)
    for path, form in (
        (f"/admin/admins/{OWNER}/role", {"role": "lead"}),
        (f"/admin/admins/{OWNER}/disable", {}),
        (f"/admin/admins/{OWNER}/remove", {}),
        (f"/admin/admins/{OWNER}/reset-factors", {}),
        (f"/admin/admins/{OWNER}/unlock", {}),
    ):
        response = post_form(lead, path, form)
        assert response.status_code == 403, (path, response.status_code)
        assert message in response.get_data(as_text=True), path
    assert store.admin(OWNER) == before


def test_a_lead_ends_no_session_of_an_owner(app, lead, signed_in_as, store):
    [owner_session] = [s["id"] for s in store.sessions(email=OWNER)]
    expected = {"error": "acting_above", "message": REFUSAL % _missing(app)}

    response = api(lead, "DELETE", f"/admin/api/sessions/{owner_session}")
    assert (response.status_code, response.get_json()) == (403, expected)
    page = post_form(lead, f"/admin/sessions/{owner_session}/end", {})
    assert page.status_code == 403
    assert expected["message"] in page.get_data(as_text=True)

    assert [s["active"] for s in store.sessions(email=OWNER)] == [True]
    assert store.audit(event="session_ended", outcome="ok") == []
    refused = store.audit(event="session_ended", outcome="refused")
    assert [(e["actor"], e["target"], e["reason"]) for e in refused] == [
        (LEAD, OWNER, "acting_above")
    ] * 2
    # The page lists the owner's session but offers no button to end it.
    listed = lead.get(f"/admin/sessions?email={OWNER}").get_data(as_text=True)
    assert owner_session in listed
    assert f"/admin/sessions/{owner_session}/end" not in listed

    # The control: the intern's session, below the lead, is offered and ends.
    signed_in_as(INTERN, "intern")
    [intern_session] = [s["id"] for s in store.sessions(email=INTERN)]
    listed = lead.get(f"/admin/sessions?email={INTERN}").get_data(as_text=True)
    assert f"/admin/sessions/{intern_session}/end" in listed
    assert api(lead, "DELETE", f"/admin/api/sessions/{intern_session}").status_code == 200
    assert [s["active"] for s in store.sessions(email=INTERN)] == [False]


def test_a_disabled_owner_is_not_enabled_by_a_lead(app, lead, store):
    store.update_admin(OWNER, disabled=True)
    response = api(lead, "PATCH", f"/admin/api/admins/{OWNER}", {"disabled": False})
    assert response.status_code == 403
    assert response.get_json()["message"] == REFUSAL % _missing(app)
    assert store.admin(OWNER)["disabled"] is True


def test_the_same_lead_manages_an_intern(lead, store, auth_emulator):
    """The control: below the lead, every one of those changes goes through
    (an intern's role holds nothing the lead does not; a built-in viewer
    would hold users.read and audit.read, which this lead lacks)."""
    auth_emulator.create_user(INTERN)
    store.add_admin(INTERN, "intern")
    assert api(lead, "POST", f"/admin/api/admins/{INTERN}/unlock").status_code == 200
    assert api(lead, "POST", f"/admin/api/admins/{INTERN}/reset-factors").status_code == 200
    disabled = api(lead, "PATCH", f"/admin/api/admins/{INTERN}", {"disabled": True})
    assert disabled.status_code == 200, disabled.get_data(as_text=True)
    assert store.admin(INTERN)["disabled"] is True
    assert api(lead, "DELETE", f"/admin/api/admins/{INTERN}").status_code == 200
    assert store.admin(INTERN) is None


def test_a_lead_cannot_demote_another_lead_holding_more(app, signed_in_as, store):
    """ "Above" is a set of permissions, not a rank: two custom roles that each
    hold something the other does not cannot change each other."""
    signed_in_as(OWNER, "owner")
    store.client.collection(ROLES_COLLECTION).document(ROLES_DOCUMENT).set(
        {
            "roles": {
                "lead": {"description": "", "permissions": LEAD_PERMISSIONS},
                "auditor": {"description": "", "permissions": ["admins.read", "audit.read"]},
            }
        }
    )
    lead = signed_in_as(LEAD, "lead")
    signed_in_as("inspector@example.com", "auditor")
    response = api(lead, "PATCH", "/admin/api/admins/inspector@example.com", {"role": "lead"})
    assert response.status_code == 403
    assert response.get_json()["message"] == (
        "inspector@example.com holds permissions you do not (audit.read): only an admin who "
        "holds all of them may change this account."
    )
    assert store.admin("inspector@example.com")["role"] == "auditor"


def test_the_operator_at_the_command_line_holds_everything(app, lead, store):
    """The break-glass path stays open: the CLI acts with an owner's permissions."""
    store.add_admin("deputy@example.com", "owner")  # so that OWNER is not the last one
    cli = app.test_cli_runner()
    result = cli.invoke(args=["admins", "disable", OWNER])
    assert result.exit_code == 0, result.output
    assert store.admin(OWNER)["disabled"] is True
    assert cli.invoke(args=["admins", "enable", OWNER]).exit_code == 0
    assert store.admin(OWNER)["disabled"] is False
