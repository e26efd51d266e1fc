"""The local Firestore emulator keeps the promises single use rests on.

The app spends a TOTP step, a recovery code, a passkey challenge or a pending
session with writes conditional on the document's update time, commits a
use with its audit entry in one batch, and checks the last owner in a
transaction. Firestore refuses a stale precondition, commits a batch whole
or not at all, and aborts a transaction whose reads changed. The upstream
emulator (``@firestore-emulator/server``) does none of this, so
``adminapp/testing/emulator/firestore-semantics.mjs`` adds it; these tests speak to it with a
raw ``google.cloud.firestore`` client, as the app's SDK does.

The tests marked with both emulators also run against the emulator started
with ``--upstream-semantics`` (without that layer) and show what goes wrong
there: every concurrent claimant wins, and a transaction commits over a
change it never saw. They fail if the layer is dropped.
"""

from __future__ import annotations

import threading
import uuid

import grpc
import pytest
from google.api_core.exceptions import AlreadyExists, FailedPrecondition
from google.cloud import firestore

from adminapp.testing import emulator_control
from adminapp.testing.firebase import firestore_client
from tests.support.concurrency import DEADLINE_SECONDS, at_once
from tests.support.settings import LOG_DIR, PROJECT_ID

CLAIMANTS = 8
BOTH = pytest.mark.parametrize("semantics", ["enforced", "upstream"])


def client_for(host: str) -> firestore.Client:
    """A client of the emulator at ``host`` (the SDK reads the variable once)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", host)
        return firestore_client(PROJECT_ID)


@pytest.fixture(scope="module")
def upstream_emulator(emulators):
    """The same emulator without the semantics layer (--upstream-semantics)."""
    upstream = emulator_control.Emulators(
        PROJECT_ID,
        auth_host=emulators.auth_host,
        firestore_host=f"127.0.0.1:{emulator_control.free_port()}",
        log_dir=LOG_DIR,
        upstream_semantics=True,
    )
    upstream.start_firestore()
    yield upstream
    upstream.stop()


@pytest.fixture
def enforced(emulators) -> firestore.Client:
    return client_for(emulators.firestore_host)


@pytest.fixture
def upstream(upstream_emulator) -> firestore.Client:
    return client_for(upstream_emulator.firestore_host)


@pytest.fixture
def db(request, semantics) -> firestore.Client:
    return request.getfixturevalue(semantics)


@pytest.fixture
def semantics() -> str:
    return "enforced"


def collection(client: firestore.Client):
    """A collection of this test's own (no clearing between tests needed)."""
    return client.collection(f"semantics-{uuid.uuid4().hex}")


def refused_as_stale(error: pytest.ExceptionInfo) -> bool:
    return error.value.grpc_status_code == grpc.StatusCode.FAILED_PRECONDITION and (
        "does not match the required base version" in error.value.message
    )


# -- preconditions ------------------------------------------------------------------


def test_a_stale_update_time_is_refused_and_nothing_is_written(db):
    ref = collection(db).document("code")
    ref.set({"uses": 0})
    seen = ref.get()
    ref.update({"uses": 1})  # someone else spent it
    current = ref.get()

    stale = db.write_option(last_update_time=seen.update_time)
    with pytest.raises(FailedPrecondition) as update:
        ref.update({"uses": 2}, option=stale)
    with pytest.raises(FailedPrecondition) as delete:
        ref.delete(option=stale)

    assert refused_as_stale(update) and refused_as_stale(delete)
    after = ref.get()
    assert after.to_dict() == {"uses": 1}
    assert after.update_time == current.update_time
    # The current version passes.
    ref.update({"uses": 2}, option=db.write_option(last_update_time=current.update_time))
    assert ref.get().to_dict() == {"uses": 2}


def test_an_update_time_precondition_on_a_missing_document_is_refused(db):
    ref = collection(db).document("gone")
    ref.set({"uses": 0})
    seen = ref.get()
    ref.delete()

    with pytest.raises(FailedPrecondition) as refused:
        ref.update({"uses": 1}, option=db.write_option(last_update_time=seen.update_time))

    assert refused_as_stale(refused)
    assert not ref.get().exists


