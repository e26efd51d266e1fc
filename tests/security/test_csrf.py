"""Every state-changing route refuses a cookie-authenticated request without
the CSRF token, and any write that another site started (Fetch Metadata).

The route table comes from tests/integration/test_route_access.py, which
fails when a route is added without being listed, so no route escapes this.
"""

from __future__ import annotations

import pytest

from adminapp.testing.firebase import OWNER
from tests.integration.test_route_access import ACCESS, PRODUCTS, PUBLIC, SAFE, url_for_rule
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, open_session

WRITES = sorted(key for key in ACCESS if key[1] not in SAFE)


@pytest.fixture
def config() -> dict[str, str]:
    # The route table's app: product blueprints' forms get the same CSRF check.
    return base_config(**PRODUCTS)


@pytest.fixture
def owner_client(app, owner, store):
    store.add_admin("second.owner@example.com", "owner")
    client = app.test_client()
    # What the CSRF check refuses, not the sign-in: a session opened by the
    # services a sign-in runs (adminapp/testing/opened_sessions.py).
    open_session(client, OWNER, owner.uid)
    return client


@pytest.mark.parametrize(("endpoint", "method"), WRITES)
def test_write_without_the_csrf_token_is_refused(app, owner_client, store, endpoint, method):
    before = [s["ended_at"] for s in store.sessions()], len(store.audit())
    url = url_for_rule(app, endpoint)
    response = owner_client.open(url, method=method, headers={"Origin": ORIGIN}, json={})
    assert response.status_code == 400
    if response.is_json:
        assert response.get_json()["error"] == "csrf_failed"
    else:
        assert "security token is missing" in response.get_data(as_text=True)
    assert ([s["ended_at"] for s in store.sessions()], len(store.audit())) == before


@pytest.mark.parametrize(("endpoint", "method"), WRITES)
@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_write_started_by_another_site_is_refused(app, owner_client, endpoint, method, site):
    url = url_for_rule(app, endpoint)
    token = csrf_token(owner_client)  # even with a valid token
    response = owner_client.open(
        url,
        method=method,
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": site, "X-CSRFToken": token},
        data={"csrf_token": token},
    )
    assert response.status_code == 403
    if ACCESS[endpoint, method][0] != PUBLIC:
        assert "another site" in response.get_data(as_text=True)
