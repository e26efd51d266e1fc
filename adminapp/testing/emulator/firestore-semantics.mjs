// Firestore's write semantics, over @firestore-emulator/server's documents.
//
// Why: the app's single-use rules (a TOTP step, a recovery code, a passkey
// challenge, a pending session spent once), its failure count and its
// last-owner rule all rest on what Firestore guarantees at commit time. The
// upstream server (0.3.15) guarantees none of it: it ignores
// `currentDocument.updateTime` preconditions (only `exists` is checked),
// applies a commit's writes one by one (a refused write leaves the earlier
// ones applied), gives every transaction the same fixed id and never looks
// at it again, and stamps writes with `new Date()`, so two commits in one
// millisecond share an update time. On it, one TOTP code was accepted by six
// concurrent sessions. tests/integration/test_firestore_semantics.py proves
// each rule below, and that the upstream server breaks single use.
//
// This module replaces five of the server's gRPC handlers (BeginTransaction,
// BatchGetDocuments, RunQuery, Commit, Rollback) and keeps its document
// store, its write and query code and its other handlers. As Firestore does:
//
// - A write with `currentDocument.updateTime` is refused with
//   FAILED_PRECONDITION unless the stored document exists and was last
//   changed at exactly that time (Firestore's own message, versions in µs).
// - Update times: one per commit, strictly increasing (a commit in the same
//   millisecond as the previous one takes the next millisecond; ms is the
//   store's resolution), so a document's update time names one version. A
//   write that changes nothing keeps the previous update time.
// - A commit is all or nothing: its writes apply in order, and the first
//   refusal (a precondition, or any error) undoes the ones before it.
// - Transactions have real random ids. Their reads (documents, and queries
//   with their result sets) are recorded per id; the commit is ABORTED (the
//   SDKs retry the transaction function) when any of them changed since.
//   Firestore's server SDKs get pessimistic locks instead; optimistic
//   checking at commit gives the same serialisable outcomes, which is what
//   the app relies on.
// - Field transforms run inside the commit (each commit runs to its end on
//   Node's one thread, so an Increment never interleaves with another
//   write), and their results come back in `transform_results`: the new
//   value for an increment or the request time, null for array transforms.
//
// Not covered, because the app does neither: aggregation queries inside a
// transaction are not recorded, and read-only transactions are not checked
// (Firestore reads them at one snapshot; they cannot abort).
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";

import { status } from "@grpc/grpc-js";
import { TimestampFromDate } from "@firestore-emulator/server";

const require = createRequire(import.meta.url);
// The server's own copy of the generated messages (exact version pinned by
// the server's package.json), so requests and documents are the same
// classes it uses.
const proto = "@firestore-emulator/proto/dist/google";
const v1 = require(`${proto}/firestore/v1/firestore`);
const { Value } = require(`${proto}/firestore/v1/document`);
const { WriteResult } = require(`${proto}/firestore/v1/write`);
const { Empty } = require(`${proto}/protobuf/empty`);
const { NullValue } = require(`${proto}/protobuf/struct`);

// The server version this layer was written and tested against: it relies
// on the server's internals (document metadata, writeV1Document,
// v1Transform, v1Query), so another version must be read again first.
const SERVER_VERSION = "0.3.15";
// Firestore ends a transaction after 270 seconds.
const TRANSACTION_LIFETIME_MS = 270_000;

class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// -- time ---------------------------------------------------------------------

let lastCommit = 0;

function commitTime() {
  lastCommit = Math.max(Date.now(), lastCommit + 1);
  return new Date(lastCommit);
}

// A read never appears to happen before a write it sees.
const readTime = () => TimestampFromDate(new Date(Math.max(Date.now(), lastCommit)));

// A document's version as Firestore counts it, in microseconds; 0 when missing.
const version = (document) =>
  document.metadata.hasExist ? document.metadata.updatedAt.getTime() * 1000 : 0;

const micros = (timestamp) => timestamp.seconds * 1_000_000 + Math.floor(timestamp.nanos / 1000);

// -- transactions ---------------------------------------------------------------

