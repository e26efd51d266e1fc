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

Messages are English templates marked with ``N_`` (so ``pybabel extract``
finds them) with ``%(name)s`` placeholders filled from ``params``: services
stay free of Flask and of the reader's language, and the web layer shows
``translated(gettext)`` in the reader's language. ``message`` (and ``str()``)
is the English text, for the CLI and the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .i18n_marks import N_


class Refused(Exception):
    """Something was refused. ``code`` is for machines, ``message`` for people."""

    status: int = 400
    code: str = "refused"
    # The heading of the HTML error page; None uses the message itself.
    title: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        params: Mapping[str, object] | None = None,
    ):
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the reader's language (``gettext`` chooses it)."""
        text = gettext(self.template)
        return text % self.params if self.params else text

    def translated_title(self, gettext: Callable[[str], str]) -> str | None:
        return gettext(self.title) if self.title else None


class InvalidInput(Refused):
    """The request or command itself is malformed (400)."""

    status = 400
    code = "bad_request"


class NotSignedIn(Refused):
    """Who is asking is unknown, or their sign-in is no longer valid (401)."""

    status = 401
    code = "unauthenticated"
    title = N_("Signed out")


class Forbidden(Refused):
    """Who is asking is known and may not do this (403)."""

    status = 403
    code = "forbidden"
    title = N_("No access")


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
    title = N_("Temporarily unavailable")
    # Seconds a client should wait before trying again.
    retry_after = 30

    def __init__(self, service: str, detail: str):
        super().__init__(
            N_(
                "%(service)s is not answering right now, so the admin area is closed. "
                "Try again in a minute."
            ),
            params={"service": service},
        )
        self.service = service
        self.detail = detail
        # For logs and the audit trail: which dependency, and how it failed.
        self.cause = f"{service} unavailable: {detail}"


class Contended(BackendUnavailable):
    """A Firestore transaction lost every attempt to other writers of the
    same documents: nothing was written, and trying again shortly works."""

    def __init__(self, what: str):
        super().__init__("Firestore", f"contention: {what}")
