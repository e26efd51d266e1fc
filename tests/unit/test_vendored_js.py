"""The JavaScript we vendor (the Firebase JS SDK, zxcvbn) is exactly the
pinned npm packages'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adminapp.web.auth.firebase_web import FIREBASE_JS_SDK_VERSION, GSTATIC_APP_URL
from adminapp.web.auth.reset import ZXCVBN_PATH, ZXCVBN_VERSION
from adminapp.web.mfa.passkeys import SIMPLEWEBAUTHN_JS, SIMPLEWEBAUTHN_VERSION
from tests.support.axe import AXE_JS

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "adminapp" / "static" / "vendor" / "firebase" / FIREBASE_JS_SDK_VERSION
PACKAGE = ROOT / "node_modules" / "firebase"


def test_package_json_pins_the_version_we_serve():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["firebase"]
    assert pinned == FIREBASE_JS_SDK_VERSION


@pytest.mark.parametrize("name", ["firebase-app.js", "firebase-auth.js"])
def test_vendored_file_matches_the_npm_package(name):
    installed = json.loads((PACKAGE / "package.json").read_text())["version"]
    assert installed == FIREBASE_JS_SDK_VERSION, "run npm ci"
    assert (VENDOR / name).read_bytes() == (PACKAGE / name).read_bytes()


def test_auth_module_imports_app_from_the_url_our_import_map_redirects():
    assert GSTATIC_APP_URL in (VENDOR / "firebase-auth.js").read_text()


def test_zxcvbn_is_the_pinned_npm_package():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["zxcvbn"]
    assert pinned == ZXCVBN_VERSION
    package = ROOT / "node_modules" / "zxcvbn"
    assert json.loads((package / "package.json").read_text())["version"] == pinned, "run npm ci"
    vendored = ROOT / "adminapp" / "static" / ZXCVBN_PATH
    assert (vendored / "zxcvbn.js").read_bytes() == (package / "dist" / "zxcvbn.js").read_bytes()
    assert (vendored / "LICENSE.txt").read_bytes() == (package / "LICENSE.txt").read_bytes()


def test_simplewebauthn_is_the_pinned_npm_package():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"][
        "@simplewebauthn/browser"
    ]
    assert pinned == SIMPLEWEBAUTHN_VERSION
    package = ROOT / "node_modules" / "@simplewebauthn" / "browser"
    assert json.loads((package / "package.json").read_text())["version"] == pinned, "run npm ci"
    vendored = ROOT / "adminapp" / "static" / SIMPLEWEBAUTHN_JS
    assert vendored.read_bytes() == (package / "dist" / "bundle" / "index.umd.min.js").read_bytes()
    assert (vendored.parent / "LICENSE.md").read_bytes() == (package / "LICENSE.md").read_bytes()


def test_axe_core_is_pinned_for_the_tests_and_never_served():
    """axe-core (tests/support/axe.py) is a test tool: an exact pin among the
    devDependencies, installed by npm ci, and nowhere in what the app serves."""
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    assert pinned[0].isdigit(), "pin an exact version, not a range"
    installed = json.loads((AXE_JS.parent / "package.json").read_text())["version"]
    assert installed == pinned, "run npm ci"
    served = ROOT / "adminapp" / "static"
    assert not [path for path in served.rglob("*") if "axe" in path.name.lower()]
