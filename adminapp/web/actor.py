"""The signed-in admin as the services know an actor: who, with which
permissions, from where, and whether a step-up is due. The users console and
the role editor pass it to their services, which hold the rules."""

from __future__ import annotations

from ..services.users import Actor
from .context import request_client
from .guard import current_admin
from .permissions import held
from .step_up import step_up_due


def acting_admin() -> Actor:
    """The signed-in admin, with their permissions and address."""
    admin = current_admin()
    return Actor(
        name=admin.email,
        role=admin.role,
        permissions=held(),
        client=request_client(),
        step_up_due=step_up_due(),
    )
