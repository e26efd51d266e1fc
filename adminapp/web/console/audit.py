"""Audit trail page: newest first, filtered by event, actor and target, paged."""

from __future__ import annotations

from flask import render_template, request

from ...domain.audit import audit_target, valid_cursor
from ...domain.permissions import AUDIT_EXPORT, AUDIT_READ, AUDIT_VERIFY
from ...errors import InvalidInput
from ...i18n_marks import N_
from ...services.exports import audit_filters
from ..actor import acting_admin
from ..context import services
from ..downloads import download, flag
from ..guard import current_admin, permission_required
from . import bp
from .forms import AuditExportForm, AuditFilterForm


@bp.get("/audit")
@permission_required(AUDIT_READ)
def audit():
    form = AuditFilterForm(request.args, services().audit.events)
    if not form.validate():
        raise InvalidInput(
            N_("Choose an event from the list; actor and target have at most 254 characters.")
        )
    before, after = request.args.get("before"), request.args.get("after")
    for cursor in (before, after):
        if cursor is not None and not valid_cursor(cursor):
            raise InvalidInput(N_("That page link is not valid; start from the first page."))
    page = services().audit.page(
        event=form.event.data or None,
        actor=(form.actor.data or "").strip().lower() or None,
        target=audit_target(form.target.data),
        before=before,
        after=after,
    )
    chosen = {"event": form.event.data, "actor": form.actor.data, "target": form.target.data}
    filters = {k: v for k, v in chosen.items() if v}
    return render_template("console/audit.html", form=form, page=page, filters=filters)


@bp.get("/audit/verify")
@permission_required(AUDIT_VERIFY)
def audit_verify():
    """Check every chain of the trail (firebase/audit_chain.py), as `flask
    audit verify` does. A read: no step-up, no entry; it reads the whole
    trail, hence owners only."""
    result = services().alerts.verify_trail(by=current_admin().email)
    return render_template("console/audit_verify.html", result=result), 200 if result.ok else 409


@bp.get("/audit/export")
@permission_required(AUDIT_EXPORT)
def audit_export_form():
    """The export form, with the trail's filters of the link that led here."""
    form = AuditExportForm(None, services().audit.events, data=_filters_of(request.args))
    return render_template("console/audit_export.html", form=form)


@bp.post("/audit/export")
@permission_required(AUDIT_EXPORT)
def audit_export():
    """Stream the entries the filters select; recorded with the reason
    before the first byte (services/exports.py)."""
    form = request.form
    filters = audit_filters(services().audit.events, **_filters_of(form))
    export = services().exports.audit_trail(
        filters, form.get("format", ""), form.get("reason", ""), acting_admin(),
        bom=flag(form.get("bom")),
    )  # fmt: skip
    return download(export)


def _filters_of(values) -> dict:
    return {name: values.get(name) for name in ("event", "actor", "target", "since", "until")}
