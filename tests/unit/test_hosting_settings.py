"""The settings of running on Firebase Hosting and Cloud Run: the cookie
mode, the log format, the CPU allocation and the sessions' retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adminapp.config import load_settings, log_format_of
from adminapp.logs import gunicorn_logconfig
from tests.support.settings import development, production, refusal


def test_defaults_change_nothing_off_cloud_run():
    settings = load_settings(production())
    assert settings.cookie_mode == "standard"
    assert settings.log_format == "text"
    assert settings.cloud_run_cpu == "always"
    assert settings.session_retention == timedelta(days=7)


def test_on_cloud_run_production_logs_json_and_assumes_cpu_only_during_requests():
    settings = load_settings(production(K_SERVICE="adminapp"))
    assert settings.log_format == "json"
    assert settings.cloud_run_cpu == "request"
    # Development on a machine that happens to set K_SERVICE keeps text.
    assert load_settings(development(K_SERVICE="adminapp")).log_format == "text"


def test_each_default_gives_way_to_the_setting():
    settings = load_settings(
        production(
            K_SERVICE="adminapp",
            LOG_FORMAT="text",
            CLOUD_RUN_CPU="always",
            COOKIE_MODE="hosting",
            SESSION_RETENTION_DAYS="30",
        )
    )
    assert (settings.log_format, settings.cloud_run_cpu) == ("text", "always")
    assert settings.cookie_mode == "hosting"
    assert settings.session_retention == timedelta(days=30)
    assert load_settings(development(LOG_FORMAT="json")).log_format == "json"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COOKIE_MODE", "firebase"),
        ("LOG_FORMAT", "xml"),
        ("CLOUD_RUN_CPU", "sometimes"),
        ("SESSION_RETENTION_DAYS", "-1"),
        ("SESSION_RETENTION_DAYS", "1.5"),
    ],
)
def test_a_wrong_value_names_the_setting(name, value):
    assert name in refusal(production(**{name: value}))


def test_gunicorn_logs_as_the_app_does():
    """gunicorn.conf.py reads the same rule before the app loads."""
    assert log_format_of({"ADMINAPP_ENV": "production", "K_SERVICE": "x"}) == "json"
    assert log_format_of({"K_SERVICE": "x"}) == "json"  # production is the default
    assert log_format_of({"ADMINAPP_ENV": "development", "K_SERVICE": "x"}) == "text"
    assert log_format_of({}) == "text"
    assert gunicorn_logconfig("text") is None
    config = gunicorn_logconfig("json")
    assert config["loggers"]["gunicorn.error"]["handlers"] == ["json"]
