"""Security events: one structured log line each, and no secret in any log."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER, after_the_admin_read, rewrite_claims
from tests.support.settings import PROJECT_ID, base_config
from tests.support.web import SESSION_COOKIE, exchange, post_form, session_cookie, sign_in

JSON = {"Accept": "application/json"}


@pytest.fixture
def logs(caplog):
    """Every record of every logger, from DEBUG up."""
    caplog.set_level(logging.DEBUG)
    return caplog


def events(caplog, name: str) -> list[dict]:
    lines = []
    for record in caplog.records:
        if record.name != "adminapp.security":
            continue
        line = json.loads(record.getMessage())  # every line is JSON
        if line["event"] == name:
            lines.append(line)
    return lines


def assert_linked(line: dict) -> None:
    """A line of an entry names the request that wrote it and the entry's
    link in the audit chain (adminapp/firebase/audit_chain.py); both are
    taken off the line for the comparisons that follow."""
    assert re.fullmatch(r"[0-9a-f]{32}", line.pop("request_id"))
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}\.records:\d{12}", line.pop("link"))


def everything_logged(caplog) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_sign_in_and_sign_out_are_logged_once_without_secrets(client, auth_emulator, owner, logs):
    token = auth_emulator.sign_in(OWNER)
    assert exchange(client, token).status_code == 200
    cookie = session_cookie(client).value
    assert post_form(client, "/admin/logout").status_code == 302

    [signed_in] = events(logs, "sign_in")
    assert_linked(signed_in)
    assert signed_in == {
        "event": "sign_in",
        "actor": OWNER,
        "outcome": "ok",
        "reason": "second_factor_pending",  # gate 2 opened a pending session
        "ip": "127.0.0.1",
    }
    [signed_out] = events(logs, "sign_out")
    assert signed_out["actor"] == OWNER
    payload = cookie.split(".")[0]
    [session_id, _email] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    logged = everything_logged(logs)
    for secret in (token, token.split(".")[1], cookie, payload, session_id, DEFAULT_PASSWORD):
        assert secret not in logged


def test_a_sign_in_racing_the_admins_removal_writes_nothing_and_logs_no_success(
    app, client, auth_emulator, store, logs, monkeypatch
):
    """An owner removes the admin between the sign-in's read of the admin
    document and its write: the write is refused, so is the sign-in, and the
    log does not claim it succeeded."""
    user = auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner", uid=user.uid)  # signed in before
    token = auth_emulator.sign_in(OWNER)
    after_the_admin_read(
        app, monkeypatch, lambda email: store.client.collection("admins").document(email).delete()
    )
    response = exchange(client, token)

    assert response.status_code == 409
    assert response.get_json()["message"] == "Sign-in could not be completed. Sign in again."
    assert client.get_cookie(SESSION_COOKIE) is None
    assert store.sessions() == []
    assert store.audit() == []
    assert store.admin(OWNER) is None  # not re-created by the sign-in's write
    [line] = events(logs, "sign_in")
    assert_linked(line)  # the link it would have had: that chain then ends
    assert line == {
        "event": "sign_in",
        "actor": OWNER,
        "outcome": "error",
        "error": "not_saved",
        "reason": "second_factor_pending",
        "ip": "127.0.0.1",
    }


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        pytest.param(
            lambda a, s: a.create_user("stranger@example.com"), "not_admin", id="not-admin"
        ),
        pytest.param(
            lambda a, s: (
                a.create_user("stranger@example.com"),
                s.add_admin("stranger@example.com", disabled=True),
            ),
            "admin_disabled",
            id="disabled-admin",
        ),
        pytest.param(
            lambda a, s: a.create_user("stranger@example.com", verified=False),
            "email_unverified",
            id="unverified",
        ),
    ],
)
def test_refused_sign_in_is_logged_once_with_its_reason(
    client, auth_emulator, store, logs, arrange, reason
):
    arrange(auth_emulator, store)
    token = auth_emulator.sign_in("stranger@example.com")
    exchange(client, token)
    [line] = events(logs, "sign_in")
    assert line["outcome"] == "refused"
    assert line["reason"] == reason
    assert token not in everything_logged(logs)


def test_forged_token_is_logged_without_the_token(client, auth_emulator, owner, logs):
    stale = rewrite_claims(auth_emulator.sign_in(OWNER), auth_time=int(time.time()) - 3600)
    exchange(client, stale)
    [line] = events(logs, "sign_in")
    assert (line["outcome"], line["reason"]) == ("refused", "stale_sign_in")
    assert stale not in everything_logged(logs)


def test_guard_refusals_are_logged_once_with_their_reason(
    client, auth_emulator, owner, store, logs
):
    client.set_cookie(SESSION_COOKIE, "forged.cookie.value")
    client.get("/admin/")
    [bad_cookie] = events(logs, "access_refused")
    assert bad_cookie["reason"] == "bad_cookie"
    assert "forged.cookie.value" not in everything_logged(logs)

    logs.clear()
    sign_in(client, auth_emulator, OWNER)
    cookie = session_cookie(client).value
    [session] = store.sessions(email=OWNER)
    store.update_session(session["id"], last_seen_at=datetime.now(UTC) - timedelta(hours=1))
    client.get("/admin/", headers=JSON)
    [idle] = events(logs, "access_refused")
    assert (idle["reason"], idle["actor"]) == ("session_idle", OWNER)
    logged = everything_logged(logs)
    assert cookie not in logged and session["id"] not in logged


def test_rate_limit_hit_is_logged(client, clean, logs):
    for _ in range(11):
        response = exchange(client, None)
    assert response.status_code == 429
    [line] = events(logs, "rate_limited")
    assert line["path"] == "/admin/session"


# -- LOG_FORMAT=json: the same guarantees in Cloud Logging's form ------------

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLOUD_TRACE = {"X-Cloud-Trace-Context": f"{TRACE_ID}/123;o=1"}


@pytest.fixture
def json_log(logs):
    """The lines the app's JSON handler writes, parsed (each must parse)."""
    import io

    from adminapp.logs import is_ours

    [handler] = [h for h in logging.getLogger().handlers if is_ours(h)]
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines() -> list[dict]:
        text = stream.getvalue()
        return [json.loads(line) for line in text.splitlines()], text

    yield lines
    handler.setStream(previous)
    logging.getLogger().removeHandler(handler)  # the other tests write text


