"""One family of refusals: why a request, a command or a sign-in was turned down.

Modelled on firebase-admin's ``FirebaseError``: every refusal carries a
stable reason ``code`` (for logs, the audit trail and the JSON API's
``error``), a ``message`` that a person can act on, and the HTTP ``status``
that says what kind of refusal it is. Services raise them and never import
Flask; one handler in ``adminapp/web/error_pages.py`` turns any of them into
an HTML page or a JSON error, and the CLI prints the message on one line.

A subclass per family sets the status and a default code; a rule that needs
its own code (``last_owner``, ``uid_mismatch``) subclasses the family or
passes ``code=``.
"""

from __future__ import annotations


class Refused(Exception):
    """Something was refused. ``code`` is for machines, ``message`` for people."""

    status: int = 400
    code: str = "refused"
    # The heading of the HTML error page; None uses the message itself.
    title: str | None = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class InvalidInput(Refused):
    """The request or command itself is malformed (400)."""

    status = 400
    code = "bad_request"


class NotSignedIn(Refused):
    """Who is asking is unknown, or their sign-in is no longer valid (401)."""

    status = 401
    code = "unauthenticated"
    title = "Signed out"


class Forbidden(Refused):
    """Who is asking is known and may not do this (403)."""

    status = 403
    code = "forbidden"
    title = "No access"


class NotFound(Refused):
    """The thing named does not exist, or not for this caller (404)."""

    status = 404
    code = "not_found"


class Conflict(Refused):
    """The change clashes with the current state (409)."""

    status = 409
    code = "conflict"


class BackendUnavailable(Refused):
    """Firestore or Firebase Auth did not answer in time; nobody gets in (503)."""

    status = 503
    code = "service_unavailable"
    title = "Temporarily unavailable"
    # Seconds a client should wait before trying again.
    retry_after = 30

    def __init__(self, service: str, detail: str):
        super().__init__(
            f"{service} is not answering right now, so the admin area is closed. "
            "Try again in a minute."
        )
        self.service = service
        self.detail = detail
        # For logs and the audit trail: which dependency, and how it failed.
        self.cause = f"{service} unavailable: {detail}"
