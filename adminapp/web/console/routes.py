"""The dashboard."""

from __future__ import annotations

from flask import render_template

from ..guard import current_session, role_required
from . import bp


@bp.get("/")
@role_required("viewer")
def dashboard():
    return render_template("console/dashboard.html", current=current_session())
