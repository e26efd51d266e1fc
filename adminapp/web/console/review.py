"""The monthly review of access records (PIPA art. 8(2)): a month of the
trail summarised for owners, each finding linked to the trail's entries, and
the owner's mark that the month was reviewed (services/access_review.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...domain.permissions import AUDIT_REVIEW
from ...errors import InvalidInput
from ...services.access_review import MAX_NOTE, EntryRef, Month, trail_cursor_at
from ...timezones import format_when
from ..context import request_client, services
from ..guard import current_admin, permission_required
from ..i18n import current_language, say, select_timezone
from . import bp
from .forms import MarkReviewedForm


@bp.app_template_filter("when_in")
def when_in(value, zone: str) -> str:
    """A stored (UTC) time in another zone (an admin's own), in the reader's language."""
    return format_when(value, current_language(), zone)


@bp.app_template_global("id_just_after")
def _id_just_after(seq: str) -> str:
    return trail_cursor_at(seq)


@bp.app_template_global("trail_link")
def trail_link(entry: EntryRef) -> str:
    """The trail page at ``entry``: the same event by the same admin,
    starting with that entry (the trail's own filters and cursor)."""
    return url_for(
        "console.audit",
        event=entry.event,
        actor=entry.actor or None,
        before=trail_cursor_at(entry.seq),
    )


@bp.get("/audit/review")
@permission_required(AUDIT_REVIEW)
def audit_review():
    """A read: the month in the reviewer's time zone, the previous one
    unless ``?month=YYYY-MM`` says otherwise (400 for a bad or future one)."""
    month = services().access_review.month(request.args.get("month"), select_timezone())
    return _page(month, MarkReviewedForm(data={"month": month.label}))


@bp.post("/audit/review")
@permission_required(AUDIT_REVIEW)
def mark_reviewed():
    """Record that the owner reviewed the month, with their note. The
    permission asks for a fresh second-factor proof (step_up=True)."""
    form = MarkReviewedForm()
    review = services().access_review
    month = review.month(form.month.data or "", select_timezone())
    try:
        review.mark_reviewed(
            month, form.note.data, actor=current_admin().email, client=request_client()
        )
    except InvalidInput as refusal:
        return _page(month, form, error=say(refusal)), refusal.status
    flash(_("%(month)s is marked reviewed.", month=month.label), "success")
    return redirect(url_for(".audit_review", month=month.label), code=303)


def _page(month: Month, form: MarkReviewedForm, *, error: str | None = None):
    summary = services().access_review.summarise(month)
    return render_template(
        "console/audit_review.html",
        review=summary,
        form=form,
        error=error,
        max_note=MAX_NOTE,
    )
