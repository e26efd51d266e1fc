"""`.npmrc` skips npm's optional packages (compiling re2 took most of a first
`make run`). Each one in the lock file was checked to be unused here; a new
one has to be checked before it is skipped without anyone noticing."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RE2_BUILD = "re2's install-time build tools"
SKIPPED = {
    # superstatic (firebase-tools' Hosting emulator) loads re2 in a try/except
    # and uses RegExp without it; we run only the Auth emulator.
    "node_modules/re2": "superstatic's optional RegExp engine",
    "node_modules/install-artifact-from-github": RE2_BUILD,
    "node_modules/nan": RE2_BUILD,
    "node_modules/node-gyp": RE2_BUILD,
    "node_modules/node-gyp/node_modules/isexe": RE2_BUILD,
    "node_modules/node-gyp/node_modules/which": RE2_BUILD,
    "node_modules/env-paths": RE2_BUILD,
    "node_modules/exponential-backoff": RE2_BUILD,
    "node_modules/nopt": RE2_BUILD,
    "node_modules/abbrev": RE2_BUILD,
    "node_modules/proc-log": RE2_BUILD,
    "node_modules/tinyglobby": RE2_BUILD,
    "node_modules/fdir": RE2_BUILD,
    "node_modules/picomatch": RE2_BUILD,
    # cli-table3 loads it in a try/except and prints plain text without it.
    "node_modules/@colors/colors": "cli-table3's optional colours",
    # jackspeak uses node:util's parseArgs on Node >= 18.11.
    "node_modules/@pkgjs/parseargs": "parseArgs for Node < 18.11",
    # pg loads it only on Cloudflare Workers.
    "node_modules/pg-cloudflare": "pg's socket on Cloudflare Workers",
}


def test_npmrc_omits_optional_packages():
    settings = (ROOT / ".npmrc").read_text().splitlines()
    assert "omit=optional" in settings


def test_every_optional_package_in_the_lock_file_was_checked():
    packages = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    optional = {path for path, entry in packages.items() if entry.get("optional")}
    assert optional == set(SKIPPED)


def test_re2_is_not_installed():
    assert (ROOT / "node_modules" / "firebase-tools").is_dir(), "run npm ci"
    assert not (ROOT / "node_modules" / "re2").exists(), "re2 left from before .npmrc: run npm ci"
