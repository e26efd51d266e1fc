"""Every setting is declared once (adminapp/config/declared.py), and what
follows from the declarations stays equal to them: the Settings record, the
tables of docs/configuration.md, .env.example, and every read of a setting
in adminapp/."""

from __future__ import annotations

import ast
import dataclasses
import logging
import secrets
import shutil
from pathlib import Path

import pytest
from dotenv import dotenv_values

from adminapp import ConfigError, create_app
from adminapp.config import DECLARED, SECTIONS, Settings, SmtpSettings, load_settings
from adminapp.config.declaration import Section, Setting, check
from adminapp.config.source import Source
from devtools import settings_docs
from tests.support.settings import development, production

ROOT = Path(__file__).resolve().parents[2]
DECLARED_NAMES = {setting.name for setting in DECLARED}


# -- the docs and .env.example --


@pytest.mark.parametrize("path", [settings_docs.DOCS, settings_docs.ENV_EXAMPLE], ids=str)
def test_the_docs_are_written_from_the_declarations(path):
    diff = settings_docs.differences().get(path)
    assert diff is None, (
        f"{path.name} differs from the declarations; run make settings-docs:\n{diff}"
    )


def test_a_changed_table_row_or_env_line_is_found_and_written_anew(tmp_path, monkeypatch):
    docs, env = tmp_path / "configuration.md", tmp_path / ".env.example"
    shutil.copy(settings_docs.DOCS, docs)
    shutil.copy(settings_docs.ENV_EXAMPLE, env)
    monkeypatch.setattr(settings_docs, "DOCS", docs)
    monkeypatch.setattr(settings_docs, "ENV_EXAMPLE", env)
    monkeypatch.setattr(settings_docs, "ROOT", tmp_path)
    docs.write_text(
        docs.read_text().replace("| `USERS_PAGE_SIZE` | `50` |", "| `USERS_PAGE_SIZE` | `20` |")
    )
    env.write_text(env.read_text().replace("\nSMTP_USERNAME=\n", "\n"))

    assert set(settings_docs.differences()) == {docs, env}
    assert settings_docs.main(["--check"]) == 1
    assert settings_docs.main([]) == 0
    assert settings_docs.differences() == {}
    assert "| `USERS_PAGE_SIZE` | `50` |" in docs.read_text()
    assert "\nSMTP_USERNAME=\n" in env.read_text()


def test_every_declared_setting_has_a_row_and_an_env_line():
    docs, env = settings_docs.DOCS.read_text(), dotenv_values(settings_docs.ENV_EXAMPLE)
    for name in DECLARED_NAMES:
        assert f"| `{name}` |" in docs
        assert name in env
    assert set(env) == DECLARED_NAMES


