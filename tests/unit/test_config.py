"""Start-up refuses incomplete or unsafe settings, naming the setting."""

from __future__ import annotations

import json
import secrets

import pytest

from adminapp import ConfigError, create_app
from adminapp.config import PUBLISHED_SECRETS, load_settings
from tests.support.settings import STRONG, development, production, refusal

EMULATORS = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


def test_complete_production_settings_load():
    settings = load_settings(production())
    assert settings.production and not settings.emulated
    assert settings.cookie_secure
    assert settings.signing_keys == [STRONG]


def test_development_on_demo_project_with_emulators_loads():
    settings = load_settings(development())
    assert settings.emulated and not settings.production


def test_production_is_the_default_mode():
    config = production()
    del config["ADMINAPP_ENV"]
    assert load_settings(config).production


@pytest.mark.parametrize(
    "name",
    [
        "FIREBASE_PROJECT_ID",
        "SECRET_KEY",
        "FIREBASE_WEB_API_KEY",
        "FIREBASE_AUTH_DOMAIN",
        "PUBLIC_URL",
    ],
)
def test_missing_production_setting_is_named(name):
    config = production()
    del config[name]
    assert name in refusal(config)


def test_short_secret_key_is_refused():
    message = refusal(production(SECRET_KEY="x" * 31))
    assert "SECRET_KEY" in message and "32 bytes" in message


def test_short_fallback_key_is_refused():
    message = refusal(production(SECRET_KEY_FALLBACKS=f"{STRONG},short"))
    assert "SECRET_KEY_FALLBACKS (key 2)" in message


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("s" * 32, id="one-character"),
        pytest.param("ab" * 24, id="two-characters"),
        pytest.param("abcdefg" * 6, id="too-few-different"),
        pytest.param("0123456789abcdef" * 3, id="a-repeated-pattern"),
    ],
)
def test_secret_key_of_low_variety_is_refused(key):
    message = refusal(production(SECRET_KEY=key))
    assert message.startswith("SECRET_KEY has too little variety")
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize("key", sorted(PUBLISHED_SECRETS))
def test_published_example_keys_are_refused(key):
    assert "published" in refusal(production(SECRET_KEY=key))
    assert "SECRET_KEY_FALLBACKS (key 1)" in refusal(production(SECRET_KEY_FALLBACKS=key))


def test_keys_from_the_generators_the_docs_name_are_accepted():
    for key in (secrets.token_urlsafe(48), secrets.token_urlsafe(24), secrets.token_hex(16)):
        assert load_settings(production(SECRET_KEY=key)).secret_key == key


def test_a_low_variety_fallback_key_is_refused_with_its_position():
    message = refusal(production(SECRET_KEY_FALLBACKS=f"{STRONG},{'x' * 40}"))
    assert "SECRET_KEY_FALLBACKS (key 2) has too little variety" in message


def test_fallback_keys_verify_and_current_key_signs():
    old, older = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    settings = load_settings(production(SECRET_KEY_FALLBACKS=f"{older}, {old}"))
    assert settings.signing_keys == [older, old, STRONG]


# Every combination of emulator variables, project id and mode: start-up is
# allowed only for a demo- project outside production.
@pytest.mark.parametrize("variables", [(name,) for name in EMULATORS] + [EMULATORS])
@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize("project", ["demo-adminapp", "acme-prod"])
def test_emulator_variables_need_demo_project_outside_production(variables, environment, project):
    config = production(ADMINAPP_ENV=environment, FIREBASE_PROJECT_ID=project)
    config.update({name: "127.0.0.1:9999" for name in variables})
    if environment == "development" and project.startswith("demo-"):
        assert load_settings(config).emulated
    else:
        message = refusal(config)
        assert all(name in message for name in variables)


def test_emulator_variable_in_process_environment_counts_even_if_config_omits_it(monkeypatch):
    # The Firebase SDKs read os.environ, so the safety check must too.
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    assert "FIREBASE_AUTH_EMULATOR_HOST" in refusal(production(FIREBASE_AUTH_EMULATOR_HOST=""))


def test_insecure_cookie_refused_in_production():
    assert "SESSION_COOKIE_SECURE" in refusal(production(SESSION_COOKIE_SECURE="false"))


def test_insecure_cookie_allowed_in_development():
    assert not load_settings(development(SESSION_COOKIE_SECURE="false")).cookie_secure


def test_plain_http_public_url_refused_in_production():
    assert "PUBLIC_URL" in refusal(production(PUBLIC_URL="http://admin.acme.example"))