def test_each_commit_gets_its_own_update_time(db):
    """Firestore's update times name one version of a document. Commits
    arriving together land within the same millisecond (the emulator's
    resolution); they must still not share an update time, or a
    precondition naming one version would pass on another."""
    docs = collection(db)
    writes = 25

    def write_many(writer: int) -> list:
        ref = docs.document(f"writer-{writer}")
        return [ref.set({"n": n}).update_time for n in range(writes)]

    outcomes = at_once(list(range(CLAIMANTS)), write_many)

    times = [time for per_writer in outcomes for time in per_writer]
    assert len(set(times)) == len(times) == CLAIMANTS * writes
    assert all(per_writer == sorted(per_writer) for per_writer in outcomes)
    # The version read is the one a precondition names.
    ref = docs.document("writer-0")
    assert ref.get().update_time == outcomes[0][-1]
    ref.update({"n": -1}, option=db.write_option(last_update_time=outcomes[0][-1]))


def test_a_write_that_changes_nothing_keeps_the_update_time(db):
    """As Firestore documents for WriteResult.update_time: a conditional
    write that changes nothing does not consume the version."""
    ref = collection(db).document("same")
    first = ref.set({"step": 7}).update_time

    again = ref.update({"step": 7})

    assert again.update_time == first == ref.get().update_time


# -- batches ----------------------------------------------------------------------------


@pytest.mark.parametrize("refusal", ["stale update time", "create over an existing document"])
def test_a_batch_with_one_refused_write_writes_nothing(db, refusal):
    docs = collection(db)
    spent, counter, audit = docs.document("factor"), docs.document("admin"), docs.document("entry")
    spent.set({"last_step": 1})
    counter.set({"second_factors": 1})
    seen = spent.get()
    spent.update({"last_step": 2})

    batch = db.batch()
    batch.create(audit, {"event": "second_factor_passed"})
    batch.update(counter, {"second_factors": firestore.Increment(1)})
    if refusal == "stale update time":
        batch.update(
            spent, {"last_step": 3}, option=db.write_option(last_update_time=seen.update_time)
        )
        expected = FailedPrecondition
    else:
        batch.create(spent, {"last_step": 3})
        expected = AlreadyExists
    with pytest.raises(expected):
        batch.commit()

    assert not audit.get().exists
    assert counter.get().to_dict() == {"second_factors": 1}
    assert spent.get().to_dict() == {"last_step": 2}


# -- read, then write conditionally: one winner ---------------------------------------


@BOTH
def test_of_many_conditional_writes_on_one_read_exactly_one_wins(db, semantics):
    """N threads read the same version of a code, then each spends it with a
    write conditional on that version: Firestore lets exactly one through.
    Upstream lets every one through: the duplicates single use must stop."""
    ref = collection(db).document("recovery-code")
    ref.set({"used_by": None})
    everyone_read = threading.Barrier(CLAIMANTS, timeout=DEADLINE_SECONDS)

    def claim(claimant: int) -> int:
        seen = ref.get()
        everyone_read.wait()  # no write lands before every claimant has read
        option = db.write_option(last_update_time=seen.update_time)
        ref.update({"used_by": claimant}, option=option)
        return claimant

    outcomes = at_once(list(range(CLAIMANTS)), claim)

    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if not isinstance(o, int)]
    assert all(isinstance(o, FailedPrecondition) for o in losers), losers
    if semantics == "enforced":
        assert len(winners) == 1
        assert ref.get().get("used_by") == winners[0]
    else:
        assert len(winners) == CLAIMANTS  # upstream: one code spent eight times


# -- transactions -------------------------------------------------------------------------


