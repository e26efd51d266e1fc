"""Alerts to the owners: email every enabled owner, in their own language,
when something happens that they must know about (issue 22 item 6,
docs/pipa.md "Alerts").

Which events alert is declared once, in :data:`ALERTS`; two alerts no
single entry raises sit beside it (:data:`CHAIN_BROKEN`,
:data:`BULK_ACCESS`). The trail tells :meth:`OwnerAlerts.entry_committed`
of each entry once its batch has committed (``AuditTrail.on_commit``), so
an alert never reports a change that was not saved. Everything else (the
counting, the owners' list, the emails) runs on the background pool: the
action that raised the alert is neither slowed nor failed by it.

Each alert is bounded in the rate-limit storage (Redis in production, so
across workers and instances; ``Throttle``), and each email sent or not is
one line on the security log (``owner_alert``). Alerts are logged, not
written to the trail: the entry that raised one is already in the chained
trail, a chain that just failed its check is no place to record that it
failed, and the log is kept by a service the trail's writers need not
reach.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..config import Settings
from ..domain.audit import ACCESS_EVENT
from ..domain.roles import OWNER, is_built_in, rank
from ..errors import BackendUnavailable
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.audit_chain import Verification
from ..i18n_marks import N_
from ..logs import log_event
from ..mail.owner_alerts import OwnerAlertEmails
from ..mail.smtp import MailError
from .background import Background
from .throttle import Throttle

log = logging.getLogger(__name__)

# The security log's event for each alert email sent, refused or skipped.
ALERT_LOG_EVENT = "owner_alert"


def _saved(entry: dict) -> bool:
    return (entry.get("outcome") or "ok") == "ok"


def _owner_added(entry: dict) -> bool:
    return _saved(entry) and entry.get("role") == OWNER


def _role_raised(entry: dict) -> bool:
    """A role change whose new role outranks the old; a lowering, an
    unchanged role or a status change alone does not alert."""
    before, after = entry.get("previous_role"), entry.get("role")
    if not (_saved(entry) and before and after and is_built_in(before) and is_built_in(after)):
        return False
    return rank(after) > rank(before)


def _always(entry: dict) -> bool:
    return True


@dataclass(frozen=True)
class Alert:
    """One kind of alert: its name (logs and bounds), the email's subject
    and first line (English, marked for translation; the line is filled
    with ``actor``, ``target``, ``role``, ``previous_role`` and the alert's
    own params), when an entry raises it, and how many may go out per key
    (the target, the admin, the finding) in the rate-limit storage."""

    name: str
    subject: str
    summary: str
    applies: Callable[[dict], bool] = _always
    limit: str = "10 per hour"


ROLE_RAISED = Alert(
    "role_raised",
    N_("Admin area: an admin's role was raised"),
    N_("%(actor)s raised the role of %(target)s from %(previous_role)s to %(role)s."),
    _role_raised,
)
# The audit events that alert the owners: declared here once.
ALERTS: dict[str, Alert] = {
    "admin_invited": Alert(
        "owner_added",
        N_("Admin area: a new owner"),
        N_("%(actor)s made %(target)s an owner of the admin area."),
        _owner_added,
    ),
    "admin_role_changed": ROLE_RAISED,
    "admin_changed": ROLE_RAISED,
    "second_factors_reset": Alert(
        "factors_reset",
        N_("Admin area: an admin's second factors were reset"),
        N_("%(actor)s reset every second factor of %(target)s."),
    ),
    "second_factor_locked": Alert(
        "admin_locked",
        N_("Admin area: an admin's second factor was locked"),
        N_("Too many wrong second-factor codes were entered for %(target)s: codes are locked."),
    ),
}
# The audit trail failed its check (flask audit verify, /admin/audit/verify):
# once a day per first broken link, however often the check runs.
CHAIN_BROKEN = Alert(
    "chain_broken",
    N_("Admin area: the audit trail failed its check"),
    N_("The audit trail's check found a broken or missing link (%(kind)s, %(chain)s #%(n)s)."),
    limit="1 per day",
)
# One admin looked at more data subjects within an hour than
# ACCESS_ALERT_SUBJECTS_PER_HOUR: once an hour per admin.
BULK_ACCESS = Alert(
    "bulk_access",
    N_("Admin area: an admin looked at many people's data"),
    N_("%(actor)s looked at the personal data of more than %(threshold)s people within an hour."),
    limit="1 per hour",
)


@dataclass(frozen=True, kw_only=True)
class OwnerAlerts:
    directory: AdminDirectory
    audit: AuditTrail
    emails: OwnerAlertEmails
    background: Background
    throttle: Throttle
    settings: Settings
    clock: Callable[[], datetime]

    def __post_init__(self) -> None:
        # Told of every entry from the start: an alert cannot be missed
        # for a service built and not yet asked anything.
        self.audit.on_commit(self.entry_committed)

    @property
    def threshold(self) -> int:
        """ACCESS_ALERT_SUBJECTS_PER_HOUR: data subjects an admin may look
        at within an hour before the owners hear of it (0: never)."""
        return self.settings.access_alert_subjects_per_hour

    def entry_committed(self, entry: dict) -> None:
        """An entry was saved: hand what it raises to the background pool.
        On the committing thread, so nothing here reads or sends."""
        alert = ALERTS.get(entry["event"])
        if alert is not None and alert.applies(entry):
            facts = {
                "actor": entry.get("actor"),
                "target": entry.get("target"),
                "ip": entry.get("ip"),
                "detail": entry.get("reason"),
                "entry": entry.get("seq"),
            }
            params = {
                "actor": entry.get("actor") or "-",
                "target": entry.get("target") or "-",
                "role": entry.get("role") or "-",
                "previous_role": entry.get("previous_role") or "-",
            }
            self.background.submit(
                lambda: self._raise(alert, entry.get("target") or "", entry["time"], params, facts),
                f"owner alert {alert.name}",
            )
        elif entry["event"] == ACCESS_EVENT and self.threshold and entry.get("actor"):
            self.background.submit(
                lambda: self._count_subjects(
                    entry["actor"], entry.get("subject_count") or 0, entry["time"], entry.get("ip")
                ),
                "access record count",
            )

    def verify_trail(self, *, by: str) -> Verification:
        """Check the trail's chains (``flask audit verify``, the owners'
        page) and alert the owners when a link is broken or missing."""
        result = self.audit.verify()
        if not result.ok:
            first = result.findings[0]
            self.background.submit(
                lambda: self._raise(
                    CHAIN_BROKEN,
                    f"{first.chain}#{first.n}:{first.kind}",
                    self.clock(),
                    {"kind": first.kind, "chain": first.chain, "n": first.n},
                    {"actor": by, "detail": first.detail, "entry": first.entry_id},
                ),
                f"owner alert {CHAIN_BROKEN.name}",
            )
        return result

    def _count_subjects(self, actor: str, subjects: int, when: datetime, ip: str | None) -> None:
        """Count ``subjects`` more for ``actor`` in the trailing hour; past
        the threshold, alert (the alert's own bound keeps it to one an hour)."""
        if subjects <= 0 or self.throttle.allow(
            f"{self.threshold} per hour", "access-subjects", actor, cost=subjects
        ):
            return
        self._raise(
            BULK_ACCESS,
            actor,
            when,
            {"actor": actor, "threshold": self.threshold},
            {"actor": actor, "ip": ip},
        )

    def _raise(
        self, alert: Alert, key: str, when: datetime, params: dict, facts: dict[str, str | None]
    ) -> None:
        """Email every enabled owner, within the alert's bound; on the
        background pool. Failures are logged, never raised."""
        if not self.throttle.allow(alert.limit, f"owner-alert-{alert.name}", key):
            # Within the bound the owners were told already; a line per
            # further record of a bulk reader would only be noise.
            log.debug("owner alert %s over its bound (%s): not sent", alert.name, alert.limit)
            return
        if not self.emails.enabled:
            log_event(ALERT_LOG_EVENT, alert=alert.name, outcome="skipped", reason="no_smtp")
            return
        try:
            owners = [admin for admin in self.directory.list() if admin.active_owner]
        except BackendUnavailable:
            log_event(ALERT_LOG_EVENT, alert=alert.name, outcome="error", error="owners_unread")
            return
        for owner in owners:
            try:
                self.emails.send(
                    owner.email,
                    subject=alert.subject,
                    summary=alert.summary,
                    params=params,
                    when=when,
                    facts=facts,
                    locale=owner.locale,
                    timezone=owner.timezone,
                )
            except MailError as error:
                log_event(
                    ALERT_LOG_EVENT,
                    alert=alert.name,
                    to=owner.email,
                    outcome="error",
                    error=str(error),
                )
                continue
            log_event(ALERT_LOG_EVENT, alert=alert.name, to=owner.email, outcome="ok")
