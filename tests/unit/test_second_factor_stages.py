"""The second factor's stages and the step-up rule (adminapp/services/mfa/stages.py),
on plain records: no emulator, so every branch is cheap to state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.config import load_settings
from adminapp.domain.admins import Admin
from adminapp.domain.sessions import SessionRecord
from adminapp.services.mfa.refusals import AlreadyEnrolled, StepUpRequired
from adminapp.services.mfa.stages import (
    Proof,
    Stage,
    require_may_add_factor,
    stage_of,
    step_up_due,
)
from tests.support.settings import development

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SETTINGS = load_settings(development())  # every role needs a second factor, 10-minute window
SESSION = SessionRecord(
    key="k" * 64,
    uid="uid-1",
    email="a@example.com",
    created_at=NOW,
    last_seen_at=NOW,
    expires_at=NOW + timedelta(hours=12),
    auth_time=NOW,
    auth_checked_at=NOW,
)
ADMIN = Admin(email="a@example.com", role="admin")


def session(**changes) -> SessionRecord:
    return replace(SESSION, **changes)


def admin(**changes) -> Admin:
    return replace(ADMIN, **changes)


@pytest.mark.parametrize(
    ("record", "who", "stage"),
    [
        (session(mfa_pending=True), admin(), Stage.ENROL),
        (session(mfa_pending=True), admin(second_factors=1), Stage.CHALLENGE),
        (session(mfa_factor="totp", mfa_verified_at=NOW), admin(second_factors=1), Stage.FULL),
        # A full session that never proved a factor, for a role that needs one.
        (session(), admin(second_factors=1), Stage.SIGN_IN_AGAIN),
        (session(), admin(role="viewer"), Stage.SIGN_IN_AGAIN),
    ],
)
def test_stage_of(record, who, stage):
    assert stage_of(record, who, SETTINGS) is stage
    assert stage.pending == record.mfa_pending


def test_a_role_that_needs_no_factor_is_full_without_one():
    settings = replace(SETTINGS, mfa_required_roles=frozenset({"owner"}))
    assert stage_of(session(), admin(), settings) is Stage.FULL


@pytest.mark.parametrize(
    ("proof", "who", "due"),
    [
        (Proof(at=NOW - timedelta(minutes=9)), admin(second_factors=1), False),
        (Proof(at=NOW - timedelta(minutes=11)), admin(second_factors=1), True),
        (Proof(at=None), admin(second_factors=1), True),
        # A service account: an operator vouched for it; nothing to prove.
        (Proof(at=None, standing=True), admin(), False),
        # A bearer token without a trusted factor, for a role that needs one.
        (Proof(at=None), admin(), True),
    ],
)
def test_step_up_due(proof, who, due):
    assert step_up_due(proof, who, SETTINGS, NOW) is due


def test_nothing_to_prove_without_a_factor_for_a_role_that_needs_none():
    settings = replace(SETTINGS, mfa_required_roles=frozenset())
    assert step_up_due(Proof(at=None), admin(), settings, NOW) is False
    assert step_up_due(Proof(at=None), admin(second_factors=1), settings, NOW) is True


def test_the_first_factor_of_a_pending_session_needs_no_proof():
    require_may_add_factor(session(mfa_pending=True), admin(), SETTINGS, NOW)


def test_a_pending_session_cannot_add_over_an_existing_factor():
    with pytest.raises(AlreadyEnrolled):
        require_may_add_factor(session(mfa_pending=True), admin(second_factors=1), SETTINGS, NOW)


def test_a_full_session_adds_a_factor_only_with_a_fresh_proof():
    fresh = session(mfa_factor="totp", mfa_verified_at=NOW - timedelta(minutes=1))
    stale = session(mfa_factor="totp", mfa_verified_at=NOW - timedelta(minutes=11))
    require_may_add_factor(fresh, admin(second_factors=1), SETTINGS, NOW)
    with pytest.raises(StepUpRequired):
        require_may_add_factor(stale, admin(second_factors=1), SETTINGS, NOW)
    # A step-up since the sign-in counts as the last proof.
    stepped_up = replace(stale, mfa_step_up_at=NOW - timedelta(minutes=2))
    require_may_add_factor(stepped_up, admin(second_factors=1), SETTINGS, NOW)
