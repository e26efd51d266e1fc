"""Step-up: dangerous actions need a recent second-factor proof.

A view declares it with :func:`step_up_required` (or calls
:func:`require_step_up` when only some requests need it, such as ending
*another* admin's session). The rule is ``SecondFactor.step_up_due``: the
session's last proof, on the record the guard already read, is older than
STEP_UP_MINUTES; no read of its own. Bearer calls have no session and are
held to the bearer rule instead (``Access.authenticate_bearer``).

A refusal is :class:`~adminapp.services.second_factor.StepUpRequired`:
401 ``step_up_required`` as JSON; for a form, the step-up prompt, which then
continues with the action (``adminapp/web/mfa/step_up.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g

from ..firebase.sessions import valid_session_key
from ..services.second_factor import StepUpRequired
from .context import services

View = TypeVar("View", bound=Callable)


def step_up_due() -> bool:
    """Whether the current request's admin must prove a factor again first."""
    if getattr(g, "auth_method", None) != "cookie":
        return False
    return services().second_factor.step_up_due(g.admin_session, g.admin)


def require_step_up() -> None:
    if step_up_due():
        raise StepUpRequired()


def step_up_required(view: View) -> View:
    """Declare that a view (a dangerous action) needs a recent proof."""

    @wraps(view)
    def checked(*args, **kwargs):
        require_step_up()
        return view(*args, **kwargs)

    checked.step_up = True
    return checked


def require_step_up_to_end(key: str) -> None:
    """Ending *another* admin's session is dangerous; ending one's own is
    not. Only when a step-up is due does this read whose session it is."""
    if not step_up_due() or not valid_session_key(key):
        return
    target = services().sessions.get(key)
    if target is not None and target.email != g.admin.email:
        raise StepUpRequired()
