"""The few Identity Toolkit REST calls the Admin SDK does not offer.

Password reset codes ("oob codes") are sent, checked and spent through the
public REST API with the project's Web API key, as the JS SDK would:
``accounts:sendOobCode`` and ``accounts:resetPassword``. Every call has a
timeout and is counted as a Firebase Auth round trip; "Firebase did not
answer" (timeout, connection error, 5xx) becomes ``BackendUnavailable``.
Firebase's own refusals become the typed errors below.
"""

from __future__ import annotations

import requests

from ..config import Settings
from .backend import FirebaseBackend

PRODUCTION_BASE = "https://identitytoolkit.googleapis.com/v1"


class ToolkitError(Exception):
    """Firebase refused the call; ``code`` is its error code (for logs)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class EmailNotFound(ToolkitError):
    pass


class TooManyResets(ToolkitError):
    """RESET_PASSWORD_EXCEED_LIMIT: Firebase's own per-address limit."""


class ExpiredCode(ToolkitError):
    pass


class InvalidCode(ToolkitError):
    """Unknown, malformed or already used."""


class WeakPassword(ToolkitError):
    def __init__(self, code: str, detail: str):
        super().__init__(code)
        self.detail = detail


_ERRORS = {
    "EMAIL_NOT_FOUND": EmailNotFound,
    "RESET_PASSWORD_EXCEED_LIMIT": TooManyResets,
    "EXPIRED_OOB_CODE": ExpiredCode,
    "INVALID_OOB_CODE": InvalidCode,
    # A code for another project or of another kind is as good as unknown.
    "INVALID_ACTION_CODE": InvalidCode,
}


class IdentityToolkit:
    def __init__(self, backend: FirebaseBackend, settings: Settings):
        self._backend = backend
        self._settings = settings
        if settings.auth_emulator_host:
            self.base_url = (
                f"http://{settings.auth_emulator_host}/identitytoolkit.googleapis.com/v1"
            )
        else:
            self.base_url = PRODUCTION_BASE

    def send_password_reset(
        self, email: str, continue_url: str | None, locale: str | None = None
    ) -> None:
        """Have Firebase email its own password reset message, in ``locale``
        (Firebase picks the template's translation by ``X-Firebase-Locale``)."""
        body = {"requestType": "PASSWORD_RESET", "email": email}
        if continue_url:
            body["continueUrl"] = continue_url
        headers = {"X-Firebase-Locale": locale} if locale else None
        self._post("accounts:sendOobCode", body, headers=headers)

    def check_reset_code(self, code: str) -> str:
        """The email a password reset code belongs to; the code stays valid.

        Firebase answers this for any kind of code (verify an email, change
        an email, …) and says which in ``requestType``: only a password
        reset code may lead to the new-password form."""
        payload = self._post("accounts:resetPassword", {"oobCode": code})
        if payload.get("requestType") != "PASSWORD_RESET":
            raise InvalidCode("NOT_A_PASSWORD_RESET_CODE")
        return _email_of(payload)

    def reset_password(self, code: str, new_password: str) -> str:
        """Spend the code to set a new password; returns the account's email."""
        body = {"oobCode": code, "newPassword": new_password}
        return _email_of(self._post("accounts:resetPassword", body))

    def _post(self, method: str, body: dict, *, headers: dict | None = None) -> dict:
        if self._settings.tenant_id:
            # The staff's accounts, and so their codes, live in this tenant.
            body = {**body, "tenantId": self._settings.tenant_id}
        with self._backend.auth_call(method):
            response = requests.post(
                f"{self.base_url}/{method}",
                params={"key": self._settings.web_api_key},
                json=body,
                headers=headers,
                timeout=self._settings.backend_timeout,
            )
            if response.status_code >= 500:
                response.raise_for_status()  # HTTPError: Firebase is down
        if response.status_code != 200:
            raise _refusal(response)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ToolkitError("MALFORMED_RESPONSE")
        return payload


def _email_of(payload: dict) -> str:
    email = payload.get("email")
    if not isinstance(email, str) or not email:
        raise ToolkitError("MALFORMED_RESPONSE")
    return email


def _refusal(response: requests.Response) -> ToolkitError:
    """Firebase's error message looks like ``CODE`` or ``CODE : detail``."""
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"HTTP_{response.status_code}"
    code, _, detail = message.partition(":")
    code = code.strip()
    if code == "WEAK_PASSWORD":
        return WeakPassword(code, detail.strip())
    return _ERRORS.get(code, ToolkitError)(code)
