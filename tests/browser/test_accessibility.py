"""Every page of the admin area, in English and in Korean, has no WCAG 2.1 A
or AA violation of serious or critical impact (axe-core: tests/support/axe.py).

The pages come from the route walk's table (``ACCESS`` in
tests/integration/test_route_access.py): every GET route under /admin that
is not the JSON API. A page added to that table is scanned here without
anyone remembering to: signed out if it is public; else as the least role
that may open it (what everyone who may open it sees) and as the top role
(who sees every control; a role in between sees less than the top role and
more than the least), with real values for its URL parts (a real admin, a
real Firebase user, a real session, a real factor). A page the walk cannot
open as itself (it redirects, or answers 404 for want of a real value)
fails the test, which says what is missing. The few pages a plain visit
cannot show are reached as a person reaches them, and listed in
``REACHED_ON_THE_WAY``; ``NOT_PAGES`` lists the GET routes that show no page.

Beyond the route table: the pages a form answers with (the reset link sent,
a form with its errors, the recovery codes), the error pages (403, 404),
and every page with a table on a phone-sized screen, where tables become
cards. One browser; one signed-in context per role and language, each
visiting its pages in a loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from firebase_admin import auth
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page

from adminapp.testing.firebase import DEFAULT_PASSWORD
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.integration import test_route_access as route_table
from tests.support.axe import Violation, report, scan
from tests.support.pages import fill_login, pass_second_factor
from tests.support.reset import settle
from tests.support.settings import LOG_DIR, base_config

ROLES = route_table.ROLES
TOP_ROLE = ROLES[-1]
OWNER = f"{TOP_ROLE}@example.com"
CUSTOMER = "ada@example.com"

# The browser's language for each of the app's languages (Accept-Language).
LANGUAGES = {"en": "en-US", "ko": "ko-KR"}
# A phone in portrait: below the stylesheet's 40rem (640px) breakpoint.
PHONE = {"width": 375, "height": 740}
# Where a picture of each page with a violation goes.
FAILED_PAGES = LOG_DIR / "accessibility"

JSON_API = "/admin/api/"
# GET routes of the table that are no page of their own, and why.
NOT_PAGES = {
    "auth.switch_language": "only sets the language cookie and redirects back",
}
# Pages a plain visit cannot show as themselves; each is reached below the
# way a person reaches it, and the test checks it was.
REACHED_ON_THE_WAY = {
    "auth.reset_confirm": "the link of a real reset email (a code from the Auth emulator)",
    "mfa.enrol": "the first sign-in of an admin with no second factor",
    "mfa.challenge": "the sign-in of an admin with a second factor",
    "mfa.step_up": "a session whose last proof is older than the step-up window",
    "mfa.step_up_continue": "a form the step-up prompt interrupted, after the proof",
}


@pytest.fixture
def config() -> dict[str, str]:
    # The route table's app: the users console and the example product too.
    return base_config(**route_table.PRODUCTS)


def get_pages(app) -> dict[str, str]:
    """Every GET page of the route table: endpoint -> its least role (or
    PUBLIC), without the JSON API and NOT_PAGES."""
    api = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith(JSON_API)}
    return {
        endpoint: least
        for (endpoint, method), (_declared, least) in route_table.ACCESS.items()
        if method == "GET" and endpoint not in api and endpoint not in NOT_PAGES
    }


def may_open(role: str, least: str) -> bool:
    return ROLES.index(role) >= ROLES.index(least)


@dataclass
class Scans:
    """What was scanned in one language, and what axe found there."""

    app: Flask
    base_url: str
    language: str
    found: dict[str, list[Violation]] = field(default_factory=dict)
    covered: set[str] = field(default_factory=set)
    script_errors: list[str] = field(default_factory=list)

    def check(self, page: Page, label: str) -> None:
        """Scan the page as it is now."""
        # The page is in the language this run is about (not a fallback).
        assert page.get_attribute("html", "lang") == self.language, (label, page.url)
        found = scan(page)
        self.found[f"[{self.language}] {label} ({page.url})"] = found
        if found:  # a picture of the failing page, to see what axe saw
            FAILED_PAGES.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"\W+", "-", f"{self.language} {label}").strip("-")
            page.screenshot(path=str(FAILED_PAGES / f"{name}.png"), full_page=True)

    def reached(self, page: Page, endpoint: str) -> None:
        """Scan a page reached on the way, after checking it is the one meant."""
        path = page.url.removeprefix(self.base_url).split("?")[0]
        matched, _ = self.app.url_map.bind("localhost").match(path, method="GET")
        assert matched == endpoint, (endpoint, page.url)
        self.check(page, endpoint)
        self.covered.add(endpoint)

    def open(self, page: Page, endpoint: str, values: dict[str, str], label: str) -> None:
        """Visit a route of the table and scan it; it must answer as itself."""
        url = self.base_url + url_for(self.app, endpoint, values)
        response = page.goto(url)
        assert response is not None and response.status == 200 and page.url == url, (
            f"{endpoint} answered {response and response.status} at {page.url}, not its own page:"
            " give its URL parts real values (real_values), or list it in REACHED_ON_THE_WAY"
            " or NOT_PAGES with the reason"
        )
        self.check(page, label)
        self.covered.add(endpoint)

    @contextmanager
    def context(self, browser: Browser, **options) -> Iterator[tuple[BrowserContext, Page]]:
        """A browser profile in this language (Accept-Language), closed after."""
        context = browser.new_context(locale=LANGUAGES[self.language], **options)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))
        try:
            yield context, page
        finally:
            context.close()


def url_for(app, endpoint: str, values: dict[str, str]) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    missing = rule.arguments - set(values)
    assert not missing, (
        f"{endpoint} needs a real value for {sorted(missing)}: add it to real_values"
    )
    return app.url_map.bind("localhost").build(
        endpoint, {name: values[name] for name in rule.arguments}
    )


def make_people(auth_emulator, store) -> str:
    """An admin of each role, and a customer with claims for the users
    console; returns the customer's uid."""
    for role in ROLES:
        auth_emulator.create_user(f"{role}@example.com")
        store.add_admin(f"{role}@example.com", role, display_name=f"{role.title()} Example")
    customer = auth.create_user(
        email=CUSTOMER,
        display_name="Ada Lovelace",
        phone_number="+15555550101",
        password=DEFAULT_PASSWORD,
        app=auth_emulator.app,
    )
    auth.set_custom_user_claims(customer.uid, {"plan": "pro"}, app=auth_emulator.app)
    # A custom role, for its editor page (and the roles list's row).
    store.client.collection("admin_roles").document("custom").set(
        {
            "version": 1,
            "roles": {"support": {"description": "Helps users", "permissions": ["users.read"]}},
        }
    )
    return customer.uid


