"""``make bench`` seeds its admins and sessions through the app's own stores
(devtools/bench.py, ``Data``). When a store's constructor changed, the bench
broke at its first step and nothing in the suite saw it; this test builds
the bench's seeding on the test emulators and opens the admin area with a
session it seeded, so the next change to a store fails here instead."""

from __future__ import annotations

from devtools.bench import Data


def test_a_session_the_bench_seeds_opens_the_admin_area(emulators, app, config, auth_emulator):
    email = "bench-seeded@example.com"
    user = auth_emulator.create_user(email)
    data = Data(emulators, config)
    try:
        data.add_admin_documents([email])
        cookie = data.seeded_session(email, user.uid)
    finally:
        data.close()
    client = app.test_client()
    for pair in cookie.split("; "):
        name, value = pair.split("=", 1)
        client.set_cookie(name, value)
    response = client.get("/admin/")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert email in response.get_data(as_text=True)
    # Without the seeded cookie, the same request is sent to sign in.
    assert app.test_client().get("/admin/").status_code in (302, 303)
