"""A complete product page behind the gate, in its own package: team notes.

Installed (``pip install ./examples/notes``), adminapp finds it through the
``adminapp.products`` entry point of its pyproject.toml; from a checkout,
``ADMINAPP_BLUEPRINTS=adminapp_notes:bp`` names it. It declares two
permissions: ``notes.read`` (viewers and up) for the notes at /admin/notes/,
and ``notes.write`` (admins and owners) for the form that writes a Firestore
document and its audit entry in one batch. Everything else (sign-in, roles,
CSRF, headers, the layout, the "Notes" link for those who may open it) comes
from adminapp, through its public API (``adminapp.product``) only. Its
templates and its Korean and English catalogs ship inside this package. See
docs/extending.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from google.cloud import firestore
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from adminapp.product import (
    N_,
    AdminBlueprint,
    AuditTrail,
    FirebaseBackend,
    Permission,
    Services,
    current_admin,
    permission_required,
    request_client,
    step_up_exempt,
)

NOTES = "example_notes"
MAX_NOTE_LENGTH = 500
# The product's own permissions: each built-in role holds those whose least
# role it reaches, and templates ask can("notes.write").
NOTES_READ = Permission("notes.read", N_("Read the team notes"), "viewer")
NOTES_WRITE = Permission("notes.write", N_("Add team notes"), "admin")


class NoteForm(FlaskForm):  # a FlaskForm: the CSRF token comes with it
    text = TextAreaField(
        _l("Note"),
        validators=[DataRequired(_l("Write something.")), Length(max=MAX_NOTE_LENGTH)],
    )


class Notes:
    """The product's own service: its Firestore collection, through adminapp's
    backend (timeouts, 503 on an outage) and audit trail."""

    def __init__(self, backend: FirebaseBackend, audit: AuditTrail):
        self._backend = backend
        self._audit = audit

    def latest(self, count: int = 20) -> list[dict]:
        query = (
            self._backend.firestore.collection(NOTES)
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(count)
        )
        with self._backend.firestore_call("list notes"):
            return [snap.to_dict() for snap in query.stream(**self._backend.rpc_options())]

    def add(self, text: str, *, actor: str, client) -> str:
        # The note and its audit entry are written together, or neither is.
        batch = self._audit.batch()
        document = self._backend.firestore.collection(NOTES).document()
        batch.create(document, {"text": text, "author": actor, "created_at": datetime.now(UTC)})
        self._audit.stage(batch, "note_added", actor=actor, target=document.id, client=client)
        self._backend.commit(batch, "add note")
        return document.id


def build_notes(adminapp: Services) -> Notes:
    """The product's services, from adminapp's: called once per app."""
    return Notes(adminapp.backend, adminapp.audit)


bp = AdminBlueprint(
    "notes",
    __name__,
    prefix="notes",  # routes under /admin/notes
    nav=(_l("Notes"), "index"),  # shown to admins who may open notes.index
    events=("note_added",),  # the audit event this page records
    permissions=(NOTES_READ, NOTES_WRITE),  # what its routes declare
    template_folder="templates",  # notes/index.html, inside this package
    translations="translations",  # its own catalogs, ko and en
    services=build_notes,  # called once, at start-up; bp.service() in a view
)


def notes() -> Notes:
    """The app's Notes, built once when it was created."""
    return bp.service()


def _page(form: NoteForm, status: int = 200):
    return render_template("notes/index.html", notes=notes().latest(), form=form), status


@bp.get("/")
@permission_required(NOTES_READ)
def index():
    return _page(NoteForm())


@bp.post("/")
@permission_required(NOTES_WRITE)
@step_up_exempt("adds a note: product data only, no account or access change")
def add():
    form = NoteForm()
    if not form.validate():  # validated before anything is written
        return _page(form, 400)
    notes().add(form.text.data.strip(), actor=current_admin().email, client=request_client())
    flash(_("Note added."), "success")
    return redirect(url_for(".index"), code=303)
