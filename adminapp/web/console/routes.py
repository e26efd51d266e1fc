"""The dashboard."""

from __future__ import annotations

from flask import render_template

from ..guard import current_session, self_service
from . import bp

# Why every signed-in admin may use these (guard.self_service).
OWN_DASHBOARD = "who the caller is and since when"


@bp.get("/")
@self_service(OWN_DASHBOARD)
def dashboard():
    return render_template("console/dashboard.html", current=current_session())