@pytest.mark.parametrize("config", [base_config(LOG_FORMAT="json")])
def test_json_lines_carry_severity_trace_request_and_audit_fields_and_no_secret(
    client, auth_emulator, owner, json_log
):
    token = auth_emulator.sign_in(OWNER)
    assert exchange(client, token).status_code == 200
    pending = session_cookie(client).value
    sign_in(client, auth_emulator, OWNER)
    cookie = session_cookie(client).value
    assert client.get("/admin/?tab=1", headers=CLOUD_TRACE).status_code == 200
    client.get("/admin/resetpassword/confirm?oobCode=SECRET-RESET-CODE-123", headers=CLOUD_TRACE)
    logging.getLogger("adminapp").warning("link was /c?oobCode=SECRET-RESET-CODE-123")
    assert post_form(client, "/admin/logout").status_code == 302

    lines, text = json_log()

    assert all(line["severity"] in ("DEBUG", "INFO", "WARNING", "ERROR") for line in lines)
    assert all(isinstance(line["message"], str) for line in lines)
    [dashboard] = [
        line
        for line in lines
        if line.get("httpRequest", {}).get("requestUrl") == "/admin/"
        and line.get("logging.googleapis.com/trace", "").endswith(TRACE_ID)
    ]
    request = dashboard["httpRequest"]
    assert (request["requestMethod"], request["status"]) == ("GET", 200)
    assert request["remoteIp"] == "127.0.0.1" and request["latency"].endswith("s")
    assert dashboard["logging.googleapis.com/trace"] == f"projects/{PROJECT_ID}/traces/{TRACE_ID}"
    assert dashboard["logging.googleapis.com/spanId"] == f"{123:016x}"
    assert dashboard["logging.googleapis.com/trace_sampled"] is True
    [signed_out] = [line for line in lines if line.get("audit", {}).get("event") == "sign_out"]
    assert signed_out["audit"]["actor"] == OWNER and signed_out["severity"] == "INFO"
    assert signed_out["message"].startswith("sign_out ok")
    # Nothing secret: the query strings are not logged, codes are redacted.
    for secret in (token, pending, cookie, DEFAULT_PASSWORD, "SECRET-RESET-CODE-123", "tab=1"):
        assert secret not in text


@pytest.mark.parametrize("config", [base_config(LOG_FORMAT="json")])
@pytest.mark.parametrize(
    ("headers", "trace", "span"),
    [
        pytest.param(
            {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-00", **CLOUD_TRACE},
            TRACE_ID,
            "b7ad6b7169203331",
            id="traceparent-first",
        ),
        pytest.param(
            {"X-Cloud-Trace-Context": f'{TRACE_ID}/1"}}, "severity": "ERROR'},
            None,
            None,
            id="injected",
        ),
        pytest.param(
            {"traceparent": "00-" + "0" * 32 + "-b7ad6b7169203331-01"}, None, None, id="zero-id"
        ),
        pytest.param({"X-Cloud-Trace-Context": "not-a-trace"}, None, None, id="garbage"),
    ],
)
def test_only_well_formed_trace_headers_reach_a_line(client, clean, json_log, headers, trace, span):
    client.get("/healthz", headers=headers)

    lines, _text = json_log()
    [line] = [line for line in lines if line.get("httpRequest", {}).get("requestUrl") == "/healthz"]
    assert line["severity"] == "INFO"
    if trace is None:
        assert "logging.googleapis.com/trace" not in line
    else:
        assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT_ID}/traces/{trace}"
        assert line["logging.googleapis.com/spanId"] == span
        assert line["logging.googleapis.com/trace_sampled"] is False


def test_text_is_the_default_and_writes_no_request_lines(client, clean, logs):
    from adminapp.logs import is_ours

    client.get("/healthz", headers=CLOUD_TRACE)

    assert not any(is_ours(h) for h in logging.getLogger().handlers)
    assert not [r for r in logs.records if r.name == "adminapp.request"]
