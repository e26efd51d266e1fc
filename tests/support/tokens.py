"""Production-mode Firebase ID tokens: RS256-signed with a test key whose
certificate we serve at Google's public-key URL (requests-mock), and a fake
``accounts:lookup`` for the revocation check.

No emulator can sign real tokens or play a disabled or revoked account in
production mode, so this is the one place where Firebase Auth is mocked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERT_URL = (
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
)
LOOKUP_URL = "https://identitytoolkit.googleapis.com/v1/projects/{project}/accounts:lookup"
ISSUER = "https://securetoken.google.com/"


def _key_and_certificate() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken test key")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class TokenFactory:
    """Mint ID tokens the way Google's securetoken service does."""

    project_id: str
    kid: str = "test-kid-1"
    key: rsa.RSAPrivateKey = field(init=False)
    certificate: str = field(init=False)

    def __post_init__(self):
        self.key, self.certificate = _key_and_certificate()

    def claims(self, uid: str, email: str, **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": ISSUER + self.project_id,
            "aud": self.project_id,
            "sub": uid,
            "user_id": uid,
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
            "email": email,
            "email_verified": True,
            "firebase": {"sign_in_provider": "password", "identities": {"email": [email]}},
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict, *, key=None, kid: str | None = None, alg: str = "RS256") -> str:
        headers = {"kid": kid or self.kid}
        if alg == "none":
            return jwt.encode(claims, None, algorithm="none", headers=headers)
        return jwt.encode(claims, key or self.key, algorithm=alg, headers=headers)

    def serve(self, mocker) -> None:
        """Publish our certificate where the Admin SDK fetches Google's."""
        mocker.get(CERT_URL, json={self.kid: self.certificate})

    def account(
        self, mocker, uid: str, email: str, *, disabled: bool = False, valid_since: int = 0
    ):
        """Answer the Admin SDK's user lookup (made for the revocation check)."""
        return mocker.post(
            LOOKUP_URL.format(project=self.project_id),
            json={
                "kind": "identitytoolkit#GetAccountInfoResponse",
                "users": [
                    {
                        "localId": uid,
                        "email": email,
                        "emailVerified": True,
                        "disabled": disabled,
                        "validSince": str(valid_since or int(time.time()) - 3600),
                    }
                ],
            },
        )


def other_key() -> rsa.RSAPrivateKey:
    return _key_and_certificate()[0]
