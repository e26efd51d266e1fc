"""Every string a person reads is marked for translation, so that
`make translations` puts it in the catalogs and test_catalogs.py holds its
Korean to account. A bare string handed to a refusal, ``flash``, a form
error or a JSON ``message`` goes out in English on a Korean page; this
catches it before it does (tests/support/message_marks.py says where it
looks)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import textwrap
from pathlib import Path

import adminapp
from adminapp.errors import Refused
from tests.support import template_text
from tests.support.message_marks import MessageScanner

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("adminapp", "examples")
# The packages in those folders (examples/notes is adminapp_notes).
PACKAGES = ("adminapp", "adminapp_notes")

# Strings that reach a place a person reads but are not for people, with why.
# Keyed by (file, the literal). The command line stays English by design
# (docs/languages.md): its click output is no sink here, so
# it needs no entry. Keep this short: a string a person reads is marked.
NOT_FOR_PEOPLE: dict[tuple[str, str], str] = {}


@functools.cache
def _scan() -> MessageScanner:
    return MessageScanner(ROOT, SCANNED)


def test_every_string_a_person_reads_is_marked_for_translation():
    found = _scan().findings()
    findings = [f for f in found if (f.path, f.text) not in NOT_FOR_PEOPLE]
    assert not findings, (
        "Strings a person reads that pybabel will not extract: wrap them in N_() (services, "
        "refusals, mail) or _()/_l() (web), then run make translations and translate them in "
        "adminapp/translations/ko/LC_MESSAGES/messages.po:\n" + "\n".join(map(str, findings))
    )
    # An entry whose string is gone (or now marked) goes from the list too.
    stale = set(NOT_FOR_PEOPLE) - {(f.path, f.text) for f in found}
    assert not stale, sorted(stale)


def _subclasses(cls: type) -> set[type]:
    return {sub for child in cls.__subclasses__() for sub in (child, *_subclasses(child))}


def test_the_scan_knows_every_refusal_class_the_code_defines():
    """The scan reads the refusal family from the source; importing every
    module and walking Refused's subclasses must find no class it missed."""
    for package in (adminapp, importlib.import_module("adminapp_notes")):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    imported = {cls.__name__ for cls in _subclasses(Refused) if cls.__module__.startswith(PACKAGES)}
    scanner = _scan()
    assert imported <= set(scanner.refusals), imported - set(scanner.refusals)
    # Which argument is the message, read from each class's own __init__:
    assert scanner.message_slot("Conflict") == (0, "message")
    assert scanner.message_slot("SignInRefused") == (1, "message")  # (code, message)
    assert scanner.message_slot("BadAuthorization") == (1, "message")  # (status, message)
    assert scanner.message_slot("BackendUnavailable") is None  # writes its own


# -- the scan itself can fail --------------------------------------------------


def _package(tmp_path: Path, **files: str) -> MessageScanner:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text(
        textwrap.dedent(
            """
            class Refused(Exception):
                title = None
                def __init__(self, message, *, code=None, params=None):
                    super().__init__(message)

            class Conflict(Refused):
                pass
            """
        )
    )
    for name, source in files.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    return MessageScanner(tmp_path, ["app"])


def _found(scanner: MessageScanner) -> set[tuple[str, int]]:
    return {(Path(f.path).name, f.line) for f in scanner.findings()}


def _marked_bare(tmp_path: Path) -> set[tuple[str, int]]:
    """The lines the snippets below mark with ``# bare``."""
    return {
        (path.name, number)
        for path in (tmp_path / "app").glob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.endswith("# bare")
    }