class Transaction {
  constructor(readOnly) {
    this.readOnly = readOnly;
    this.began = Date.now();
    this.reads = new Map(); // document path -> version when first read
    this.queries = []; // { parent, query, paths } as first answered
  }

  read(document) {
    const path = document.getPath();
    if (!this.reads.has(path)) this.reads.set(path, version(document));
  }

  query(parent, query, documents) {
    this.queries.push({ parent, query, paths: resultPaths(documents) });
    for (const document of documents) this.read(document);
  }

  assertUnchanged(state) {
    if (this.readOnly) return;
    const changed =
      [...this.reads].some(([path, seen]) => version(state.getDocument(path)) !== seen) ||
      this.queries.some((q) => resultPaths(state.v1Query(q.parent, q.query)) !== q.paths);
    if (changed) {
      throw new RpcError(
        status.ABORTED,
        "Aborted due to cross-transaction contention: a document this transaction read " +
          "changed before it committed.",
      );
    }
  }
}

const resultPaths = (documents) =>
  documents
    .map((d) => d.getPath())
    .sort()
    .join("\n");

class Transactions {
  #open = new Map(); // hex id -> Transaction

  begin(options) {
    const now = Date.now();
    for (const [id, transaction] of this.#open) {
      if (now - transaction.began > TRANSACTION_LIFETIME_MS) this.#open.delete(id);
    }
    const id = randomBytes(16);
    const transaction = new Transaction(Boolean(options?.has_read_only));
    this.#open.set(id.toString("hex"), transaction);
    return { id, transaction };
  }

  find(id) {
    const transaction = this.#open.get(Buffer.from(id).toString("hex"));
    if (transaction === undefined) {
      throw new RpcError(
        status.INVALID_ARGUMENT,
        "The referenced transaction has expired or is no longer valid.",
      );
    }
    return transaction;
  }

  /** The transaction a commit ends (a transaction commits at most once). */
  end(id) {
    const transaction = this.find(id);
    this.#open.delete(Buffer.from(id).toString("hex"));
    return transaction;
  }

  forget(id) {
    this.#open.delete(Buffer.from(id).toString("hex"));
  }
}

/** The request's transaction: a new one (its id to send back), a known one, or none. */
function transactionOf(request, transactions) {
  if (request.has_new_transaction) return transactions.begin(request.new_transaction);
  if (request.has_transaction) return { id: null, transaction: transactions.find(request.transaction) };
  return { id: null, transaction: null };
}

// -- writes -------------------------------------------------------------------------

function checkUpdateTime(write, document) {
  if (!write.has_current_document || !write.current_document.has_update_time) return;
  const required = micros(write.current_document.update_time);
  const stored = version(document);
  if (stored !== required) {
    throw new RpcError(
      status.FAILED_PRECONDITION,
      `the stored version (${stored}) does not match the required base version (${required})`,
    );
  }
}

const sameFields = (a, b) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([key, field]) => b[key]?.eq(field) === true);

function transformResult(document, transform) {
  if (transform.has_increment || transform.has_set_to_server_value) {
    return Value.fromObject(document.getField(transform.field_path).toV1ValueObject());
  }
  return Value.fromObject({ null_value: NullValue.NULL_VALUE }); // as Firestore: arrays give null
}

/** Apply one write at ``time``; ``saved`` collects each touched document's
 * state before the commit, for the undo. */
function applyWrite(state, time, write, saved) {
  if (!write.has_delete && !write.has_update) {
    throw new RpcError(status.INVALID_ARGUMENT, "A write must be an update or a delete.");
  }
  const document = state.getDocument(write.has_delete ? write.delete : write.update.name);
  checkUpdateTime(write, document);
  const before = { metadata: document.metadata, fields: document.fields };
  if (!saved.has(document)) saved.set(document, before);
  // One transform at a time: the server's v1Transform returns after an array
  // or server-time transform, skipping the ones after it.
  const transforms = write.update_transforms;
  write.update_transforms = [];
  state.writeV1Document(time, write);
  for (const transform of transforms) document.v1Transform(time, [transform]);
  if (!document.metadata.hasExist) return new WriteResult({}); // a delete: no update time
  if (before.metadata.hasExist && sameFields(before.fields, document.fields)) {
    document.metadata = before.metadata; // nothing changed: the version stays
  }
  return new WriteResult({
    update_time: TimestampFromDate(document.metadata.updatedAt),
    transform_results: transforms.map((transform) => transformResult(document, transform)),
  });
}