def real_values(store, customer_uid: str) -> dict[str, str]:
    """URL parts that name something that exists, so each page shows itself
    (the route walk's URL_VALUES name nothing, on purpose)."""
    [session] = [s for s in store.sessions(email=OWNER, active=True) if not s["mfa_pending"]]
    [factor, *_] = store.factors(OWNER)
    return {
        **route_table.URL_VALUES,
        "email": "viewer@example.com",
        "uid": customer_uid,
        "key": session["id"],
        "factor_id": factor["id"],
        "name": "support",
    }


def signed_out_pages(scans: Scans, page: Page, pages: dict[str, str], outbox) -> None:
    """The public pages of the table, the answers of their forms, and the
    reset link: a real one, and one whose code is not valid."""
    for endpoint, least in pages.items():
        if least == route_table.PUBLIC and endpoint not in REACHED_ON_THE_WAY:
            scans.open(page, endpoint, {}, endpoint)

    page.goto(f"{scans.base_url}/admin/login")
    fill_login(page, OWNER, "not the password at all")
    page.wait_for_selector("#login-error:not([hidden])")
    scans.check(page, "login, wrong password")

    page.goto(f"{scans.base_url}/admin/resetpassword")
    page.fill("#email", "not an email")
    page.click("#send-link")
    page.wait_for_selector("#email[aria-invalid=true]")
    scans.check(page, "reset request, invalid address")
    page.fill("#email", OWNER)
    page.click("#send-link")
    page.wait_for_selector("#reset-sent")
    scans.check(page, "reset link sent")

    settle(scans.app)
    [sent] = outbox.sent(OWNER)
    page.goto(f"{scans.base_url}/admin/resetpassword/confirm?oobCode={sent['oobCode']}")
    page.wait_for_selector("#new-password-form")
    page.fill("#password", "correct horse")  # shows the strength meter
    page.wait_for_selector("#password-strength:not([hidden])")
    scans.reached(page, "auth.reset_confirm")

    page.goto(f"{scans.base_url}/admin/resetpassword/confirm?oobCode=no-such-code")
    page.wait_for_selector("#reset-invalid")
    scans.check(page, "reset link not valid")


def sign_in(scans: Scans, page: Page, email: str, *, scan_on_the_way: bool) -> None:
    """Through the login page and the first sign-in's enrolment."""
    page.goto(f"{scans.base_url}/admin/login")
    fill_login(page, email, DEFAULT_PASSWORD)

    def on_the_way(page: Page, name: str) -> None:
        if name == "mfa-enrolment":
            scans.reached(page, "mfa.enrol")
        elif scan_on_the_way:
            scans.check(page, name)

    pass_second_factor(page, email, at_each_page=on_the_way if scan_on_the_way else None)
    page.wait_for_url(f"{scans.base_url}/admin/")


def signed_in_pages(
    scans: Scans, page: Page, role: str, pages: dict[str, str], values: dict[str, str]
) -> list[str]:
    """The pages whose least role is ``role``, and every page for the top
    role (see the module docstring); returns those that show a table."""
    with_tables = []
    for endpoint, least in pages.items():
        if least == route_table.PUBLIC or endpoint in REACHED_ON_THE_WAY:
            continue
        if least == role or role == TOP_ROLE:
            scans.open(page, endpoint, values, f"{endpoint} as {role}")
            if page.locator("table").count():
                with_tables.append(endpoint)
    return with_tables


