"""Access records for product pages: one call records a look at personal data.

A product view that shows or hands out its users' personal data calls
:func:`record_access` once it has the data, naming the task and whose data it
is; the signed-in admin, the time, the IP address and the request id are
filled in. The record lands in the audit trail (``personal_data_accessed``),
with the users console's own, so the trail's target filter finds every look
at one person, and it is retained and chained like every entry (docs/pipa.md)::

    from adminapp.web.access_records import DataSubject, record_access

    @bp.get("/orders/<order_id>")
    @permission_required(ORDERS_READ)
    def order(order_id):
        order = load_order(order_id)
        record_access("view", [DataSubject(order.customer_uid, order.customer_email)])
        return render_template("orders/show.html", order=order)

The cost is one Firestore write, and no read. Record after the data is
found, before it is shown: a page that fails to record fails (503), rather
than showing data nobody will know was seen.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.audit import TASKS, DataSubject
from .context import request_client, services
from .guard import current_admin

__all__ = ["TASKS", "DataSubject", "record_access"]


def record_access(
    task: str, subjects: Iterable[DataSubject | str], *, query: str | None = None
) -> None:
    """Record that the signed-in admin did ``task`` (one of :data:`TASKS`:
    view, search, print, edit, delete, download) to the personal data of
    ``subjects`` (:class:`DataSubject`, or a bare uid). ``query`` is a
    search as typed."""
    services().audit.record_access(
        task,
        actor=current_admin().email,
        subjects=[
            subject if isinstance(subject, DataSubject) else DataSubject(uid=subject)
            for subject in subjects
        ],
        query=query,
        client=request_client(),
    )
