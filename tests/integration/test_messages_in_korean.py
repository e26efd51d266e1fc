"""The messages that went out in English on Korean pages (issue 24), one
test per family, now in Korean: the users console's reset limits, the
invitation warnings and the invite form, the API's and the cross-site
refusals, the factor reset notice, the names the app gives factors, and the
example product page. tests/unit/test_messages_are_marked.py keeps new ones
from going unmarked; these show the marked ones reach the reader."""

from __future__ import annotations

import json

import pytest

from adminapp import catalogs
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, post_form

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
OWNER = "boss@example.com"
STAFF = "staff@example.com"
CUSTOMER = "customer@example.com"


def api_write(client, method: str, path: str, body: dict | None = None, headers=None):
    sent = {"Origin": ORIGIN, "X-CSRFToken": csrf_token(client), **(headers or {})}
    return client.open(path, method=method, headers=sent, json=body or {})


def text(response) -> str:
    return response.get_data(as_text=True)


def flashed(client, response) -> str:
    """The page a form's redirect leads to, where its flash message shows."""
    assert response.status_code == 303, text(response)
    return text(client.get(response.headers["Location"]))


# -- the users console's password reset: per-address limit and double submit --


@pytest.mark.parametrize("config", [base_config(RESET_RATE_LIMIT_PER_EMAIL="1 per hour")])
def test_the_reset_limit_is_refused_in_the_callers_language_with_when_to_retry(
    signed_in_as, auth_emulator, outbox
):
    user = auth_emulator.create_user(CUSTOMER)
    client = signed_in_as(STAFF, "admin")
    path = f"/admin/api/users/{user.uid}/reset"
    assert api_write(client, "POST", path).status_code == 202

    korean = api_write(client, "POST", path, headers=KO)
    english = api_write(client, "POST", path, headers=EN)

    assert korean.status_code == english.status_code == 429
    assert korean.get_json()["error"] == english.get_json()["error"] == "rate_limited"
    assert korean.get_json()["message"].startswith("이 주소로 보낸 재설정 이메일이 너무 많습니다. ")
    assert (
        "후(" in korean.get_json()["message"]
        and "다시 시도하십시오." in korean.get_json()["message"]
    )
    assert english.get_json()["message"].startswith(
        "Too many reset emails went to this address. Try again in "
    )
    assert 0 < int(korean.headers["Retry-After"]) <= 3600
    assert len(outbox.sent(CUSTOMER)) == 1  # refused before anything was sent


@pytest.mark.parametrize("config", [base_config(RESET_RATE_LIMIT_PER_EMAIL="1 per hour")])
def test_the_reset_limit_page_is_korean_for_a_korean_admin(signed_in_as, auth_emulator, outbox):
    user = auth_emulator.create_user(CUSTOMER)
    client = signed_in_as(STAFF, "admin", locale="ko")
    assert post_form(client, f"/admin/users/{user.uid}/reset").status_code == 303

    page = post_form(client, f"/admin/users/{user.uid}/reset")

    assert page.status_code == 429
    html = text(page)
    assert "<h1>시도 횟수 초과</h1>" in html  # ResetLimited.title
    assert "이 주소로 보낸 재설정 이메일이 너무 많습니다." in html
    assert "Too many" not in html
    assert len(outbox.sent(CUSTOMER)) == 1


def test_a_second_reset_a_moment_later_is_refused_in_korean(signed_in_as, auth_emulator, outbox):
    user = auth_emulator.create_user(CUSTOMER)
    client = signed_in_as(STAFF, "admin")
    path = f"/admin/api/users/{user.uid}/reset"
    assert api_write(client, "POST", path).status_code == 202

    again = api_write(client, "POST", path, headers=KO)

    assert again.status_code == 409
    assert again.get_json() == {
        "error": "duplicate_request",
        "message": "방금 이 주소로 재설정 이메일을 보냈습니다.",
    }
    assert len(outbox.sent(CUSTOMER)) == 1


# -- the API's own validation and the cross-site refusal --------------------------


def test_a_provider_that_is_not_text_is_refused_in_korean(signed_in_as, store):
    client = signed_in_as(OWNER, "owner")
    body = {"email": "new@example.com", "role": "admin", "provider": 5}

    response = api_write(client, "POST", "/admin/api/admins", body, headers=KO)

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "bad_request",
        "message": "'provider'는 google.com 같은 로그인 방법이어야 합니다.",
    }
    assert store.admin("new@example.com") is None


def test_a_cross_site_write_is_refused_in_the_readers_language(client):
    headers = {"Sec-Fetch-Site": "cross-site", "Accept": "application/json"}

    korean = client.post("/admin/session", headers={**headers, **KO})
    page = client.post("/admin/logout", headers={"Sec-Fetch-Site": "cross-site", **KO})

    assert korean.status_code == page.status_code == 403
    assert korean.get_json() == {
        "error": "cross_site_request",
        "message": "다른 사이트에서 시작된 요청이므로 거부했습니다.",
    }
    assert "<h1>다른 사이트에서 시작된 요청이므로 거부했습니다.</h1>" in text(page)


