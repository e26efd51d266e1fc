"""Access records (PIPA art. 2 and 8): every look at an end user's personal
data leaves an entry naming the admin, the data subjects and the task, at one
Firestore write and no read; refused requests leave none.

docs/pipa.md names these tests.
"""

from __future__ import annotations

import logging
import re

import pytest
from google.api_core.exceptions import ServiceUnavailable
from google.cloud.firestore import WriteBatch

from adminapp.domain.permissions import Permission
from adminapp.firebase.audit import AuditedBatch
from adminapp.web.access_records import DataSubject, record_access
from adminapp.web.guard import permission_required
from adminapp.web.products import AdminBlueprint
from tests.support.settings import base_config
from tests.support.web import ORIGIN, SESSION_COOKIE, csrf_token

VIEWER = "watcher@example.com"
CUSTOMER = "customer@example.com"
_TRIPS = re.compile(r'firestore;desc="round trips";dur=(\d+)')

# A product page that shows a customer's data, recording it with the one call.
ORDERS_READ = Permission("orders.read", "See the product's orders", "viewer")
product_bp = AdminBlueprint("access_product", __name__, prefix="orders", permissions=(ORDERS_READ,))


@product_bp.get("/<uid>")
@permission_required(ORDERS_READ)
def order(uid: str):
    record_access("view", [DataSubject(uid, f"{uid}@example.com"), "second-uid"])
    return "an order"


@pytest.fixture
def config() -> dict[str, str]:
    return base_config(
        SERVER_TIMING="true",
        USERS_PAGE_SIZE="3",
        ADMINAPP_BLUEPRINTS="tests.integration.test_access_records:product_bp",
    )


@pytest.fixture
def customer(auth_emulator):
    return auth_emulator.create_user(CUSTOMER)


@pytest.fixture
def viewer(signed_in_as):
    return signed_in_as(VIEWER, "viewer")


def looks(store) -> list[dict]:
    return sorted(store.audit(event="personal_data_accessed"), key=lambda entry: entry["seq"])


def firestore_trips(response) -> int:
    return int(_TRIPS.search(response.headers["Server-Timing"]).group(1))


def test_opening_a_users_page_records_a_view_of_them(viewer, customer, store):
    response = viewer.get(f"/admin/users/{customer.uid}")

    assert response.status_code == 200
    [look] = looks(store)
    assert look["task"] == "view"
    assert look["actor"] == VIEWER
    assert (look["target"], look["target_uid"]) == (CUSTOMER, customer.uid)
    assert look["subject_uids"] == [customer.uid]
    assert set(look["subjects"]) == {CUSTOMER, customer.uid}
    assert look["ip"] == "127.0.0.1" and look["outcome"] == "ok"
    assert re.fullmatch(r"[0-9a-f]{32}", look["request_id"])
    # The guard's read, the admin document of the same address, and one write.
    assert firestore_trips(response) == 3


def test_the_api_read_of_a_user_records_a_view(viewer, customer, store):
    assert viewer.get(f"/admin/api/users/{customer.uid}").status_code == 200

    [look] = looks(store)
    assert (look["task"], look["subject_uids"]) == ("view", [customer.uid])


@pytest.mark.parametrize("path", ["/admin/users/", "/admin/api/users"])
def test_a_search_records_the_query_and_whom_it_found(viewer, customer, store, path):
    response = viewer.get(path, query_string={"q": "Customer@Example.com"})

    search = [look for look in looks(store) if look["task"] == "search"]
    assert [(s["query"], s["subject_uids"], s["outcome"]) for s in search] == [
        ("Customer@Example.com", [customer.uid], "ok")
    ]
    if path == "/admin/users/":
        # The answer is the user's page itself: one look, one record (no
        # `view` besides the `search`), and the guard's read, the admin
        # document of the same address and the record's write (the lookup
        # is Auth's).
        assert response.status_code == 200
        assert f'id="user-uid">{customer.uid}<' in response.get_data(as_text=True)
        assert [look["task"] for look in looks(store)] == ["search"]
        assert firestore_trips(response) == 3


@pytest.mark.parametrize("path", ["/admin/users/", "/admin/api/users"])
def test_a_search_that_finds_nobody_is_recorded_as_failed(viewer, store, path):
    response = viewer.get(path, query_string={"q": "nobody@example.com"})

    assert response.status_code == 404
    [look] = looks(store)
    assert (look["task"], look["query"], look["outcome"], look["reason"]) == (
        "search",
        "nobody@example.com",
        "failed",
        "not_found",
    )
    assert look["subject_uids"] == [] and look["subjects"] == []


