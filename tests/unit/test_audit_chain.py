"""The audit chain's own rules, without Firestore: links, retiring after a
failed commit, a forked process's own writer, and what verification calls
expired rather than missing. The emulator tests are
tests/integration/test_audit_chain.py."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.firebase.audit_chain import GENESIS, AuditChain, entry_mac, verify

KEY = b"k" * 32
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def chain() -> AuditChain:
    return AuditChain(KEY, lambda: NOW)


def written(audit_chain: AuditChain, count: int, *, expire_at=NOW + timedelta(days=730)):
    entries = []
    for index in range(count):
        entry = {"seq": f"id-{len(entries)}-{index}", "event": "sign_in", "expire_at": expire_at}
        audit_chain.link([("records", entry)])
        entries.append(entry)
    return entries


def test_each_entry_links_to_the_one_before():
    entries = written(chain(), 3)

    assert [e["n"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev"] == GENESIS
    assert entries[1]["prev"] == entries[0]["mac"] and entries[2]["prev"] == entries[1]["mac"]
    assert all(e["mac"] == entry_mac(KEY, e) for e in entries)
    assert entry_mac(b"x" * 32, entries[0]) != entries[0]["mac"]


def test_a_failed_commits_place_is_named_by_the_next_entry():
    audit_chain = chain()
    [first] = written(audit_chain, 1)
    lost = {"seq": "lost", "event": "sign_in"}
    audit_chain.link([("records", lost)])()  # placed, then its commit failed
    [after] = written(audit_chain, 1)

    assert (after["chain"], after["n"], after["skipped"]) == (first["chain"], 3, [2])
    assert verify(KEY, _pairs([first, after]), now=NOW).ok
    # Without the key, a deletion cannot be dressed up as a failed commit.
    forged = {**after, "skipped": [2, 5]}
    assert [f.kind for f in verify(KEY, _pairs([first, forged]), now=NOW).findings] == ["missing"]


def test_places_are_given_in_order_while_commits_run_concurrently():
    audit_chain = chain()
    first, second = {"seq": "a", "event": "sign_in"}, {"seq": "b", "event": "sign_in"}
    audit_chain.link([("records", first)])
    audit_chain.link([("records", second)])  # before the first's commit answered

    assert (first["n"], second["n"], second["prev"]) == (1, 2, first["mac"])


def test_an_expiry_never_goes_down_within_a_chain():
    audit_chain = chain()
    [later] = written(audit_chain, 1, expire_at=NOW + timedelta(days=10))
    [earlier] = written(audit_chain, 1, expire_at=NOW + timedelta(days=5))  # clock stepped back

    assert earlier["expire_at"] == later["expire_at"]
    assert earlier["prev_expire_at"] == later["expire_at"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_process_writes_its_own_chain():
    audit_chain = chain()
    [parent] = written(audit_chain, 1)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one entry, its chain's name to the parent
        try:
            [child] = written(audit_chain, 1)
            os.write(write, f"{child['chain']} {child['n']}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_chain, child_n = pipe.read().split()
    os.waitpid(pid, 0)

    assert child_chain != parent["chain"] and child_n == "1"
    [next_in_parent] = written(audit_chain, 1)
    assert next_in_parent["chain"] == parent["chain"] and next_in_parent["n"] == 2


def _pairs(entries):
    return [(entry["seq"], entry) for entry in entries]


def test_a_gap_after_expired_entries_is_retention_not_tampering():
    audit_chain = chain()
    old = written(audit_chain, 3, expire_at=NOW - timedelta(days=1))
    new = written(audit_chain, 2)

    assert verify(KEY, _pairs(old[2:] + new), now=NOW).ok  # TTL took 1 and 2
    assert verify(KEY, _pairs(new), now=NOW).ok  # and 3
    broken = verify(KEY, _pairs(old + new[1:]), now=NOW)
    assert [(f.kind, f.n) for f in broken.findings] == [("missing", 4)]
