"""Nothing but the app is served: no directory listings, no files from the
source tree, and no stack trace when something breaks."""

from __future__ import annotations

import pytest

from adminapp import create_app
from adminapp.web.guard import public
from tests.support.settings import base_config


@pytest.mark.parametrize(
    "path",
    [
        "/.git/config",
        "/.env",
        "/wsgi.py",
        "/admin/static/",
        "/admin/static/js/",
        "/admin/static/../../wsgi.py",
        "/admin/static/%2e%2e/%2e%2e/wsgi.py",
        "/admin/static/..%2f..%2f.env",
    ],
)
def test_no_listing_and_no_source_files(client, path, clean):
    response = client.get(path)
    # A 404, or (under /admin, signed out) the way to the login page.
    assert response.status_code == 404 or response.headers["Location"].startswith("/admin/login")
    body = response.get_data(as_text=True)
    assert "SECRET_KEY" not in body and "import" not in body


def test_an_unexpected_error_is_a_plain_500_without_a_traceback(emulators, caplog):
    app = create_app(base_config())

    @app.get("/admin/explode")
    @public
    def explode():
        raise RuntimeError("secret internals: /srv/app/adminapp/views.py line 12")

    response = app.test_client().get("/admin/explode", headers={"Accept": "application/json"})

    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side. It has been logged.",
    }
    assert any(record.exc_info for record in caplog.records)  # the operator sees it