@pytest.mark.parametrize("path", ["/admin/users/", "/admin/api/users?limit=3"])
def test_a_list_page_records_every_uid_it_showed(viewer, auth_emulator, store, path):
    made = [auth_emulator.create_user(f"user{n}@example.com").uid for n in range(4)]

    response = viewer.get(path)

    assert response.status_code == 200
    [look] = looks(store)
    assert look["task"] == "print" and look["target"] is None
    assert len(look["subject_uids"]) == 3  # the page size: what was shown
    assert set(look["subject_uids"]) <= {*made, *[u for u in look["subject_uids"]]}
    body = response.get_data(as_text=True)
    assert all(uid in body for uid in look["subject_uids"])
    assert look["subject_count"] == 3
    if path == "/admin/users/":
        assert firestore_trips(response) == 2  # the guard's read and the record


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/{uid}",
        "/admin/api/users/{uid}",
        "/admin/users/?q=customer@example.com",
        "/admin/api/users?q=customer@example.com",
        "/admin/users/?q=nobody@example.com",
        "/admin/api/users?q=nobody@example.com",
        "/admin/users/",
        "/admin/api/users",
    ],
)
def test_a_look_that_cannot_be_recorded_shows_nothing(
    viewer, customer, store, monkeypatch, caplog, path
):
    """Fail closed: when the record's write fails, the answer is a 503 that
    names nobody: no user's data, no redirect to whom a search found, and not
    even a 404 for a search that found nobody."""
    caplog.set_level(logging.INFO, logger="adminapp.security")
    real_commit = WriteBatch.commit

    def commit(batch, *args, **kwargs):
        # Only the audit trail's writes fail: the guard's own reads and
        # writes go through, so the refusal is the record's.
        if isinstance(batch, AuditedBatch):
            raise ServiceUnavailable("Firestore did not answer")
        return real_commit(batch, *args, **kwargs)

    monkeypatch.setattr(WriteBatch, "commit", commit)

    response = viewer.get(path.format(uid=customer.uid))

    assert response.status_code == 503
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)
    assert CUSTOMER not in body and customer.uid not in body
    assert looks(store) == []
    # What was attempted, by whom, is in the log, marked as not saved.
    [attempt] = [
        record.audit
        for record in caplog.records
        if getattr(record, "audit", {}).get("event") == "personal_data_accessed"
    ]
    assert (attempt["actor"], attempt["outcome"], attempt["error"]) == (
        VIEWER,
        "error",
        "not_saved",
    )


def test_a_product_page_records_with_one_call(viewer, store):
    assert viewer.get("/admin/orders/cust-1").status_code == 200

    [look] = looks(store)
    assert look["task"] == "view" and look["actor"] == VIEWER
    assert look["subject_uids"] == ["cust-1", "second-uid"]
    assert set(look["subjects"]) == {"cust-1", "cust-1@example.com", "second-uid"}


def test_the_trail_finds_every_look_at_one_person(viewer, customer, store):
    viewer.get(f"/admin/users/{customer.uid}")
    viewer.get("/admin/users/")

    found = viewer.get("/admin/api/audit", query_string={"target": CUSTOMER}).get_json()
    assert sorted(entry["task"] for entry in found["entries"]) == ["print", "view"]
    page = viewer.get("/admin/audit", query_string={"event": "personal_data_accessed"})
    assert 'data-task="view"' in page.get_data(as_text=True)


def test_a_refused_request_leaves_no_record(app, signed_in_as, customer, store):
    anonymous = app.test_client()
    assert anonymous.get(f"/admin/api/users/{customer.uid}").status_code == 401
    viewer = signed_in_as(VIEWER, "viewer")
    # The delete confirmation shows the user, but is for owners only.
    assert viewer.get(f"/admin/users/{customer.uid}/delete").status_code == 403
    assert viewer.get("/admin/api/users?limit=0").status_code == 400

    assert looks(store) == []


def test_a_record_holds_nothing_secret(viewer, customer, store):
    cookie = viewer.get_cookie(SESSION_COOKIE).value
    token = csrf_token(viewer)
    viewer.get(f"/admin/users/{customer.uid}", headers={"Authorization": "Bearer not-a-token"})

    [look] = looks(store)
    text = repr(look)
    for secret in (cookie, token, "Bearer", "not-a-token"):
        assert secret not in text
    [session] = store.sessions(email=VIEWER)
    assert session["id"] not in text


def test_changes_to_a_user_carry_the_edit_and_delete_tasks(signed_in_as, customer, store):
    owner = signed_in_as("boss@example.com", "owner")
    headers = {"Origin": ORIGIN, "X-CSRFToken": csrf_token(owner)}

    disabled = owner.post(f"/admin/api/users/{customer.uid}/disable", headers=headers)
    deleted = owner.delete(
        f"/admin/api/users/{customer.uid}", headers=headers, json={"confirm": CUSTOMER}
    )

    assert (disabled.status_code, deleted.status_code) == (200, 200)
    [edit] = store.audit(event="user_disabled")
    [delete] = store.audit(event="user_deleted")
    assert (edit["task"], edit["subject_uids"], edit["actor"]) == (
        "edit",
        [customer.uid],
        "boss@example.com",
    )
    assert (delete["task"], delete["subject_uids"]) == ("delete", [customer.uid])