# -- the admins page: invite form, invitation warnings, factor reset ----------

SSO = {
    "MFA_REQUIRED_ROLES": "none",
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com",
    "SIGN_IN_PROVIDER_OPTIONS": json.dumps({}),
    "SMTP_HOST": "",
    "PUBLIC_URL": "",
}
WHERE_IN_KOREAN = "관리자 로그인 페이지에서 Google(으)로 로그인하십시오."
NOT_SENT_IN_KOREAN = (
    "이메일을 보내지 않았습니다(SMTP_HOST와 PUBLIC_URL이 필요합니다). "
    f"해당 관리자에게 다음과 같이 알려 주십시오: {WHERE_IN_KOREAN}"
)


@pytest.mark.parametrize("config", [base_config(**SSO)])
def test_the_invite_form_and_its_warning_speak_korean(signed_in_as, store):
    owner = signed_in_as(OWNER, "owner", locale="ko")
    page = text(owner.get("/admin/admins"))
    assert ">로그인 방법</label>" in page
    assert '<option selected value="password">이메일과 비밀번호</option>' in page

    response = post_form(
        owner,
        "/admin/admins",
        {"email": "new@example.com", "role": "admin", "provider": "google.com"},
    )

    shown = flashed(owner, response)
    assert NOT_SENT_IN_KOREAN in shown
    assert "tell them" not in shown and "Sign in with" not in shown
    assert store.admin("new@example.com") is not None


@pytest.mark.parametrize("config", [base_config(**SSO)])
def test_the_apis_invitation_warning_follows_accept_language(signed_in_as):
    owner = signed_in_as(OWNER, "owner")
    body = {"role": "admin", "provider": "google.com"}

    korean = api_write(owner, "POST", "/admin/api/admins", {**body, "email": "a@example.com"}, KO)
    english = api_write(owner, "POST", "/admin/api/admins", {**body, "email": "b@example.com"}, EN)

    assert korean.status_code == english.status_code == 201
    assert korean.get_json()["warning"] == NOT_SENT_IN_KOREAN
    assert english.get_json()["warning"] == (
        "No email was sent (that needs SMTP_HOST and PUBLIC_URL); tell them: "
        "Sign in with Google at the admin sign-in page."
    )


def test_the_factor_reset_notice_is_korean(signed_in_as):
    signed_in_as(STAFF, "admin")
    owner = signed_in_as(OWNER, "owner", locale="ko")

    response = post_form(owner, f"/admin/admins/{STAFF}/reset-factors")

    shown = flashed(owner, response)
    assert f"{STAFF}의 2단계 인증 수단을 초기화했습니다(" in shown
    assert "second factors are reset" not in shown


# -- names the app gives second factors ----------------------------------------


def test_a_factor_the_admin_did_not_name_is_shown_with_a_korean_name(signed_in_as, store):
    client = signed_in_as(OWNER, "owner", locale="ko")
    [totp] = [f for f in store.factors(OWNER) if f["kind"] == "totp"]
    assert totp["name"] == "Authenticator app"  # stored as data, in English

    html = text(client.get("/admin/security"))
    assert 'value="인증 앱"' in html and 'value="Authenticator app"' not in html

    # A name the admin chose is theirs, shown as written.
    post_form(client, f"/admin/security/factors/{totp['id']}/rename", {"name": "My phone"})
    assert 'value="My phone"' in text(client.get("/admin/security"))


# -- the example product page ---------------------------------------------------


@pytest.mark.parametrize("config", [base_config(ADMINAPP_BLUEPRINTS="adminapp_notes:bp")])
def test_the_example_page_speaks_korean_from_its_own_catalog(signed_in_as):
    # The product's strings are in its catalog (inside its package), none in
    # adminapp's: the Korean below can only have come from the product's.
    own = catalogs.translations(catalogs.compiled_directory(), "ko")
    assert own.gettext("No notes yet.") == "No notes yet."
    assert own.gettext("Note added.") == "Note added."
    client = signed_in_as(STAFF, "admin", locale="ko")

    page = text(client.get("/admin/notes/"))
    assert 'aria-current="page">메모</a>' in page
    assert "<h1>메모</h1>" in page and "아직 메모가 없습니다." in page
    assert "<h2>메모 추가</h2>" in page

    empty = post_form(client, "/admin/notes/", {"text": ""})
    assert empty.status_code == 400 and "내용을 입력하십시오." in text(empty)
    added = post_form(client, "/admin/notes/", {"text": "금요일 배포"})
    assert "메모를 추가했습니다." in flashed(client, added)
