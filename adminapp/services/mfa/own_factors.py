"""An admin's factors as a list to manage: the security page, owners' reset
and the CLI. Adding a factor is each kind's own module; this one lists,
renames, removes and resets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...client import Client
from ...domain.admins import Admin, AdminNotFound
from ...errors import InvalidInput, NotFound
from ...firebase.factors import Factor
from ...i18n_marks import N_
from .refusals import ChangedMeanwhile, LastFactor
from .stages import second_factor_due
from .steps import ProofSteps

MAX_FACTOR_NAME = 60
_FACTOR_ID = re.compile(r"[0-9a-f]{24}")


def has_factor(factors: list[Factor]) -> bool:
    return any(factor.counted for factor in factors)


@dataclass(frozen=True, kw_only=True)
class OwnFactors:
    steps: ProofSteps

    def of(self, email: str) -> list[Factor]:
        return self.steps.factors.of(email)

    def own_factor(self, admin: Admin, factor_id: str) -> Factor:
        """One of ``admin``'s factors; anyone else's is as good as missing."""
        factors = self.steps.factors
        factor = factors.get(factor_id) if _FACTOR_ID.fullmatch(factor_id) else None
        if factor is None or factor.email != admin.email:
            raise NotFound(N_("That factor does not exist."), code="factor_not_found")
        return factor

    def rename(self, admin: Admin, factor_id: str, name: str, client: Client) -> Factor:
        name = " ".join((name or "").split())
        if not 1 <= len(name) <= MAX_FACTOR_NAME:
            raise InvalidInput(
                N_("Give a name of 1 to %(max)s characters."), params={"max": MAX_FACTOR_NAME}
            )
        steps = self.steps
        factor = self.own_factor(admin, factor_id)
        batch = steps.audit.batch()
        steps.factors.stage_update(batch, factor, {"name": name})
        steps.stage_factor_change(batch, "second_factor_renamed", admin, factor.kind, client)
        steps.backend.commit(batch, "rename second factor")
        return factor

    def remove(self, admin: Admin, factor_id: str, client: Client) -> Factor:
        """Remove one of the admin's factors; the last one that counts is
        refused while their role needs a second factor. Conditional on the
        admin document (its count) being unchanged since read, so two
        removals at once cannot both take the last but one."""
        steps = self.steps
        factor = self.own_factor(admin, factor_id)
        current = steps.current_admin(admin.email)
        if (
            factor.counted
            and current.second_factors <= 1
            and second_factor_due(current, steps.settings)
        ):
            raise LastFactor(
                N_(
                    "This is your last second factor and your role needs one: "
                    "add another before removing it."
                )
            )
        batch = steps.audit.batch()
        steps.factors.stage_remove(batch, factor, admin_version=current.version)
        steps.stage_factor_change(batch, "second_factor_removed", admin, factor.kind, client)
        steps.commit(batch, "remove second factor", ChangedMeanwhile())
        return factor

    def reset(self, email: str, *, actor: str, client: Client | None) -> int:
        """Remove every factor of ``email`` and zero the count on their admin
        document, audited; they enrol again at their next sign-in. Returns
        how many factor documents went. Their sessions are ended by the
        caller (AdminManagement.reset_factors)."""
        steps = self.steps
        if steps.directory.get(email) is None:
            raise AdminNotFound(email)
        factors = steps.factors.of(email)
        batch = steps.audit.batch()
        steps.factors.stage_remove_all(batch, email, factors)
        steps.audit.stage(
            batch,
            "second_factors_reset",
            actor=actor,
            target=email,
            reason=f"{len(factors)} removed",
            client=client,
        )
        steps.commit(batch, "reset second factors", AdminNotFound(email))
        return len(factors)
