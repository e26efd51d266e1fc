"""The second factor's settings: read, validated, errors naming the setting."""

from __future__ import annotations

import secrets

import pytest

from adminapp import config
from adminapp.config import load_settings
from adminapp.domain.roles import ROLES
from adminapp.sealing import SealBroken, SecretBox
from tests.support.settings import development, production, refusal


def test_config_knows_the_same_roles_as_the_directory():
    assert config.ROLES == ROLES


def test_defaults_require_a_second_factor_of_every_role():
    settings = load_settings(development())
    assert settings.mfa_required_roles == frozenset(ROLES)
    assert settings.webauthn_rp_id == "localhost"
    assert load_settings(production()).webauthn_rp_id == "admin.acme.example"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "MFA_ENCRYPTION_KEY is required"),
        ("too-short", "MFA_ENCRYPTION_KEY is not 32 bytes"),
    ],
)
def test_a_missing_or_malformed_key_is_refused(value, message):
    assert message in refusal(development(MFA_ENCRYPTION_KEY=value))


def test_unknown_roles_and_ip_rp_ids_are_refused():
    assert "MFA_REQUIRED_ROLES: boss" in refusal(development(MFA_REQUIRED_ROLES="owner,boss"))
    assert "WEBAUTHN_RP_ID='127.0.0.1'" in refusal(development(WEBAUTHN_RP_ID="127.0.0.1"))
    assert "parent domain" in refusal(production(WEBAUTHN_RP_ID="evil.example"))
    assert load_settings(development(MFA_REQUIRED_ROLES="none")).mfa_required_roles == set()


def test_sealed_secrets_open_with_a_fallback_key_and_not_elsewhere():
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    sealed = SecretBox((old,)).seal(b"JBSWY3DPEHPK3PXP", "totp|f1|a@example.com")

    assert SecretBox((old, new)).open(sealed, "totp|f1|a@example.com") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(SealBroken):
        SecretBox((old, new)).open(sealed, "totp|f2|a@example.com")
    with pytest.raises(SealBroken):
        SecretBox((new,)).open(sealed, "totp|f1|a@example.com")
