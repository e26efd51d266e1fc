"""A link into the admin area from another site (an email, a chat) just works.

SameSite=Strict makes Chromium withhold the session cookie on a navigation
that another site started; the guard answers such a navigation with a
same-site re-navigation, which carries the cookie. The page with the link is
served on http://localhost, a different site from the app's 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.wrappers import Response

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from adminapp.testing.live import serve
from tests.support.pages import session_cookie, sign_in_with_password


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """A page holding ``html``, on http://localhost: another site than the app's."""
    page = Response(html, mimetype="text/html")
    with serve(page) as url:
        yield url.replace("127.0.0.1", "localhost", 1) + "/"


def test_link_from_another_site_opens_the_admin_page_when_signed_in(page, live_url, owner):
    sign_in_with_password(page, live_url, OWNER, DEFAULT_PASSWORD)
    target = f"{live_url}/admin/sessions"
    with other_site(f'<a id="link" href="{target}">Your sessions</a>') as chat:
        page.goto(chat)
        page.click("#link")
        page.wait_for_url(target)

    assert page.inner_text("h1") == "Your sessions"
    assert session_cookie(page)["sameSite"] == "Strict"  # not weakened to make this work


def test_link_from_another_site_leads_a_signed_out_visitor_to_login(page, live_url, owner):
    target = f"{live_url}/admin/sessions"
    with other_site(f'<a id="link" href="{target}">Your sessions</a>') as chat:
        page.goto(chat)
        page.click("#link")
        page.wait_for_url(f"{live_url}/admin/login?next=/admin/sessions")
    assert page.is_visible("#login-form")
