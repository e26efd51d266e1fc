// Loaded with `node --require` into firebase-tools' Auth emulator
// (emulator_control._start_auth): its request validators are compiled when
// an operation is first called, not all at start-up.
//
// The emulator serves the Identity Toolkit API through exegesis, which by
// default compiles an ajv validator for every schema of that API before it
// answers: about 7 s of the 10 s a start takes on a quiet two-core machine
// (node --cpu-prof), once per test worker and again for each restart.
// exegesis's own `lazyCompileValidationSchemas` option compiles the same
// schemas on first use instead, so every request is validated as before;
// firebase-tools has no setting for it, so it is added here to the options
// firebase-tools passes. It says so in the emulator's log, where
// tests/integration/test_auth_emulator.py looks for it, with a request that the
// validators refuse.
"use strict";

const Module = require("module");

const PACKAGE = "exegesis-express";
const NOTICE = "adminapp: request validators are compiled on first use";
const load = Module._load;

Module._load = function loadWithLazyValidators(request, parent, isMain) {
  const loaded = load.call(this, request, parent, isMain);
  if (request === PACKAGE && !loaded.validatorsOnFirstUse) {
    const middleware = loaded.middleware;
    loaded.middleware = (spec, options) =>
      middleware(spec, { ...options, lazyCompileValidationSchemas: true });
    loaded.validatorsOnFirstUse = true;
    process.stderr.write(`${NOTICE}\n`);
  }
  return loaded;
};