def test_env_example_is_a_working_development_configuration():
    # What `make run` does with it: fresh keys where it leaves them empty.
    values = {
        **dotenv_values(settings_docs.ENV_EXAMPLE),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "MFA_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    }
    settings = load_settings(values)
    assert not settings.production and settings.emulated
    assert settings.project_id.startswith("demo-")


def test_secret_settings_show_no_value_in_env_example():
    env = dotenv_values(settings_docs.ENV_EXAMPLE)
    secret = [setting.name for setting in DECLARED if setting.secret]
    assert {"SECRET_KEY", "MFA_ENCRYPTION_KEY", "SMTP_PASSWORD"} <= set(secret)
    assert all(env[name] == "" for name in secret)


# -- the record --


@pytest.mark.parametrize("record", [Settings, SmtpSettings])
def test_no_field_of_the_records_carries_a_default(record):
    # The declaration holds each default, once.
    for field in dataclasses.fields(record):
        assert field.default is dataclasses.MISSING, field.name
        assert field.default_factory is dataclasses.MISSING, field.name


def with_setting(name: str, field: str | None, doc: str = "x", **options) -> tuple[Section, ...]:
    """The declarations, with one more setting at the end of the first section."""
    first, *rest = SECTIONS
    setting = Setting(name, field, Source.text, doc, **options)
    return (
        Section(first.title, *first.settings, setting, note=first.note, read_when=first.read_when),
        *rest,
    )


def without_setting(name: str) -> tuple[Section, ...]:
    return tuple(
        Section(
            section.title,
            *(setting for setting in section.settings if setting.name != name),
            note=section.note,
            read_when=section.read_when,
        )
        for section in SECTIONS
    )


def test_the_real_declarations_pass_the_check():
    check(SECTIONS, Settings)


@pytest.mark.parametrize(
    ("sections", "problem"),
    [
        pytest.param(
            with_setting("AUDIT_PAGE_SIZE", "audit_page_size"),
            "audit_page_size is no field of Settings",
            id="a-setting-without-its-field",
        ),
        pytest.param(
            without_setting("USERS_PAGE_SIZE"),
            "Settings.users_page_size is filled by no setting",
            id="a-field-without-its-setting",
        ),
        pytest.param(
            without_setting("SMTP_TIMEOUT_SECONDS"),
            "Settings.smtp.timeout is filled by no setting",
            id="a-group-field-without-its-setting",
        ),
        pytest.param(
            with_setting("LOG_LEVEL", None),
            "LOG_LEVEL is declared twice",
            id="declared-twice",
        ),
        pytest.param(
            with_setting("OTHER_LEVEL", "log_level"),
            "log_level is filled by several settings",
            id="one-field-two-settings",
        ),
        pytest.param(
            with_setting("A_KEY", None, secret=True, example="k"),
            "A_KEY is secret",
            id="a-secret-with-an-example",
        ),
        pytest.param(
            with_setting("A_NAME", None, required=True, default="y"),
            "A_NAME is required, so it has no default",
            id="required-with-a-default",
        ),
        pytest.param(
            with_setting("A_NAME", None, doc="two | cells"),
            "A_NAME's doc must be one line",
            id="a-doc-that-breaks-the-table",
        ),
    ],
)
def test_declarations_that_cannot_be_right_are_refused(sections, problem):
    with pytest.raises(TypeError, match="Settings declarations") as refused:
        check(sections, Settings)
    assert problem in str(refused.value)


def test_reading_a_name_nobody_declared_is_refused():
    with pytest.raises(LookupError, match="NOT_A_SETTING is not a declared setting"):
        Source({"NOT_A_SETTING": "x"}, {}).text("NOT_A_SETTING")


# -- secrets --


SECRET_NAMES = sorted(setting.name for setting in DECLARED if setting.secret)


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_secret_value_is_never_shown(name):
    """Neither in the record's repr nor in a refusal, whatever its shape."""
    marker = secrets.token_urlsafe(32)
    shapes = [
        marker,
        marker[:12],
        f"{marker},{marker[:12]}",
        f"redis://:{marker}@cache.internal:6379/0",
        f"{marker}@cache.internal:6379",
        f"memory://{marker}",
        f"http://{marker}",
    ]
    mail = {"SMTP_HOST": "mail.example.com", "MAIL_FROM": "a@example.com"}
    for base in (production(**mail), production(**mail, WEB_CONCURRENCY="2")):
        for value in shapes:
            try:
                shown = repr(load_settings({**base, name: value}))
            except ConfigError as refused:
                shown = str(refused)
            assert marker[:8] not in shown, (name, value, shown)


def test_no_secret_reaches_the_start_up_log(caplog):
    marker = secrets.token_urlsafe(32)
    caplog.set_level(logging.DEBUG)
    create_app(
        development(
            SECRET_KEY_FALLBACKS=marker,
            SMTP_HOST="mail.example.com",
            MAIL_FROM="a@example.com",
            SMTP_PASSWORD=marker,
            RATELIMIT_STORAGE_URI=f"memory://{marker}",
            # Logged at start-up: shows the log is captured.
            ALLOWED_SIGN_IN_PROVIDERS="password,google.com",
            TRUST_UNVERIFIED_EMAIL_PROVIDERS="google.com",
        )
    )
    assert any("TRUST_UNVERIFIED_EMAIL_PROVIDERS" in r.getMessage() for r in caplog.records)
    assert not [record for record in caplog.records if marker in record.getMessage()]


# -- every read of a setting is a read of a declared one --


def setting_reads(tree: ast.AST) -> set[str]:
    """Names read from the environment or a Source, or looked up among the
    values read, with a string literal."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _literal(node.args[0]):
            if _reads_a_setting(node.func):
                found.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and _literal(node.slice):
            key, mapping = node.slice.value, _dotted(node.value)
            # The rules' values by setting name; other "values" hold other keys.
            if mapping in ("os.environ", "environ") or (mapping == "values" and key.isupper()):
                found.add(key)
    return found


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _reads_a_setting(function: ast.AST) -> bool:
    """os.environ.get(…), os.getenv(…), and any reader of a Source: source.x(…)."""
    if _dotted(function) in ("os.getenv", "getenv"):
        return True
    return isinstance(function, ast.Attribute) and _dotted(function.value) in (
        "os.environ",
        "environ",
        "source",
    )


def test_the_scan_finds_reads_of_every_kind():
    code = """
import os
os.environ.get("A_ONE")
os.getenv("A_TWO")
os.environ["A_THREE"]
os.environ.setdefault("A_FOUR", "x")
source.text("A_FIVE")
source.minutes("A_SIX")
values["A_SEVEN"]
values["outcome"]
other.get("NOT_A_READ")
"""
    assert setting_reads(ast.parse(code)) == {
        f"A_{n}" for n in ("ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN")
    }


# Variables other programs set for their own reasons, which adminapp reads
# but an operator never sets: not settings, so not declared.
SET_BY_OTHER_PROGRAMS = frozenset({"FLASK_RUN_FROM_CLI"})  # Flask, for every flask command


# adminapp.testing (the fixtures of adminapp's tests and a product's) runs in
# a test process, never in a serving app: what it reads from the environment
# is the test run's (where the emulators are, where their npm packages are),
# not the app's settings. Only these, so that no app setting hides there.
TEST_ENVIRONMENT = frozenset(
    {
        "GRPC_VERBOSITY",
        "ADMINAPP_NODE_MODULES",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "FIRESTORE_EMULATOR_HOST",
        "PYTEST_XDIST_WORKER",  # which parallel worker this is (the emulators' log folder)
        "TMPDIR",  # a worker's own temporary directory, for the processes it starts
        "NODE_OPTIONS",  # the caller's Node options, kept beside the Auth emulator's preload
    }
)
TESTING = ROOT / "adminapp" / "testing"


def test_the_test_fixtures_read_only_the_test_environment():
    reads = set()
    for path in sorted(TESTING.rglob("*.py")):
        reads |= setting_reads(ast.parse(path.read_text(), str(path)))
    assert reads <= TEST_ENVIRONMENT, reads - TEST_ENVIRONMENT
    assert "ADMINAPP_NODE_MODULES" in reads  # the scan sees the package


def test_every_setting_read_in_adminapp_is_declared():
    reads = {}
    for path in sorted(p for p in (ROOT / "adminapp").rglob("*.py") if TESTING not in p.parents):
        for name in setting_reads(ast.parse(path.read_text(), str(path))):
            reads.setdefault(name, path.relative_to(ROOT))
    undeclared = {
        name: str(path)
        for name, path in reads.items()
        if name not in DECLARED_NAMES | SET_BY_OTHER_PROGRAMS
    }
    assert not undeclared, f"read but not declared in adminapp/config/declared.py: {undeclared}"
    # The scan sees the reads that are there (it is not looking at nothing).
    assert {"RESET_DELIVERY", "SMTP_HOST", "PUBLIC_URL"} <= set(reads)
