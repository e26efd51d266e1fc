"""The access records' settings (PIPA): retention refused below a year, the
chain's key required in production and derived elsewhere."""

from __future__ import annotations

import pytest

from adminapp.config import load_settings
from tests.support.settings import development, production, refusal


@pytest.mark.parametrize(("value", "days"), [("365", 365), ("", 730), ("1500", 1500)])
def test_the_retention_defaults_to_two_years(value, days):
    config = development(ACCESS_RECORD_RETENTION_DAYS=value)
    assert load_settings(config).access_record_retention.days == days


@pytest.mark.parametrize("value", ["364", "0", "-1", "two years"])
def test_a_retention_below_a_year_is_refused(value):
    assert "ACCESS_RECORD_RETENTION_DAYS" in refusal(
        development(ACCESS_RECORD_RETENTION_DAYS=value)
    )


def test_production_requires_the_chain_key():
    assert "AUDIT_CHAIN_KEY is required in production" in refusal(production(AUDIT_CHAIN_KEY=""))
    assert "AUDIT_CHAIN_KEY is not 32 bytes" in refusal(production(AUDIT_CHAIN_KEY="short"))
    assert len(load_settings(production()).audit_chain_key) == 32


def test_outside_production_the_key_is_derived_from_the_secret_key():
    first = load_settings(development()).audit_chain_key
    assert len(first) == 32
    assert load_settings(development()).audit_chain_key == first  # stable across starts
    other = load_settings(development(SECRET_KEY=production()["SECRET_KEY"][::-1]))
    assert other.audit_chain_key != first
