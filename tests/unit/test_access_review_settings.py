"""The monthly access review's settings: working hours and days, and what
counts as a bulk lookup; sensible defaults, and errors that name the setting.
Also the working-hours rule itself, at its edges."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from adminapp.config import load_settings
from adminapp.domain.working_hours import WorkingHours
from tests.support.settings import development, refusal

SEOUL = ZoneInfo("Asia/Seoul")


def test_the_defaults():
    settings = load_settings(development())
    assert settings.working_hours == (time(9), time(18))
    assert settings.working_days == frozenset(range(5))
    assert settings.access_bulk_subjects == 100
    assert settings.access_bulk_window == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("MON,wed, fri", {0, 2, 4}),
        ("mon-thu,sat", {0, 1, 2, 3, 5}),
        ("sun", {6}),
    ],
)
def test_working_days(value, days):
    assert load_settings(development(WORKING_DAYS=value)).working_days == frozenset(days)


@pytest.mark.parametrize("value", ["fri-mon", "monday", "mon-", "mon-xyz", ",,", "1-5"])
def test_malformed_working_days_are_refused(value):
    assert "WORKING_DAYS" in refusal(development(WORKING_DAYS=value))


@pytest.mark.parametrize(
    "value", ["18:00-09:00", "09:00-09:00", "9-18", "09:00", "24:00-25:00", "09:60-10:00"]
)
def test_malformed_working_hours_are_refused(value):
    assert "WORKING_HOURS" in refusal(development(WORKING_HOURS=value))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCESS_BULK_SUBJECTS", "0"),
        ("ACCESS_BULK_SUBJECTS", "ten"),
        ("ACCESS_BULK_SUBJECTS", "2.5"),
        ("ACCESS_BULK_MINUTES", "0"),
        ("ACCESS_BULK_MINUTES", "1441"),
        ("ACCESS_BULK_MINUTES", "1.5"),
    ],
)
def test_bulk_lookup_bounds_are_refused_outside_their_range(name, value):
    assert name in refusal(development(**{name: value}))


def test_working_hours_include_the_start_and_exclude_the_end():
    hours = WorkingHours(time(9), time(18), frozenset(range(5)))
    wednesday = datetime(2026, 11, 4, tzinfo=SEOUL)
    assert hours.within(wednesday.replace(hour=9))
    assert hours.within(wednesday.replace(hour=17, minute=59))
    assert not hours.within(wednesday.replace(hour=18))
    assert not hours.within(wednesday.replace(hour=8, minute=59))
    assert not hours.within(datetime(2026, 11, 7, 10, tzinfo=SEOUL))  # a Saturday
