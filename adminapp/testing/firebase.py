"""Test-side clients for the emulators: real SDK calls, no mocks.

These talk to the emulators directly, independent of the app's own code, so
that tests can arrange users and documents and check what the app wrote.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import urlencode

import firebase_admin
import google.auth.credentials
import requests
from firebase_admin import auth, credentials, tenant_mgt
from google.cloud import firestore

from adminapp.testing.emulator_control import password_sign_in

HTTP_TIMEOUT = 5
DEFAULT_PASSWORD = "correct horse battery staple"  # noqa: S105  (emulator users only)
OWNER = "owner@example.com"
# The Auth emulator takes this as an administrator's credential.
_EMULATOR_OWNER = {"Authorization": "Bearer owner"}


class _Anonymous(credentials.Base):
    def get_credential(self):
        return google.auth.credentials.AnonymousCredentials()


@dataclass
class FirebaseUser:
    uid: str
    email: str
    password: str


class AuthEmulator:
    """Users and ID tokens from the real Auth emulator."""

    def __init__(self, host: str, project_id: str):
        self.host = host
        self.project_id = project_id
        name = f"tests-{host}"
        try:
            self.app = firebase_admin.get_app(name)
        except ValueError:
            self.app = firebase_admin.initialize_app(
                _Anonymous(), {"projectId": project_id}, name=name
            )

    def create_user(
        self,
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        verified: bool = True,
        disabled: bool = False,
    ) -> FirebaseUser:
        user = auth.create_user(
            email=email, password=password, email_verified=verified, disabled=disabled, app=self.app
        )
        return FirebaseUser(uid=user.uid, email=email, password=password)

    def sign_in(
        self, email: str, password: str = DEFAULT_PASSWORD, *, tenant_id: str | None = None
    ) -> str:
        """A fresh ID token, as the JS SDK would get it (from a tenant's
        users with ``tenant_id``)."""
        return password_sign_in(
            self.host, email, password, api_key="demo-api-key", tenant_id=tenant_id
        )

    # -- Firebase's own second factor (Identity Platform MFA) ------------------

    def enrol_sms_factor(self, email: str, phone: str, password: str = DEFAULT_PASSWORD) -> None:
        """Enrol an SMS second factor for a user with a verified email, as
        the JS SDK's multiFactor(user).enroll does (the emulator records the
        code it "sends")."""
        token = self.sign_in(email, password)
        start = self._post(
            "v2/accounts/mfaEnrollment:start",
            {"idToken": token, "phoneEnrollmentInfo": {"phoneNumber": phone}},
        )
        session = start["phoneSessionInfo"]["sessionInfo"]
        self._post(
            "v2/accounts/mfaEnrollment:finalize",
            {
                "idToken": token,
                "phoneVerificationInfo": {"sessionInfo": session, "code": self._sms_code(session)},
            },
        )

    def enrolment_ids(self, email: str) -> list[str]:
        """The ids of the user's Firebase MFA enrolments (what an ID token
        names in ``firebase.second_factor_identifier``)."""
        user = auth.get_user_by_email(email, app=self.app)
        return [item["mfaEnrollmentId"] for item in user._data.get("mfaInfo") or []]

    def mfa_sign_in(self, email: str, phone: str, password: str = DEFAULT_PASSWORD) -> str:
        """An ID token from a sign-in with the password and the enrolled SMS
        factor: Firebase puts ``firebase.sign_in_second_factor`` in it."""
        first = self._post(
            "v1/accounts:signInWithPassword",
            {"email": email, "password": password, "returnSecureToken": True},
        )
        pending, [factor] = first["mfaPendingCredential"], first["mfaInfo"]
        start = self._post(
            "v2/accounts/mfaSignIn:start",
            {
                "mfaPendingCredential": pending,
                "mfaEnrollmentId": factor["mfaEnrollmentId"],
                "phoneSignInInfo": {"phoneNumber": phone},
            },
        )
        session = start["phoneResponseInfo"]["sessionInfo"]
        done = self._post(
            "v2/accounts/mfaSignIn:finalize",
            {
                "mfaPendingCredential": pending,
                "phoneVerificationInfo": {"sessionInfo": session, "code": self._sms_code(session)},
            },
        )
        return done["idToken"]

    def _post(self, path: str, body: dict) -> dict:
        response = requests.post(
            f"{self._toolkit}/{path}",
            params={"key": "demo-api-key"},
            json=body,
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return response.json()

    def _sms_code(self, session_info: str) -> str:
        response = requests.get(
            f"http://{self.host}/emulator/v1/projects/{self.project_id}/verificationCodes",
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        codes = response.json().get("verificationCodes", [])
        return next(c["code"] for c in reversed(codes) if c["sessionInfo"] == session_info)

    # -- Identity Platform tenants ------------------------------------------

    def create_tenant(self, name: str = "customers") -> str:
        """A real tenant of the project, with password sign-in; its id.
        (The Admin SDK's tenant management does not talk to the emulator.)"""
        response = requests.post(
            f"{self._toolkit}/v2/projects/{self.project_id}/tenants",
            headers=_EMULATOR_OWNER,
            json={"displayName": name, "allowPasswordSignup": True},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return response.json()["tenantId"]

    def delete_tenant(self, tenant_id: str) -> None:
        requests.delete(
            f"{self._toolkit}/v2/projects/{self.project_id}/tenants/{tenant_id}",
            headers=_EMULATOR_OWNER,
            timeout=HTTP_TIMEOUT,
        ).raise_for_status()

    def create_tenant_user(
        self,
        tenant_id: str,
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        uid: str | None = None,
    ) -> FirebaseUser:
        """A user with a verified email in that tenant; ``uid`` may repeat a
        uid of the project's own users (tenants are separate user pools)."""
        user = tenant_mgt.auth_for_tenant(tenant_id, app=self.app).create_user(
            uid=uid, email=email, password=password, email_verified=True
        )
        return FirebaseUser(uid=user.uid, email=email, password=password)

    @property
    def _toolkit(self) -> str:
        return f"http://{self.host}/identitytoolkit.googleapis.com"

    def set_claims(self, uid: str, claims: dict | None) -> None:
        """Custom claims on a user, as a team's blocking function or
        directory sync sets them with the Admin SDK (None removes them)."""
        auth.set_custom_user_claims(uid, claims, app=self.app)

    def revoke(self, uid: str) -> None:
        auth.revoke_refresh_tokens(uid, app=self.app)

    def disable(self, uid: str) -> None:
        auth.update_user(uid, disabled=True, app=self.app)

    def delete(self, uid: str) -> None:
        auth.delete_user(uid, app=self.app)

    def verify_email_code(self, email: str, password: str = DEFAULT_PASSWORD) -> str:
        """A real VERIFY_EMAIL code for this user, as the JS SDK's
        sendEmailVerification asks for one (the emulator records it)."""
        requests.post(
            f"{self._toolkit}/v1/accounts:sendOobCode",
            params={"key": "demo-api-key"},
            json={"requestType": "VERIFY_EMAIL", "idToken": self.sign_in(email, password)},
            timeout=HTTP_TIMEOUT,
        ).raise_for_status()
        codes = [
            code
            for code in self.oob_codes()
            if code["requestType"] == "VERIFY_EMAIL" and code["email"] == email
        ]
        return codes[-1]["oobCode"]

    def oob_codes(self) -> list[dict]:
        response = requests.get(
            f"http://{self.host}/emulator/v1/projects/{self.project_id}/oobCodes",
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return response.json().get("oobCodes", [])

    def sign_in_with_idp(
        self,
        provider: str,
        email: str,
        *,
        sub: str | None = None,
        verified: bool | None = True,
        saml_attributes: dict | None = None,
    ) -> str:
        """A fresh ID token for a sign-in with an identity provider
        (``google.com``, ``oidc.kakao``, ``saml.acme``), as the JS SDK's
        signInWithCredential gets one. The emulator takes the provider's
        own ID token as plain JSON; ``verified=None`` leaves email_verified
        out, as some IdPs do. The user is created (or linked) on first use.
        ``saml_attributes`` (a ``saml.*`` provider) are the assertion's
        attribute statements, which the emulator hands on as the token's
        ``firebase.sign_in_attributes``, as Identity Platform does."""
        idp_claims = {"sub": sub or f"{provider}:{email}", "email": email}
        if verified is not None:
            idp_claims["email_verified"] = verified
        post_body = {"id_token": json.dumps(idp_claims), "providerId": provider}
        if saml_attributes is not None:
            post_body["SAMLResponse"] = json.dumps(
                {
                    "assertion": {
                        "subject": {"nameId": email},
                        "attributeStatements": saml_attributes,
                    }
                }
            )
        response = requests.post(
            f"{self._toolkit}/v1/accounts:signInWithIdp",
            params={"key": "demo-api-key"},
            json={
                "postBody": urlencode(post_body),
                "requestUri": "http://localhost",
                "returnSecureToken": True,
            },
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return response.json()["idToken"]

    def sms_codes(self, phone: str) -> list[str]:
        """The codes the emulator "texted" to ``phone``, oldest first."""
        response = requests.get(
            f"http://{self.host}/emulator/v1/projects/{self.project_id}/verificationCodes",
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return [
            entry["code"]
            for entry in response.json().get("verificationCodes", [])
            if entry.get("phoneNumber") == phone
        ]

    def sms_code(self, phone: str) -> str:
        return self.sms_codes(phone)[-1]

    def allow_duplicate_emails(self, allowed: bool) -> None:
        """Firebase's "Create multiple accounts for each identity provider"
        (True) or the default "Link accounts that use the same email" (False)."""
        requests.patch(
            f"http://{self.host}/emulator/v1/projects/{self.project_id}/config",
            json={"signIn": {"allowDuplicateEmails": allowed}},
            timeout=HTTP_TIMEOUT,
        ).raise_for_status()


def rewrite_claims(id_token: str, **changes) -> str:
    """An emulator token with some claims changed. The Auth emulator's tokens
    are unsigned, and the Admin SDK in emulator mode accepts unsigned tokens,
    so this is what an attacker could do against a misconfigured deployment
    and what we use to build stale or odd tokens."""
    header, payload, _signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for key, value in changes.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}."


def firestore_client(project_id: str) -> firestore.Client:
    """A Firestore client for the emulator named in FIRESTORE_EMULATOR_HOST."""
    return firestore.Client(
        project=project_id, credentials=google.auth.credentials.AnonymousCredentials()
    )


class Store:
    """Arrange and inspect the app's Firestore collections."""

    def __init__(self, client: firestore.Client):
        self.client = client

    def add_admin(self, email: str, role: str = "owner", **fields) -> None:
        self.client.collection("admins").document(email.lower()).set({"role": role, **fields})

    def admin(self, email: str) -> dict | None:
        return self.client.collection("admins").document(email.lower()).get().to_dict()

    def update_admin(self, email: str, **fields) -> None:
        self.client.collection("admins").document(email.lower()).update(fields)

    def remove_admin(self, email: str) -> None:
        self.client.collection("admins").document(email.lower()).delete()

    def sessions(self, *, spent_pending: bool = False, **where) -> list[dict]:
        """Session records. A completed sign-in leaves two: the pending one,
        ended when the second factor was proved, and the full one. The
        spent pending records are left out unless ``spent_pending``."""
        records = self._all("admin_sessions", where)
        if spent_pending:
            return records
        return [r for r in records if r.get("ended_reason") != "second_factor_passed"]

    def factors(self, email: str) -> list[dict]:
        return self._all("admin_factors", {"email": email.lower()})

    def audit(self, **where) -> list[dict]:
        return self._all("admin_audit", where)

    def update_session(self, key: str, **fields) -> None:
        self.client.collection("admin_sessions").document(key).update(fields)

    def _all(self, collection: str, where: dict) -> list[dict]:
        query = self.client.collection(collection)
        for field, value in where.items():
            query = query.where(filter=firestore.FieldFilter(field, "==", value))
        return [{"id": snap.id, **snap.to_dict()} for snap in query.stream()]


def after_the_admin_read(app, monkeypatch, action) -> None:
    """Call ``action(email)`` right after the app reads an admin document:
    a change or an outage that races the request in flight."""
    from adminapp.web.context import services

    with app.app_context():
        directory = services().directory
    # Every read of one admin goes through get_with_roles (get, too).
    read = directory.get_with_roles

    def read_then_act(email):
        found = read(email)
        action(email)
        return found

    monkeypatch.setattr(directory, "get_with_roles", read_then_act)


def token_claims(id_token: str) -> dict:
    """The claims of an ID token (not verified: for looking only)."""
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
