"""The notes product, installed beside adminapp and tested the way its own
repository would: only adminapp.product and adminapp.testing are used."""

from __future__ import annotations

from pathlib import Path

from adminapp.testing import assert_catalogs_complete, post_form

ROOT = Path(__file__).resolve().parents[1]


def test_the_catalogs_hold_every_string_in_english_and_korean():
    assert_catalogs_complete(ROOT / "adminapp_notes" / "translations", babel_cfg=ROOT / "babel.cfg")


def test_the_installed_product_is_mounted_through_its_entry_point(app, config):
    # Nothing names it in ADMINAPP_BLUEPRINTS: the entry point did.
    assert "ADMINAPP_BLUEPRINTS" not in config
    assert {"notes.index", "notes.add"} <= set(app.view_functions)


def test_a_reader_sees_the_notes_and_cannot_write(signed_in, store):
    reader = signed_in("notes.read")

    page = reader.get("/admin/notes/")

    assert page.status_code == 200
    assert "No notes yet." in page.get_data(as_text=True)
    assert 'id="note-form"' not in page.get_data(as_text=True)
    refused = post_form(reader, "/admin/notes/", {"text": "hello"})
    assert refused.status_code == 403
    assert store.audit(event="note_added") == []


def test_a_writer_adds_a_note_with_its_audit_entry(signed_in, store):
    writer = signed_in("notes.write", email="writer@example.com")

    added = post_form(writer, "/admin/notes/", {"text": "  Deploy on Friday  "})

    assert added.status_code == 303
    [entry] = store.audit(event="note_added")
    assert entry["actor"] == "writer@example.com"
    assert "Deploy on Friday" in writer.get("/admin/notes/").get_data(as_text=True)


def test_an_empty_note_is_refused_and_nothing_is_written(signed_in, store):
    writer = signed_in("notes.write")

    refused = post_form(writer, "/admin/notes/", {"text": ""})

    assert refused.status_code == 400
    assert store.audit(event="note_added") == []


def test_a_korean_admin_reads_the_page_from_the_products_catalog(signed_in):
    reader = signed_in("notes.read", locale="ko")

    html = reader.get("/admin/notes/").get_data(as_text=True)

    # The product's strings, from its own catalog (adminapp's has none of them).
    assert "아직 메모가 없습니다." in html
    assert 'aria-current="page">메모</a>' in html
    assert "No notes yet." not in html
