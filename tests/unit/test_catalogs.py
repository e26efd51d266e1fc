"""The translation catalogs: complete, reviewed, compiled when stale, and
used for refusals and labels."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from adminapp import catalogs
from adminapp.domain.audit import EVENTS
from adminapp.errors import BackendUnavailable, InvalidInput
from adminapp.i18n_marks import N_
from adminapp.testing.catalogs import catalog_problems, extracted_ids
from adminapp.timezones import format_when, valid_zone
from adminapp.web.labels import EVENT_LABELS

ROOT = Path(__file__).resolve().parents[2]
PYBABEL = Path(sys.executable).with_name("pybabel")


def _ids(path: Path) -> set:
    with path.open("rb") as handle:
        return {
            message.id if isinstance(message.id, str) else tuple(message.id)
            for message in read_po(handle)
            if message.id
        }


def test_every_string_a_person_reads_is_in_every_catalog_translated_and_reviewed():
    """What `make translations` extracts (babel.cfg: code, templates, emails)
    must already be in every catalog, and translated and reviewed in Korean:
    a new string without a translation fails here, in `make test`. The same
    check a product runs on its own catalogs (adminapp.testing)."""
    extracted = extracted_ids(ROOT / "babel.cfg")
    assert len(extracted) > 200  # the extraction itself worked
    assert catalog_problems(catalogs.SOURCE, extracted) == []


def test_both_languages_are_offered_from_their_catalogs():
    assert set(catalogs.available_locales()) >= {"en", "ko"}
    assert catalogs.language_name("ko") == "한국어"
    assert catalogs.language_name("en") == "English"


def test_every_audit_event_has_a_label_for_the_audit_page():
    assert set(EVENT_LABELS) == set(EVENTS)


def _copy_catalogs(tmp_path: Path) -> Path:
    source = tmp_path / "translations"
    shutil.copytree(catalogs.SOURCE, source, ignore=shutil.ignore_patterns("*.mo"))
    return source


def test_missing_catalogs_are_compiled_at_start_up(tmp_path):
    source = _copy_catalogs(tmp_path)
    mo = source / "ko" / "LC_MESSAGES" / "messages.mo"
    assert not mo.exists()

    assert catalogs.compiled_directory(source) == source

    assert mo.exists()
    assert catalogs.translations(source, "ko").gettext("Sign in") == "로그인"


def test_a_catalog_older_than_its_source_is_compiled_again(tmp_path):
    source = _copy_catalogs(tmp_path)
    catalogs.compiled_directory.__wrapped__(source)
    mo = source / "ko" / "LC_MESSAGES" / "messages.mo"
    # Both times set here: copytree keeps the .po's checkout time, which may
    # be older than any "old" chosen relative to now.
    old = time.time() - 3600
    os.utime(mo.with_suffix(".po"), (old + 1800, old + 1800))
    os.utime(mo, (old, old))

    catalogs.compiled_directory.__wrapped__(source)

    assert mo.stat().st_mtime > old + 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_install_compiles_into_a_private_directory(tmp_path):
    source = _copy_catalogs(tmp_path)
    for folder in (source, *source.rglob("*")):
        if folder.is_dir():
            folder.chmod(0o555)
    try:
        target = catalogs.compiled_directory.__wrapped__(source)
    finally:
        for folder in (source, *source.rglob("*")):
            if folder.is_dir():
                folder.chmod(0o755)
    assert target != source
    assert (target / "ko" / "LC_MESSAGES" / "messages.mo").exists()


def test_a_refusal_is_translated_with_its_values_at_render_time():
    korean = catalogs.translations(catalogs.compiled_directory(), "ko").gettext
    refusal = InvalidInput(N_("limit must be between 1 and %(max)d."), params={"max": 200})

    assert refusal.message == "limit must be between 1 and 200."  # the CLI and the logs
    assert refusal.translated(korean) == "limit는 1에서 200 사이여야 합니다."
    down = BackendUnavailable("Firestore", "DeadlineExceeded")
    assert down.translated(korean).startswith("Firestore이(가) 지금 응답하지 않아")


def test_times_are_shown_in_the_zone_with_its_abbreviation_in_the_language():
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 30, 0, 5, tzinfo=UTC)
    assert format_when(moment, "ko", "Asia/Seoul") == "2026. 11. 30. 오전 9:05 KST"
    assert format_when(moment, "en", "UTC") == "Nov 30, 2026, 12:05\u202fAM UTC"
    assert format_when(moment.replace(tzinfo=None), "en", "Asia/Seoul").endswith("9:05\u202fAM KST")
    assert format_when(None, "ko", "UTC") == "—"


@pytest.mark.parametrize("name", ["Asia/Seoul", "UTC", "America/New_York"])
def test_iana_zones_are_accepted(name):
    assert valid_zone(name) == name


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "../../etc/passwd", "x" * 100, 9, None])
def test_anything_else_is_not_a_zone(name):
    assert valid_zone(name) is None
