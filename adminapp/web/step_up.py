"""Step-up, closed by default: every state-changing route says whether it
needs a fresh second-factor proof, and one that says nothing is refused.

Each guarded view that accepts a write (POST, PUT, PATCH, DELETE) is
classified. A view whose permission is declared ``step_up=True``
(``adminapp/domain/permissions.py``) is classified by it: its writes need a
proof. Any other is classified with one of three declarations, which also
take precedence over the permission's:

- :func:`step_up_required`: the guard asks for a proof within
  STEP_UP_MINUTES before the view runs (GET pages may declare it too: a new
  TOTP key's page);
- :func:`step_up_by_rule`: a service rule decides per request, because it
  depends on what is targeted (ending *another* admin's session; a users-
  console action on an account that is an admin here; the first factor of a
  pending session against adding one later). The reason names the rule;
- :func:`step_up_exempt`: no proof needed, with the reason why (signing
  out; the proof itself; one's own language).

``create_app`` refuses to start while a write route under ``/admin`` is
unclassified (:func:`unclassified_writes`), or exempts what its permission
says needs a proof (:func:`weakened_writes`), naming it; the guard refuses
an unclassified route at run time too, so a route added without thought is
closed.
``tests/integration/test_route_access.py`` holds the table of every route's
classification.

The proof is the caller's (``g.proof``, see ``adminapp/services/mfa/stages.py``):
a session's last sign-in or step-up, a bearer token's trusted Firebase
factor (its sign-in time), or a service account's standing. A refusal is
:class:`~adminapp.services.mfa.refusals.StepUpRequired`: 401
``step_up_required`` as JSON; for a form, the step-up prompt, which then
continues with the action (``adminapp/web/mfa/step_up.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from flask import Flask, g

from ..domain.permissions import SESSIONS_END_OTHERS, Permission
from ..domain.sessions import valid_session_key
from ..services.mfa.refusals import StepUpRequired
from ..services.mfa.stages import step_up_due as _step_up_due
from .context import services

View = TypeVar("View", bound=Callable)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class StepUp(StrEnum):
    REQUIRED = "required"
    BY_RULE = "by_rule"
    EXEMPT = "exempt"


@dataclass(frozen=True)
class Classification:
    kind: StepUp
    reason: str | None = None


def step_up_required(view: View) -> View:
    """Declare that a view (a dangerous action) needs a recent proof; the
    guard asks for it before the view runs."""
    view.step_up = Classification(StepUp.REQUIRED)
    return view


def step_up_by_rule(reason: str) -> Callable[[View], View]:
    """Declare that a service rule decides per request; ``reason`` names it."""
    return _classify(StepUp.BY_RULE, reason)


def step_up_exempt(reason: str) -> Callable[[View], View]:
    """Declare that a write needs no fresh proof, and why."""
    return _classify(StepUp.EXEMPT, reason)


def _classify(kind: StepUp, reason: str) -> Callable[[View], View]:
    if not reason or not reason.strip():
        raise ValueError("a step-up classification needs its reason")

    def declare(view: View) -> View:
        view.step_up = Classification(kind, reason)
        return view

    return declare


def classification(view: Callable | None, method: str) -> Classification | None:
    """How a request with ``method`` to ``view`` is classified: the view's
    own declaration, else, for a write, its permission's ``step_up``."""
    declared = getattr(view, "step_up", None)
    if declared is not None:
        return declared
    permission = _permission(view)
    if permission is not None and permission.step_up and method in WRITE_METHODS:
        return Classification(StepUp.REQUIRED, f"{permission.name} is declared step_up")
    return None


def _permission(view: Callable | None) -> Permission | None:
    access = getattr(view, "access", None)
    return access if isinstance(access, Permission) else None


def _guarded_writes(app: Flask) -> Iterator[tuple[Callable, str, str]]:
    """(view, method, "endpoint (METHOD path)") of each guarded write under /admin."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if not rule.rule.startswith("/admin") or rule.endpoint == "static":
            continue
        if getattr(view, "public", False):
            continue
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            yield view, method, f"{rule.endpoint} ({method} {rule.rule})"


def unclassified_writes(app: Flask) -> Iterator[str]:
    """The guarded write routes under /admin that declare no step-up rule,
    as "endpoint (METHOD path)"."""
    for view, method, name in _guarded_writes(app):
        if classification(view, method) is None:
            yield name


def weakened_writes(app: Flask) -> Iterator[str]:
    """The write routes that exempt from step-up what their permission says
    needs it (a service rule in its place is fine: it asks for the proof)."""
    for view, method, name in _guarded_writes(app):
        permission = _permission(view)
        declared = classification(view, method)
        if permission is not None and permission.step_up and declared.kind is StepUp.EXEMPT:
            yield f"{name} exempts {permission.name}"


def step_up_due() -> bool:
    """Whether the current caller must prove a factor again first."""
    return _step_up_due(g.proof, g.admin, services().settings, services().clock())


def require_step_up() -> None:
    if step_up_due():
        raise StepUpRequired()


ENDING_ANOTHERS_SESSION = (
    "ending another admin's session needs a fresh proof, ending one's own does not "
    "(require_step_up_to_end)"
)


def require_step_up_to_end(key: str) -> None:
    """Ending *another* admin's session is dangerous; ending one's own is
    not. Only when a step-up is due does this read whose session it is."""
    if not SESSIONS_END_OTHERS.step_up or not step_up_due() or not valid_session_key(key):
        return
    target = services().sessions.get(key)
    if target is not None and target.email != g.admin.email:
        raise StepUpRequired()
