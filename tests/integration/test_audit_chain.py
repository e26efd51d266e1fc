"""Tamper evidence (PIPA art. 8(3)): entries edited, deleted, moved or
reordered in Firestore behind the app's back are each caught by `flask audit
verify` and the owners' page; an untouched trail, concurrent writers, a
failed commit and entries removed by retention all verify clean.

docs/pipa.md names these tests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from google.api_core.exceptions import ServiceUnavailable
from google.cloud.firestore import WriteBatch

from adminapp.domain.audit import DataSubject
from adminapp.errors import BackendUnavailable
from adminapp.firebase.audit import AUDIT, EXPIRE_AT
from adminapp.firebase.audit_chain import GENESIS
from adminapp.testing.firebase import OWNER
from adminapp.web.context import services

ENTRIES = 6


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def trail(app, auth_emulator, store):
    """An owner signed in, and ENTRIES more entries from this process."""
    user = auth_emulator.create_user("customer@example.com")
    with app.app_context():
        audit = services().audit
        for _ in range(ENTRIES):
            audit.record_access("view", actor=OWNER, subjects=[_subject(user.uid)])
    return sorted(store.audit(event="personal_data_accessed"), key=lambda e: e["n"])


def _subject(uid):
    return DataSubject(uid, "customer@example.com")


def verify(cli):
    result = cli.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_an_untouched_trail_verifies_clean(cli, trail):
    assert [entry["n"] for entry in trail] == list(range(1, ENTRIES + 1))
    assert trail[0]["prev"] == GENESIS
    assert all(later["prev"] == earlier["mac"] for earlier, later in pairwise(trail))

    code, output = verify(cli)

    assert code == 0, output
    assert "Every chain is intact." in output
    assert f"Checked {ENTRIES} entries in 1 chains" in output


def test_an_edited_entry_is_caught(cli, store, trail):
    edited = trail[2]
    store.client.collection(AUDIT).document(edited["id"]).update({"actor": "someone@else.com"})

    code, output = verify(cli)

    assert code == 1
    assert f"edited: {edited['chain']} #3 (entry {edited['id']})" in output


def test_a_deleted_entry_is_caught(cli, store, trail):
    store.client.collection(AUDIT).document(trail[3]["id"]).delete()

    code, output = verify(cli)

    assert code == 1
    assert f"missing: {trail[3]['chain']} #4: entries 4 to 4 are missing" in output


def test_a_deleted_first_entry_is_caught(cli, store, trail):
    store.client.collection(AUDIT).document(trail[0]["id"]).delete()

    code, output = verify(cli)

    assert code == 1 and "entries 1 to 1 are missing" in output


def test_entries_moved_between_documents_are_caught(cli, store, trail):
    """Two entries' contents swapped between their documents: each now sits
    under another entry's id (its time, the trail's order)."""
    first, second = trail[1], trail[4]
    data = {e["id"]: {k: v for k, v in e.items() if k != "id"} for e in (first, second)}
    store.client.collection(AUDIT).document(first["id"]).set(data[second["id"]])
    store.client.collection(AUDIT).document(second["id"]).set(data[first["id"]])

    code, output = verify(cli)

    assert code == 1
    assert f"moved: {first['chain']} #2 (entry {second['id']})" in output


def test_reordered_entries_are_caught(cli, store, trail):
    """Two entries' places in the chain swapped: the link to the entry
    before no longer matches (and their MACs no longer do either)."""
    first, second = trail[1], trail[2]
    reference = store.client.collection(AUDIT)
    reference.document(first["id"]).update({"n": 3, "link": second["link"]})
    reference.document(second["id"]).update({"n": 2, "link": first["link"]})

    code, output = verify(cli)

    assert code == 1
    assert f"moved: {first['chain']} #2 (entry {second['id']}): its link to the entry before" in (
        output
    )


def test_the_owners_page_names_the_broken_link(signed_in_as, store, trail):
    client = signed_in_as("boss@example.com", "owner")
    assert client.get("/admin/audit/verify").status_code == 200

    store.client.collection(AUDIT).document(trail[2]["id"]).update({"task": "edit"})
    page = client.get("/admin/audit/verify")

    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert 'data-ok="false"' in text and 'data-finding="edited"' in text and trail[2]["id"] in text


def test_entries_deleted_by_retention_are_not_tampering(app, cli, store, clean, monkeypatch):
    """TTL removes a chain's oldest entries first: the chain is checked from
    its oldest survivor, whose predecessor's expiry has passed."""
    with app.app_context():
        audit = services().audit
        real_clock = audit._clock
        long_ago = real_clock() - timedelta(days=800)  # beyond the 730 days kept
        monkeypatch.setattr(audit, "_clock", lambda: long_ago)
        for index in range(3):
            audit.record_access("view", actor=OWNER, subjects=[_subject(f"old-{index}")])
        monkeypatch.setattr(audit, "_clock", real_clock)
        for index in range(3):
            audit.record_access("view", actor=OWNER, subjects=[_subject(f"new-{index}")])
    entries = sorted(store.audit(event="personal_data_accessed"), key=lambda e: e["n"])
    assert [e[EXPIRE_AT] < datetime.now(UTC) for e in entries] == [True] * 3 + [False] * 3

    collection = store.client.collection(AUDIT)
    for entry in entries[:2]:  # TTL has taken two of the three so far
        collection.document(entry["id"]).delete()
    code, output = verify(cli)
    assert code == 0, output
    assert "from 3 (older ones expired) to 6  ok" in output

    collection.document(entries[4]["id"]).delete()  # not expired: a deletion
    code, output = verify(cli)
    assert code == 1 and "entries 5 to 5 are missing" in output


def test_concurrent_writers_in_one_process_keep_one_unbroken_chain(app, cli, store, clean):
    with app.app_context():
        audit = services().audit

        def write(index: int) -> None:
            with app.app_context():
                audit.record_access("view", actor=OWNER, subjects=[_subject(f"uid-{index}")])

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(write, range(40)))

    numbers = sorted(entry["n"] for entry in store.audit(event="personal_data_accessed"))
    assert numbers == list(range(1, 41))
    code, output = verify(cli)
    assert code == 0, output


def test_a_failed_commit_is_named_by_the_next_entry_and_the_trail_verifies(
    app, cli, store, clean, monkeypatch
):
    with app.app_context():
        audit = services().audit
        audit.record_access("view", actor=OWNER, subjects=[_subject("a")])
        real = WriteBatch.commit
        monkeypatch.setattr(WriteBatch, "commit", _failing)
        with pytest.raises(BackendUnavailable):
            audit.record_access("view", actor=OWNER, subjects=[_subject("b")])
        monkeypatch.setattr(WriteBatch, "commit", real)
        audit.record_access("view", actor=OWNER, subjects=[_subject("c")])

    entries = sorted(store.audit(event="personal_data_accessed"), key=lambda e: e["n"])
    assert len({entry["chain"] for entry in entries}) == 1
    assert [entry["n"] for entry in entries] == [1, 3]
    assert entries[1]["skipped"] == [2]
    code, output = verify(cli)
    assert code == 0, output


def _failing(*args, **kwargs):
    raise ServiceUnavailable("Firestore did not answer")


def test_every_entry_expires(store, trail):
    assert all(isinstance(entry[EXPIRE_AT], datetime) for entry in store.audit())