@pytest.mark.parametrize(
    "value", ["admin.acme.example", "ftp://x.example", "https://", "https://a.example/?x=1"]
)
def test_malformed_public_url_is_named(value):
    assert "PUBLIC_URL" in refusal(production(PUBLIC_URL=value))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMINAPP_ENV", "staging"),
        ("SESSION_COOKIE_SECURE", "maybe"),
        ("SESSION_LIFETIME_MINUTES", "twelve hours"),
        ("SESSION_IDLE_MINUTES", "0"),
        ("BACKEND_TIMEOUT_SECONDS", "600"),
        ("REQUIRE_EMAIL_VERIFIED", "perhaps"),
        ("SIGN_IN_RATE_LIMIT", "ten a minute"),
        ("API_BEARER_RATE_LIMIT", "lots"),
    ],
)
def test_malformed_values_are_named(name, value):
    assert name in refusal(production(**{name: value}))


def test_activity_interval_must_be_shorter_than_idle_timeout():
    message = refusal(production(SESSION_IDLE_MINUTES="5", SESSION_ACTIVITY_MINUTES="5"))
    assert "SESSION_ACTIVITY_MINUTES" in message


def test_credentials_file_must_exist(tmp_path):
    message = refusal(production(FIREBASE_CREDENTIALS=str(tmp_path / "missing.json")))
    assert "FIREBASE_CREDENTIALS" in message


def test_credentials_file_must_be_a_service_account_key(tmp_path):
    path = tmp_path / "user.json"
    path.write_text(json.dumps({"type": "authorized_user"}))
    assert "service-account" in refusal(production(FIREBASE_CREDENTIALS=str(path)))


def test_create_app_refuses_to_start_with_unsafe_settings():
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        create_app(production(FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099"))


def test_secrets_do_not_appear_in_the_settings_repr():
    settings = load_settings(production(SMTP_PASSWORD="smtp-secret"))
    assert STRONG not in repr(settings)


def test_smtp_settings_are_read_in_firebase_mode_when_a_server_is_named():
    # Password-change notices go through SMTP in either delivery mode.
    assert load_settings(production()).smtp.host == ""
    assert "MAIL_FROM" in refusal(production(SMTP_HOST="mail.example.com"))
    settings = load_settings(
        production(SMTP_HOST="mail.example.com", MAIL_FROM="Admin <no-reply@example.com>")
    )
    assert settings.reset_delivery == "firebase"
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example.com", 587)


# -- rate limits and worker processes (gunicorn.conf.py sets WEB_CONCURRENCY) --


def test_memory_rate_limits_with_several_workers_are_refused_in_production():
    message = refusal(production(RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="2"))
    assert "RATELIMIT_STORAGE_URI=memory://" in message and "WEB_CONCURRENCY=2" in message
    assert "redis://" in message and "WEB_CONCURRENCY=1" in message
    assert "WEB_CONCURRENCY" in refusal(production(WEB_CONCURRENCY="4"))  # memory:// is the default


@pytest.mark.parametrize(
    "settings",
    [
        {"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": "1"},
        {"RATELIMIT_STORAGE_URI": "memory://"},  # worker count not said: flask CLI
        {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "WEB_CONCURRENCY": "8"},
    ],
)
def test_one_worker_or_shared_rate_limits_load_in_production(settings):
    assert load_settings(production(**settings)).ratelimit_storage_uri


def test_development_may_run_several_workers_on_memory_rate_limits():
    load_settings(development(RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="2"))


@pytest.mark.parametrize("value", ["0", "two", "1.5", "1000"])
def test_bad_worker_count_is_named(value):
    assert "WEB_CONCURRENCY" in refusal(production(WEB_CONCURRENCY=value))


def test_language_and_time_zone_defaults():
    settings = load_settings(production())
    assert (settings.default_locale, settings.default_timezone) == ("en", "UTC")
    seoul = load_settings(production(DEFAULT_LOCALE="ko", DEFAULT_TIMEZONE="Asia/Seoul"))
    assert (seoul.default_locale, seoul.default_timezone) == ("ko", "Asia/Seoul")


def test_a_language_without_a_catalog_is_refused_by_name():
    assert "DEFAULT_LOCALE='fr'" in refusal(production(DEFAULT_LOCALE="fr"))


@pytest.mark.parametrize("zone", ["KST", "Mars/Olympus", "+09:00"])
def test_a_time_zone_that_is_not_an_iana_name_is_refused_by_name(zone):
    assert f"DEFAULT_TIMEZONE={zone!r}" in refusal(production(DEFAULT_TIMEZONE=zone))
