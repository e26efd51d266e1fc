"""firebase.json's Hosting section and firestore.indexes.json's TTL policies
(docs/deploy.md): what `firebase deploy` will be given.

Both files are checked first by firebase-tools' own validators (the pinned
package in node_modules, as `firebase deploy` runs them), then for what this
deployment needs of them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from devtools import run as make_run

ROOT = Path(__file__).resolve().parents[2]
FIREBASE_JSON = ROOT / "firebase.json"
INDEXES_JSON = ROOT / "firestore.indexes.json"
# The Cloud Run service Hosting sends /admin to, and its documented region
# (Seoul); scripts/deploy.sh reads both from firebase.json.
SERVICE_ID = "adminapp"
REGION = "asia-northeast3"
ADMIN_SOURCES = ("/admin", "/admin/**")
# The session records' TTL field (the app writes it; Firestore deletes a
# record once this time has passed).
SESSION_TTL = ("admin_sessions", "expire_at")

# firebase-tools' validation of firebase.json (lib/firebaseConfigValidate.js,
# run by every deploy) and of the indexes file (FirestoreApi.validateSpec, run
# by `firebase deploy --only firestore:indexes`). Prints the problems found.
_VALIDATE = """
const {getValidator, getErrorMessage} = require("firebase-tools/lib/firebaseConfigValidate");
const {FirestoreApi} = require("firebase-tools/lib/firestore/api");
const [config, indexes] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const validate = getValidator();
const problems = validate(config) ? [] : validate.errors.map(getErrorMessage);
try {
  const api = new FirestoreApi();
  api.validateSpec(api.upgradeOldSpec(indexes));
} catch (error) {
  problems.push(String(error.message || error));
}
console.log(JSON.stringify(problems));
"""


def firebase_tools_problems(config: dict, indexes: dict) -> list[str]:
    result = subprocess.run(
        ["node", "-e", _VALIDATE],
        input=json.dumps([config, indexes]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture
def config() -> dict:
    return json.loads(FIREBASE_JSON.read_text())


@pytest.fixture
def indexes() -> dict:
    return json.loads(INDEXES_JSON.read_text())


def test_firebase_tools_accepts_both_files(config, indexes):
    assert firebase_tools_problems(config, indexes) == []


def test_firebase_tools_validation_would_catch_a_mistake(config, indexes):
    # The check above can fail: a misspelt rewrite key and a TTL flag that
    # is not a boolean are both refused.
    config["hosting"]["rewrites"][0]["run"]["service"] = SERVICE_ID
    indexes["fieldOverrides"][0]["ttl"] = "yes"
    problems = firebase_tools_problems(config, indexes)
    assert any("unknown property" in problem for problem in problems)
    assert any("ttl" in problem for problem in problems)


def test_admin_and_only_admin_goes_to_the_cloud_run_service(config):
    hosting = config["hosting"]
    assert hosting["rewrites"] == [
        {"source": source, "run": {"serviceId": SERVICE_ID, "region": REGION}}
        for source in ADMIN_SOURCES
    ]
    # Nothing else is redirected or rewritten: the rest of the site is the
    # product's own, served from the public folder.
    assert "redirects" not in hosting
    assert "i18n" not in hosting


def test_no_admin_response_may_be_stored_by_hosting_or_a_browser(config):
    rules = {rule["source"]: rule["headers"] for rule in config["hosting"]["headers"]}
    for source in ADMIN_SOURCES:
        assert {"key": "Cache-Control", "value": "private, no-store"} in rules[source]
    # No rule anywhere asks a cache to keep something (public, max-age,
    # s-maxage): Hosting's CDN caches a Cloud Run response only when told to.
    for headers in rules.values():
        for header in headers:
            if header["key"].lower() == "cache-control":
                assert not {"public", "max-age", "s-maxage"} & _directives(header["value"])


def _directives(value: str) -> set[str]:
    return {part.split("=")[0].strip().lower() for part in value.split(",")}


def test_the_public_folder_cannot_shadow_the_admin_pages_or_hosting_s_own_paths(config):
    # Hosting serves an exact static match before any rewrite, and /__/ is
    # its own (signInWithRedirect's /__/auth/handler): the product's files
    # may use neither name.
    public = ROOT / config["hosting"]["public"]
    assert (public / "index.html").is_file()
    names = {path.relative_to(public).parts[0] for path in public.rglob("*")}
    assert not {name for name in names if name == "admin" or name.startswith("admin.")}
    assert not {name for name in names if name.startswith("__")}


def test_the_emulators_keep_the_ports_make_run_uses(config):
    emulators = config["emulators"]
    assert make_run.emulator_ports() == (9099, 8080)
    assert emulators["ui"] == {"enabled": False}
    assert emulators["singleProjectMode"] is True


def test_sessions_have_a_ttl_policy(indexes):
    ttls = {
        (override["collectionGroup"], override["fieldPath"])
        for override in indexes["fieldOverrides"]
        if override.get("ttl") is True
    }
    assert SESSION_TTL in ttls


def test_the_ttl_field_keeps_the_one_index_a_range_query_needs(indexes):
    # An override replaces the field's automatic indexes: keep ascending
    # (records that expire before a time), drop the rest. A timestamp
    # field that grows with every write costs write throughput per index.
    (override,) = [
        each
        for each in indexes["fieldOverrides"]
        if (each["collectionGroup"], each["fieldPath"]) == SESSION_TTL
    ]
    assert override["indexes"] == [{"order": "ASCENDING", "queryScope": "COLLECTION"}]
