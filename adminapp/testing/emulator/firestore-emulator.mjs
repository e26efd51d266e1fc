// Local Firestore emulator for development and tests.
//
// The official emulator needs Java 21 and a download that this project cannot
// rely on, so we serve the Firestore gRPC API from @firestore-emulator/server.
// One port carries both protocols, like the official emulator: gRPC (HTTP/2
// with prior knowledge) for the client libraries, and a small HTTP/1.1 control
// API with the official emulator's paths, so tooling written for one works
// with the other:
//   GET    /                                                        -> "Ok"
//   DELETE /emulator/v1/projects/{project}/databases/(default)/documents
//          -> clears every document (tests call this between cases)
//
// The server alone does not enforce Firestore's preconditions, atomic
// commits or transactions, which the app's single-use rules rest on;
// adminapp/testing/emulator/firestore-semantics.mjs adds them (read its header for why).
// --upstream-semantics serves the server as it comes, without them: only
// tests/integration/test_firestore_semantics.py uses it, to show what they
// prevent.
//
// Usage: node adminapp/testing/emulator/firestore-emulator.mjs [--host 127.0.0.1] [--port 8080]
//                                            [--upstream-semantics]
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import { parseArgs } from "node:util";

import { ServerCredentials } from "@grpc/grpc-js";
import {
  FirestoreServer,
  FirestoreStateCollection,
  FirestoreStateDocument,
} from "@firestore-emulator/server";

import { enforceFirestoreSemantics } from "./firestore-semantics.mjs";

// The emulator keeps its state in immer objects, and immer deep-freezes a
// collection's whole document map on every lookup, so each read costs time
// in proportion to the collection's size (measured: a get among 10,000
// documents took ~60% more CPU than among 10). Real Firestore reads a
// document by id at the same cost whatever the collection holds, and
// `make bench` compares exactly that, so switch freezing off: it only guards
// against mutation outside immer's drafts, which the emulator never does.
// (createRequire: the emulator loads immer's CommonJS build, and the setting
// lives in that module instance.)
createRequire(import.meta.url)("immer").setAutoFreeze(false);

// A collection looks a document up through immer's produce, and adds a new
// one there, which copies the collection's whole document map: each new
// document costs time in proportion to the collection, so filling one is
// quadratic (measured: 2,000 more session documents took 5.6 s of emulator
// CPU at 0-2,000 and 13.4 s at 4,000-6,000; seeding `make bench`'s 20,000
// took minutes). Real Firestore adds a document at the same cost whatever
// the collection holds. Look up and add in place: with auto-freeze off
// nothing relies on the old map staying as it was, and the semantics layer
// undoes a refused commit document by document, not map by map. Own keys
// only: a document id such as "constructor" is not an inherited property.
FirestoreStateCollection.prototype.getDocument = function getDocument(name) {
  if (!Object.hasOwn(this.documents, name)) {
    this.documents[name] = new FirestoreStateDocument(
      this.emitter,
      this.database,
      this,
      name,
      {},
      {},
    );
  }
  return this.documents[name];
};

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const CLEAR_PATH = /^\/emulator\/v1\/projects\/[^/]+\/databases\/[^/]+\/documents\/?$/;

const { values: options } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
    "upstream-semantics": { type: "boolean", default: false },
  },
});

const firestore = new FirestoreServer();
if (!options["upstream-semantics"]) enforceFirestoreSemantics(firestore);
// FirestoreServer.start() binds 0.0.0.0; we want to choose the interface, so
// hand connections to its gRPC server ourselves.
const grpcConnections = firestore.server.createConnectionInjector(
  ServerCredentials.createInsecure(),
);

const control = http.createServer((request, response) => {
  if (request.method === "GET" && request.url === "/") {
    response.writeHead(200, { "content-type": "text/plain" }).end("Ok\n");
  } else if (request.method === "DELETE" && CLEAR_PATH.test(request.url)) {
    firestore.state.clear();
    response.writeHead(200, { "content-type": "application/json" }).end("{}\n");
  } else {
    response.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
  }
});

// Route each connection by its first bytes: the HTTP/2 connection preface
// means gRPC, anything else is an HTTP/1.1 control request.
const listener = net.createServer((socket) => {
  socket.once("readable", () => {
    const head = socket.read(HTTP2_PREFACE.length) ?? socket.read();
    if (head === null) {
      socket.destroy();
      return;
    }
    socket.unshift(head);
    if (head.equals(HTTP2_PREFACE.subarray(0, head.length))) {
      grpcConnections.injectConnection(socket);
    } else {
      control.emit("connection", socket);
    }
  });
});

listener.listen(Number(options.port), options.host, () => {
  const semantics = options["upstream-semantics"] ? "upstream's (no preconditions)" : "Firestore's";
  console.log(`Firestore emulator listening on ${options.host}:${options.port}, ${semantics} semantics`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    listener.close();
    firestore.stop();
    process.exit(0);
  });
}