@BOTH
def test_a_transaction_does_not_commit_over_a_change_to_what_it_read(db, semantics):
    """A transaction reads a count, someone changes it, the transaction
    writes count + 1: Firestore aborts the commit (ABORTED, which the SDK
    retries with a new transaction), so the change is not lost. Upstream
    commits the stale outcome."""
    ref = collection(db).document("count")
    ref.set({"n": 1})
    attempts = []

    @firestore.transactional
    def add_one(transaction):
        attempts.append(transaction._id)
        n = ref.get(transaction=transaction).get("n")
        if len(attempts) == 1:
            ref.update({"n": 10})  # a concurrent change, outside the transaction
        transaction.update(ref, {"n": n + 1})

    add_one(db.transaction())

    if semantics == "enforced":
        assert len(attempts) == 2 and attempts[0] != attempts[1]
        assert ref.get().get("n") == 11
    else:
        assert len(attempts) == 1
        assert ref.get().get("n") == 2  # upstream: the change to 10 was lost


def test_a_transaction_whose_query_result_changed_does_not_commit(enforced):
    """The last-owner rule counts owners with a query inside the transaction:
    a document entering (or leaving) the result set before the commit aborts
    it, as a changed document does."""
    docs = collection(enforced)
    docs.document("alice").set({"role": "owner"})
    counts = []

    @firestore.transactional
    def count_owners(transaction):
        owners = docs.where(filter=firestore.FieldFilter("role", "==", "owner"))
        counts.append(len(list(owners.get(transaction=transaction))))
        if len(counts) == 1:
            docs.document("bob").set({"role": "owner"})  # a concurrent new owner
        transaction.set(docs.document("tally"), {"owners": counts[-1]})

    count_owners(enforced.transaction())

    assert counts == [1, 2]
    assert docs.document("tally").get().to_dict() == {"owners": 2}


def test_reads_are_tracked_per_transaction(enforced):
    """Each transaction has its own id and answers only for its own reads:
    another transaction's commit of a document this one did not read does
    not abort it."""
    docs = collection(enforced)
    shared, mine, theirs = docs.document("shared"), docs.document("mine"), docs.document("theirs")
    shared.set({"n": 0})
    ids = []

    @firestore.transactional
    def other(transaction):
        ids.append(("other", transaction._id))
        transaction.set(theirs, {"n": shared.get(transaction=transaction).get("n")})

    @firestore.transactional
    def outer(transaction):
        ids.append(("outer", transaction._id))
        n = shared.get(transaction=transaction).get("n")
        other(enforced.transaction())  # commits in between
        transaction.set(mine, {"n": n})

    outer(enforced.transaction())

    assert [who for who, _ in ids] == ["outer", "other"]  # one attempt each
    assert ids[0][1] != ids[1][1]
    assert mine.get().exists and theirs.get().exists


def test_concurrent_transactions_are_serialised(enforced):
    """N read-add-write transactions at once on one count: each commit that
    read a stale count is aborted and retried, so none is lost."""
    ref = collection(enforced).document("count")
    ref.set({"n": 0})

    @firestore.transactional
    def add_one(transaction):
        n = ref.get(transaction=transaction).get("n")
        transaction.update(ref, {"n": n + 1})

    def run(_):
        # Each abort means another transaction committed: N attempts suffice.
        add_one(enforced.transaction(max_attempts=CLAIMANTS))

    outcomes = at_once(list(range(CLAIMANTS)), run)

    assert outcomes == [None] * CLAIMANTS
    assert ref.get().get("n") == CLAIMANTS


# -- transforms ------------------------------------------------------------------------------


def test_concurrent_increments_are_exact_and_each_sees_its_own_result(enforced):
    """Increment runs inside the commit, and the commit answers with the
    value it produced (transform_results), so N concurrent increments give
    N distinct counts: what the app's wrong-code count relies on."""
    ref = collection(enforced).document("failures")
    ref.set({"n": 0})
    per_thread = 10

    def increment(_):
        counts = []
        for _ in range(per_thread):
            result = ref.update({"n": firestore.Increment(1)})
            [value] = result.transform_results
            counts.append(value.integer_value)
        return counts

    outcomes = at_once(list(range(CLAIMANTS)), increment)

    seen = sorted(count for counts in outcomes for count in counts)
    assert seen == list(range(1, CLAIMANTS * per_thread + 1))
    assert ref.get().get("n") == CLAIMANTS * per_thread
