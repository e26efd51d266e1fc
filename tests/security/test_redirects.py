"""Open-redirect attempts through ``next``: the app never leaves its origin.

Three places take a destination from the visitor: the login page (which
hands ``next`` to its script), the exchange's JSON answer (where the script
goes after signing in), and the guard (login redirect and the cross-site
re-navigation page). Each is fed the same hostile values.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest

from adminapp.testing.firebase import OWNER
from adminapp.web.redirects import DASHBOARD, safe_next
from tests.support.web import exchange

HOME = "http://admin.test"
HOSTILE = [
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "https://evil.example/admin/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/admin\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/admin/%2F%2Fevil.example",
    "/admin/%5C%5Cevil.example",
    "/admin//evil.example",
    "/admin/../../evil.example",
    "/admin/%2e%2e/%2e%2e/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\t/evil.example",
    "/admin/\r\n//evil.example",
    "/admin/%0d%0aLocation:%20https://evil.example",
    "/admin@evil.example",
    "/adminx.evil.example",
    "@evil.example",
    "evil.example",
    "/admin/\x00//evil.example",
    "/" + "a" * 600,
]
IDS = [repr(value)[1:-1][:40] for value in HOSTILE]


def stays_home(target: str) -> bool:
    """Where a browser would go from one of our pages, if it followed ``target``."""
    if "\\" in target or any(ord(ch) < 0x21 for ch in target):
        return False  # browsers read "\" as "/" and drop tabs and newlines
    resolved = urlsplit(urljoin(HOME + "/admin/login", target))
    return resolved.scheme == "http" and resolved.netloc == "admin.test"


@pytest.mark.parametrize("candidate", HOSTILE, ids=IDS)
def test_safe_next_falls_back_to_the_dashboard(candidate):
    assert safe_next(candidate) == DASHBOARD


@pytest.mark.parametrize("candidate", ["/admin/", "/admin/admins?page=2", "/admin"])
def test_own_pages_are_kept(candidate):
    assert safe_next(candidate) == candidate


@pytest.mark.parametrize("candidate", HOSTILE, ids=IDS)
def test_login_page_hands_its_script_only_a_local_destination(client, candidate, clean):
    page = client.get("/admin/login", query_string={"next": candidate}).get_data(as_text=True)
    [target] = re.findall(r'data-next="([^"]*)"', page)
    assert html.unescape(target) == DASHBOARD


@pytest.mark.parametrize("candidate", HOSTILE, ids=IDS)
def test_exchange_answers_with_a_local_destination(client, auth_emulator, owner, candidate):
    response = exchange(client, auth_emulator.sign_in(OWNER), next_path=candidate)
    assert response.status_code == 200
    # The exchange opens a pending session and sends the browser to the
    # second factor, carrying the destination along: it must be ours.
    redirect = urlsplit(response.get_json()["redirect"])
    assert redirect.path == "/admin/mfa" and not redirect.netloc
    assert parse_qs(redirect.query)["next"] == [DASHBOARD]


@pytest.mark.parametrize(
    "path",
    ["/admin//evil.example", "/admin/%5Cevil.example", "/admin/..%2F..%2Fevil", "/admin/x?a=//e"],
)
def test_guard_redirects_and_re_navigations_stay_home(client, path, clean):
    to_login = client.get(path)
    assert to_login.status_code == 302
    location = to_login.headers["Location"]
    assert location.startswith("/admin/login?next=")
    assert stays_home(location)
    assert stays_home(safe_next(_query_next(location)))

    cross_site = client.get(
        path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    )
    [target] = re.findall(r'content="0;url=([^"]*)"', cross_site.get_data(as_text=True))
    assert stays_home(html.unescape(target))


def _query_next(location: str) -> str:
    return parse_qs(urlsplit(location).query)["next"][0]


def test_helper_recognises_an_escape():
    # The check above must be able to fail.
    assert not stays_home("//evil.example")
    assert not stays_home("/\\evil.example")
    assert stays_home(quote("/admin/"))