def error_pages(scans: Scans, page: Page, role: str, pages: dict[str, str], values) -> None:
    """A page this role may not open (403), and no page at all (404)."""
    refused = next(
        e for e, least in pages.items() if least != route_table.PUBLIC and not may_open(role, least)
    )
    response = page.goto(scans.base_url + url_for(scans.app, refused, values))
    assert response.status == 403
    scans.check(page, f"403 ({refused} as {role})")
    response = page.goto(f"{scans.base_url}/admin/no-such-page")
    assert response.status == 404
    scans.check(page, "404")


def second_factor_pages(scans: Scans, owner: Page, browser: Browser, store) -> None:
    """The challenge of a pending session; the step-up prompt, the page that
    continues the interrupted action, and new recovery codes."""
    with scans.context(browser) as (_, pending):
        pending.goto(f"{scans.base_url}/admin/login")
        fill_login(pending, OWNER, DEFAULT_PASSWORD)
        pending.wait_for_selector("#second-factor-challenge")
        scans.reached(pending, "mfa.challenge")

    window = scans.app.extensions["adminapp"].settings.step_up_window
    long_ago = datetime.now(UTC) - window - timedelta(minutes=1)
    [session] = [s for s in store.sessions(email=OWNER, active=True) if not s["mfa_pending"]]
    store.update_session(session["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago)
    owner.goto(f"{scans.base_url}/admin/mfa/step-up?next=/admin/security")
    owner.wait_for_selector("#second-factor-challenge")
    scans.reached(owner, "mfa.step_up")

    owner.goto(f"{scans.base_url}/admin/security")
    owner.click("#regenerate-form button[type=submit]")
    owner.wait_for_selector("#second-factor-challenge")
    owner.fill("#code", AUTHENTICATORS[scans.base_url, OWNER].next_code())
    owner.click("#totp-form button[type=submit]")
    owner.wait_for_selector("#step-up-continue")
    scans.reached(owner, "mfa.step_up_continue")
    owner.click("#continue-form button[type=submit]")
    owner.wait_for_selector("#recovery-codes-page")
    scans.check(owner, "new recovery codes")


@pytest.mark.long
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_has_no_serious_accessibility_violation(
    app, live_url, browser, auth_emulator, store, outbox, language
):
    scans = Scans(app, live_url, language)
    pages = get_pages(app)
    customer_uid = make_people(auth_emulator, store)

    with scans.context(browser) as (_, page):
        signed_out_pages(scans, page, pages, outbox)

    with scans.context(browser) as (owner_context, owner):
        sign_in(scans, owner, OWNER, scan_on_the_way=True)
        values = real_values(store, customer_uid)
        with_tables = signed_in_pages(scans, owner, TOP_ROLE, pages, values)

        lower_roles = [r for r in ROLES if r != TOP_ROLE and r in pages.values()]
        for role in lower_roles:
            with scans.context(browser) as (_, page):
                sign_in(scans, page, f"{role}@example.com", scan_on_the_way=False)
                signed_in_pages(scans, page, role, pages, values)
                if role == lower_roles[0]:
                    error_pages(scans, page, role, pages, values)

        state = owner_context.storage_state()
        with scans.context(browser, viewport=PHONE, storage_state=state) as (_, phone):
            for endpoint in with_tables:
                scans.open(phone, endpoint, values, f"{endpoint} on a phone")

        second_factor_pages(scans, owner, browser, store)

    assert scans.script_errors == []
    failures = report(scans.found)
    if failures:
        pytest.fail(f"axe-core found (pictures in {FAILED_PAGES}):\n{failures}", pytrace=False)
    assert scans.covered == set(pages), set(pages) ^ scans.covered


# The checker itself can fail: a tiny page with what the scan must catch.
FLAWED_PAGE = """<!doctype html><html lang="en"><head><title>Flawed</title></head><body><main>
<h1>Flawed</h1>
<input id="nameless" type="text">
<p id="faint" style="color: #bbbbbb; background: #ffffff">Hard to read</p>
</main></body></html>"""
SOUND_PAGE = """<!doctype html><html lang="en"><head><title>Sound</title></head><body><main>
<h1>Sound</h1>
<label for="named">Name</label> <input id="named" type="text">
<p style="color: #1d2330; background: #ffffff">Easy to read</p>
</main></body></html>"""


def test_the_scan_catches_a_field_without_a_name_and_faint_text(page):
    page.set_content(FLAWED_PAGE)
    found = {(v.rule, v.impact, v.targets) for v in scan(page)}
    assert found == {
        ("label", "critical", ("#nameless",)),
        ("color-contrast", "serious", ("#faint",)),
    }
    assert "#nameless" in report({"flawed page": scan(page)})


def test_the_scan_passes_a_sound_page(page):
    page.set_content(SOUND_PAGE)
    assert scan(page) == []