def test_the_scan_finds_each_kind_of_bare_string(tmp_path):
    scanner = _package(
        tmp_path,
        rules="""
        from .errors import Conflict, Refused
        from .words import LATER

        class Limited(Refused):
            title = "Too many"                                          # bare

        class Coded(Conflict):
            def __init__(self, code, text):
                super().__init__(text, code=code)

        def claim(limit):
            raise Limited(f"Too many emails ({limit}). Try later.")     # bare

        def clash():
            raise Coded("duplicate", "Sent a moment ago.")              # bare

        def later():
            raise Conflict(message=LATER)  # reported at words.py, where the literal is
        """,
        views="""
        from flask import flash, jsonify
        from wtforms import SelectField, StringField
        from wtforms.validators import DataRequired, Length
        from .responses import error_response

        def done(message):
            flash(message, "success")

        def view(form):
            done("Saved.")                                              # bare
            flash(_("Saved.") + " Reload.", "notice")                   # bare
            form.email.errors.append("Enter an address.")               # bare
            jsonify(error="code_is_fine", message="Try again.")         # bare
            return error_response(409, "Clash.", "conflict", title="Oops")  # bare

        class Form:
            role = SelectField("Signs in with")                         # bare
            text = StringField(
                validators=[DataRequired("Write something."),           # bare
                            Length(max=5, message="Too long.")],        # bare
            )

        def unreadable(name):
            return _(f"Hello {name}")                                   # bare
        """,
        words='LATER = "Try later."  # bare\n',
    )
    assert _found(scanner) == _marked_bare(tmp_path)
    assert len(_found(scanner)) == 13


def test_marked_strings_codes_and_values_pass(tmp_path):
    scanner = _package(
        tmp_path,
        rules="""
        from .errors import Conflict, Refused
        from .marks import N_

        SENT = N_("A link is on its way.")

        class Limited(Refused):
            title = N_("Too many")

        class Coded(Conflict):
            def __init__(self, code, text):
                super().__init__(text, code=code)

        def claim(limit):
            raise Limited(N_("Too many emails (%(limit)s)."), params={"limit": limit})

        def clash(detail):
            raise Coded("duplicate_request", SENT)
        """,
        views="""
        from flask import flash, jsonify
        from flask_babel import gettext as _, lazy_gettext as _l
        from wtforms import StringField
        from wtforms.validators import DataRequired
        from .rules import SENT

        def view(form, refusal, name):
            message = _("Saved.") if name else _(SENT)
            flash(message, "success")
            flash(f"{message} {_('Reload.')}", "notice")
            form.email.errors.append(str(refusal))
            return jsonify(error="conflict", message=_(SENT), user=name)

        class Form:
            text = StringField(_l("Note"), validators=[DataRequired(_l("Write something."))])
        """,
    )
    assert scanner.findings() == []


# -- templates -------------------------------------------------------------------

TEMPLATE_FOLDERS = ("templates", "examples")
# Text in templates that is the same in every language, with why.
SAME_IN_EVERY_LANGUAGE: dict[tuple[str, str], str] = {
    # The product's name, in the tab title and the header.
    ("templates/base.html", "{{…}} · adminapp"): "product name",
    ("templates/base.html", "adminapp"): "product name",
    # Firebase's field name, shown as Firebase names it (glossary: API and
    # Firebase field names stay in Latin letters; the catalog keeps "uid").
    ("templates/console/audit.html", "uid {{…}}"): "Firebase field name",
    ("templates/users/show.html", "uid"): "Firebase field name",
}


def test_every_text_a_template_shows_is_marked_for_translation():
    found = template_text.scan(ROOT, TEMPLATE_FOLDERS)
    findings = [f for f in found if (f.path, f.text) not in SAME_IN_EVERY_LANGUAGE]
    assert not findings, (
        "Template text outside {{ _() }} and {% trans %}: mark it, then run make translations:\n"
        + "\n".join(map(str, findings))
    )
    stale = set(SAME_IN_EVERY_LANGUAGE) - {(f.path, f.text) for f in found}
    assert not stale, sorted(stale)


def test_the_template_scan_finds_text_attributes_and_expression_strings(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(
        textwrap.dedent(
            """\
            {% extends "base.html" %}
            {% block title %}Notes{% endblock %}
            <h1>{{ _("Notes") }}</h1>
            <p>{% trans %}Marked text{% endtrans %}</p>
            <input type="submit" value="Save">
            <input name="q" value="{{ query }}" placeholder="Search notes">
            <td data-label="{{ _('Name') }}">{{ name or "Not set yet" }}</td>
            <p>{{ _("Hello %(name)s", name=user.name) }} — {{ count }}</p>
            <script>const words = "not for people";</script>
            <p>
              Written by hand
            </p>
            """
        )
    )
    found = {(f.line, f.text) for f in template_text.scan(tmp_path, ("templates",))}
    assert found == {
        (2, "Notes"),
        (5, "Save"),
        (6, "Search notes"),
        (7, "Not set yet"),
        (11, "Written by hand"),
    }
