"""Product pages behind the gate: the example blueprint (examples/notes) and
the rules of the extension point (adminapp/web/products.py)."""

from __future__ import annotations

import pytest

from adminapp import ConfigError, create_app
from adminapp.web.products import AdminBlueprint
from tests.support.settings import base_config
from tests.support.web import ORIGIN, post_form

NOTES = "example_notes"

# A product page that declares no role: the guard gives it to owners only,
# and its navigation link shows only to them.
vault = AdminBlueprint("vault", __name__, prefix="vault", nav=("Vault", "index"))


@vault.get("/")
def index():
    return "the vault"


taken = AdminBlueprint("taken", __name__, prefix="login")
outside = AdminBlueprint("outside", __name__, prefix="x")
outside.url_prefix = "/elsewhere"
not_a_blueprint = "just a string"


@pytest.fixture
def config() -> dict[str, str]:
    return base_config(
        ADMINAPP_BLUEPRINTS="adminapp_notes:bp, tests.integration.test_products:vault"
    )


def notes_in(store) -> list[dict]:
    return [snap.to_dict() for snap in store.client.collection(NOTES).stream()]


def test_the_example_page_is_behind_the_gate(client):
    response = client.get("/admin/notes/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_a_viewer_reads_the_example_but_cannot_write(signed_in_as, store):
    client = signed_in_as("viewer@example.com", "viewer")
    page = client.get("/admin/notes/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Notes</h1>" in html and 'id="note-form"' not in html
    assert 'href="/admin/notes/" aria-current="page">Notes</a>' in html
    # The app's headers apply to product pages unchanged.
    assert "script-src" in page.headers["Content-Security-Policy"]

    refused = post_form(client, "/admin/notes/", {"text": "hello"})
    assert refused.status_code == 403
    assert notes_in(store) == []
    assert store.audit(event="note_added") == []


def test_an_admin_adds_a_note_with_its_audit_entry(signed_in_as, store):
    client = signed_in_as("admin@example.com", "admin")
    response = post_form(client, "/admin/notes/", {"text": "  Deploy on Friday  "})
    assert response.status_code == 303
    [note] = notes_in(store)
    assert (note["text"], note["author"]) == ("Deploy on Friday", "admin@example.com")
    [entry] = store.audit(event="note_added")
    assert entry["actor"] == "admin@example.com"
    assert "Deploy on Friday" in client.get("/admin/notes/").get_data(as_text=True)
    # The product's declared event is in the trail's filter like the built-in ones.
    found = client.get("/admin/api/audit?event=note_added").get_json()["entries"]
    assert [e["target"] for e in found] == [entry["target"]]


def test_the_example_form_is_validated_and_csrf_checked_before_any_write(signed_in_as, store):
    client = signed_in_as("admin@example.com", "admin")
    assert post_form(client, "/admin/notes/", {"text": ""}).status_code == 400
    assert post_form(client, "/admin/notes/", {"text": "x" * 501}).status_code == 400
    no_token = client.post("/admin/notes/", data={"text": "hi"}, headers={"Origin": ORIGIN})
    assert no_token.status_code == 400
    assert notes_in(store) == []
    assert store.audit(event="note_added") == []


def test_a_page_that_declares_no_role_needs_owner_and_so_does_its_link(signed_in_as):
    admin = signed_in_as("admin@example.com", "admin")
    assert admin.get("/admin/vault/").status_code == 403
    assert ">Vault</a>" not in admin.get("/admin/").get_data(as_text=True)
    # The other product links show to those who may open them.
    assert ">Notes</a>" in admin.get("/admin/").get_data(as_text=True)
    assert ">Users</a>" in admin.get("/admin/").get_data(as_text=True)

    owner = signed_in_as("owner@example.com", "owner")
    assert owner.get("/admin/vault/").get_data(as_text=True) == "the vault"
    assert ">Vault</a>" in owner.get("/admin/").get_data(as_text=True)


def test_an_undeclared_audit_event_is_refused(app):
    with pytest.raises(ValueError, match="undeclared audit event"):
        app.extensions["adminapp"].audit.record("made_up", actor="someone")


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("tests.integration.test_products:taken", "already taken by /admin/login"),
        ("tests.integration.test_products:outside", "must live under /admin/<prefix>"),
        ("tests.integration.test_products:not_a_blueprint", "is not a Flask Blueprint"),
        ("no_such_module.admin:bp", "cannot import 'no_such_module.admin'"),
        ("not an import path", "is not an import path"),
    ],
)
def test_a_bad_product_setting_stops_the_app_naming_the_setting(clean, setting, problem):
    with pytest.raises(ConfigError, match="ADMINAPP_BLUEPRINTS") as error:
        create_app(base_config(ADMINAPP_BLUEPRINTS=setting))
    assert problem in str(error.value)


def test_the_users_console_can_be_switched_off(clean):
    app = create_app(base_config(USERS_CONSOLE="false"))
    try:
        assert not any(rule.rule.startswith("/admin/users") for rule in app.url_map.iter_rules())
        assert not any(
            rule.rule.startswith("/admin/api/users") for rule in app.url_map.iter_rules()
        )
    finally:
        app.extensions["adminapp"].close()