/** Every write of a commit, or none. */
function applyAll(state, time, writes) {
  const saved = new Map();
  try {
    return writes.map((write) => applyWrite(state, time, write, saved));
  } catch (error) {
    // Documents keep immutable metadata and fields objects (immer), so
    // putting the old ones back undoes every write of this commit.
    for (const [document, before] of saved) Object.assign(document, before);
    throw error;
  }
}

// -- the handlers -------------------------------------------------------------------

function serviceError(error) {
  if (typeof error.code !== "number") console.error(error);
  return {
    code: typeof error.code === "number" ? error.code : status.UNKNOWN,
    details: error.message,
    message: error.message,
  };
}

function handlers(state, transactions) {
  return {
    BeginTransaction(call, callback) {
      const { id } = transactions.begin(call.request.options);
      callback(null, new v1.BeginTransactionResponse({ transaction: id }));
    },

    Rollback(call, callback) {
      transactions.forget(call.request.transaction);
      callback(null, new Empty());
    },

    BatchGetDocuments(call) {
      try {
        const { id, transaction } = transactionOf(call.request, transactions);
        if (id) call.write(new v1.BatchGetDocumentsResponse({ transaction: id }));
        const read_time = readTime();
        for (const path of call.request.documents) {
          const document = state.getDocument(path);
          transaction?.read(document);
          const answer = document.metadata.hasExist
            ? { found: document.toV1DocumentObject() }
            : { missing: path };
          call.write(v1.BatchGetDocumentsResponse.fromObject({ ...answer, read_time }));
        }
        call.end();
      } catch (error) {
        call.emit("error", serviceError(error));
      }
    },

    RunQuery(call) {
      try {
        const { id, transaction } = transactionOf(call.request, transactions);
        const { parent, structured_query } = call.request;
        const documents = state.v1Query(parent, structured_query);
        transaction?.query(parent, structured_query, documents);
        const read_time = readTime();
        const answers = documents.length ? documents : [null];
        answers.forEach((document, i) => {
          call.write(
            v1.RunQueryResponse.fromObject({
              ...(document ? { document: document.toV1DocumentObject() } : {}),
              ...(id && i === 0 ? { transaction: id } : {}),
              done: i === answers.length - 1,
              read_time,
              skipped_results: 0,
            }),
          );
        });
        call.end();
      } catch (error) {
        call.emit("error", serviceError(error));
      }
    },

    Commit(call, callback) {
      try {
        const { transaction: id, writes } = call.request;
        if (id.length > 0) transactions.end(id).assertUnchanged(state);
        const time = commitTime();
        const results = applyAll(state, time, writes);
        callback(
          null,
          new v1.CommitResponse({ commit_time: TimestampFromDate(time), write_results: results }),
        );
      } catch (error) {
        callback(serviceError(error));
      }
    },
  };
}

/** Replace the server's commit and transaction handlers with Firestore's
 * semantics. Throws on a server version this was not written for. */
export function enforceFirestoreSemantics(firestore) {
  const { version: found } = require("@firestore-emulator/server/package.json");
  if (found !== SERVER_VERSION) {
    throw new Error(
      `@firestore-emulator/server is ${found}, but adminapp/testing/emulator/firestore-semantics.mjs was written ` +
        `for ${SERVER_VERSION}: read the new server's commit and transaction code, adapt this ` +
        "layer, run tests/integration/test_firestore_semantics.py, then update SERVER_VERSION.",
    );
  }
  const definition = v1.UnimplementedFirestoreService.definition;
  for (const [name, handler] of Object.entries(handlers(firestore.state, new Transactions()))) {
    const method = definition[name];
    if (!firestore.server.unregister(method.path)) {
      throw new Error(`the Firestore server has no ${name} handler to replace`);
    }
    firestore.server.register(
      method.path,
      handler,
      method.responseSerialize,
      method.requestDeserialize,
      method.responseStream ? "serverStream" : "unary",
    );
  }
}
