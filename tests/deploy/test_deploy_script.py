"""scripts/deploy.sh, run against stand-in `gcloud` and `firebase` programs
(tests/deploy/cloud_standin.py) that record every call and answer what the
script reads back: every command, in order, with its flags; no secret in any
argument; a missing or unsafe input stops it before the first command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from adminapp.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "deploy.sh"
STANDIN = Path(__file__).resolve().parent / "cloud_standin.py"

PROJECT = "acme-admin"
PUBLIC_URL = "https://admin.acme.example"
WEB_API_KEY = "AIzaSyStandInKey-0123456789abcdefghijk"
INPUTS = {
    "FIREBASE_PROJECT_ID": PROJECT,
    "PUBLIC_URL": PUBLIC_URL,
    "FIREBASE_WEB_API_KEY": WEB_API_KEY,
}
SA = f"adminapp-run@{PROJECT}.iam.gserviceaccount.com"
REGION = "asia-northeast3"
IMAGE = re.compile(
    rf"^{REGION}-docker\.pkg\.dev/{PROJECT}/adminapp/adminapp:\d{{8}}-\d{{6}}-([0-9a-f]{{12}}|unversioned)$"
)
# What the stand-in's Memorystore answers (cloud_standin.py).
REDIS_AUTH = "a" * 36
SETTING_PREFIXES = ("FIREBASE_", "FIRESTORE_", "ADMINAPP_", "SECRET_KEY", "MFA_", "PUBLIC_URL")


@dataclass
class Run:
    status: int
    output: str
    calls: list[dict]

    def commands(self) -> list[list[str]]:
        """Each call as its program and arguments, with the image's tag and
        the temporary settings file's path replaced by placeholders, and the
        --project/--quiet every gcloud call ends with taken off (checked once
        in test_every_gcloud_call_names_the_project_and_asks_nothing)."""
        result = []
        for call in self.calls:
            args = []
            for arg in call["args"]:
                if arg.startswith("--tag=") or arg.startswith("--image="):
                    flag, value = arg.split("=", 1)
                    assert IMAGE.match(value), value
                    arg = f"{flag}=<image>"
                elif arg.startswith("--env-vars-file="):
                    arg = "--env-vars-file=<settings>"
                elif arg == str(ROOT):
                    arg = "<repository>"
                args.append(arg)
            if call["program"] == "gcloud":
                assert args[-2:] == [f"--project={PROJECT}", "--quiet"], args
                args = args[:-2]
            result.append([call["program"], *args])
        return result

    def call(self, *words: str) -> dict:
        (found,) = [c for c in self.calls if c["args"][: len(words)] == list(words)]
        return found

    def settings(self) -> dict[str, str]:
        """The service's plain settings, as `gcloud run deploy` got them."""
        text = self.call("run", "deploy")["env_vars_file"]
        return {
            name: json.loads(value)
            for name, value in (line.split(": ", 1) for line in text.splitlines())
        }

    def piped(self) -> dict[str, list[str]]:
        """Each secret's values, as piped to `secrets versions add`."""
        values: dict[str, list[str]] = {}
        for call in self.calls:
            if call["args"][:3] == ["secrets", "versions", "add"]:
                values.setdefault(call["args"][3], []).append(call["stdin"])
        return values


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    # load_settings() below reads os.environ too; the emulators' variables
    # (set by the session's emulator fixture) would refuse production.
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def deploy(tmp_path):
    """Run the script with the stand-ins first on PATH, the given inputs and
    a world (what exists in the project beforehand)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gcloud", "firebase"):
        (bin_dir / name).symlink_to(STANDIN)
    log = tmp_path / "calls.jsonl"
    world_file = tmp_path / "world.json"

    def run(*args: str, env: dict[str, str] | None = None, world: dict | None = None) -> Run:
        log.write_text("")
        if world is not None or not world_file.exists():
            world_file.write_text(json.dumps(world or {}))
        result = subprocess.run(
            [str(SCRIPT), *args],
            env={
                # Only what is given here: nothing from the developer's shell.
                "PATH": f"{bin_dir}:/usr/bin:/bin",
                "HOME": str(tmp_path),
                "STANDIN_LOG": str(log),
                "STANDIN_WORLD": str(world_file),
                **(INPUTS if env is None else env),
            },
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return Run(result.returncode, result.stdout + result.stderr, calls)

    run.world = lambda: json.loads(world_file.read_text())
    return run


def expected_first_deploy(*, secrets: str) -> list[list[str]]:
    return [
        [
            "gcloud", "services", "enable",
            "run.googleapis.com", "cloudbuild.googleapis.com", "artifactregistry.googleapis.com",
            "firestore.googleapis.com", "firebaserules.googleapis.com",
            "identitytoolkit.googleapis.com", "secretmanager.googleapis.com",
            "firebasehosting.googleapis.com", "iam.googleapis.com",
        ],
        ["gcloud", "iam", "service-accounts", "describe", SA],
        [
            "gcloud", "iam", "service-accounts", "create", "adminapp-run",
            "--display-name=adminapp (adminapp) on Cloud Run",
        ],
        [
            "gcloud", "projects", "add-iam-policy-binding", PROJECT,
            f"--member=serviceAccount:{SA}", "--role=roles/datastore.user", "--condition=None",
        ],
        [
            "gcloud", "projects", "add-iam-policy-binding", PROJECT,
            f"--member=serviceAccount:{SA}", "--role=roles/firebaseauth.admin", "--condition=None",
        ],
        *new_secret("adminapp-secret-key"),
        *new_secret("adminapp-mfa-encryption-key"),
        *new_secret("adminapp-audit-chain-key"),
        [*VERSIONS, "adminapp-secret-key", *LATEST],
        [*VERSIONS, "adminapp-mfa-encryption-key", *LATEST],
        [*VERSIONS, "adminapp-audit-chain-key", *LATEST],
        ["gcloud", "artifacts", "repositories", "describe", "adminapp", f"--location={REGION}"],
        [
            "gcloud", "artifacts", "repositories", "create", "adminapp", f"--location={REGION}",
            "--repository-format=docker", "--description=adminapp images",
        ],
        ["gcloud", "builds", "submit", "<repository>", "--tag=<image>"],
        [
            "gcloud", "run", "deploy", "adminapp",
            f"--region={REGION}",
            "--image=<image>",
            f"--service-account={SA}",
            "--allow-unauthenticated",
            "--no-cpu-throttling",
            "--cpu-boost",
            "--min-instances=0",
            "--max-instances=1",
            "--env-vars-file=<settings>",
            f"--set-secrets={secrets}",
        ],
        ["gcloud", "firestore", "databases", "describe", "--database=(default)"],
        [
            "gcloud", "firestore", "databases", "create", "--database=(default)",
            f"--location={REGION}", "--type=firestore-native",
        ],
        ["firebase", "deploy", "--only", "firestore", f"--project={PROJECT}", "--non-interactive"],
        [
            "gcloud", "firestore", "fields", "ttls", "update", "expire_at",
            "--collection-group=admin_audit", "--database=(default)", "--enable-ttl", "--async",
        ],
        [
            "gcloud", "firestore", "fields", "ttls", "update", "expire_at",
            "--collection-group=admin_sessions", "--database=(default)", "--enable-ttl", "--async",
        ],
        ["firebase", "deploy", "--only", "hosting", f"--project={PROJECT}", "--non-interactive"],
    ]  # fmt: skip


VERSIONS = ["gcloud", "secrets", "versions", "list"]
LATEST = ["--filter=state:ENABLED", "--sort-by=~createTime", "--limit=1", "--format=value(name)"]


def new_secret(name: str) -> list[list[str]]:
    """A secret made by the script: created, a first version piped in, and
    readable by the service account alone."""
    return [
        ["gcloud", "secrets", "describe", name],
        [
            "gcloud", "secrets", "create", name,
            "--replication-policy=automatic", "--labels=app=adminapp",
        ],
        [*VERSIONS, name, *LATEST],
        ["gcloud", "secrets", "versions", "add", name, "--data-file=-"],
        [
            "gcloud", "secrets", "add-iam-policy-binding", name,
            f"--member=serviceAccount:{SA}", "--role=roles/secretmanager.secretAccessor",
        ],
    ]  # fmt: skip


def existing_secret(name: str) -> list[list[str]]:
    return [
        ["gcloud", "secrets", "describe", name],
        [*VERSIONS, name, *LATEST],
        [
            "gcloud", "secrets", "add-iam-policy-binding", name,
            f"--member=serviceAccount:{SA}", "--role=roles/secretmanager.secretAccessor",
        ],
    ]  # fmt: skip


FIRST_SECRETS = (
    "SECRET_KEY=adminapp-secret-key:1,MFA_ENCRYPTION_KEY=adminapp-mfa-encryption-key:1,"
    "AUDIT_CHAIN_KEY=adminapp-audit-chain-key:1"
)


def test_first_deploy_runs_every_step_in_order(deploy):
    run = deploy()
    assert run.status == 0, run.output
    assert run.commands() == expected_first_deploy(secrets=FIRST_SECRETS)


def test_every_gcloud_call_names_the_project_and_asks_nothing(deploy):
    run = deploy()
    gcloud_calls = [call["args"] for call in run.calls if call["program"] == "gcloud"]
    assert gcloud_calls
    for args in gcloud_calls:
        assert args[-2:] == [f"--project={PROJECT}", "--quiet"]


def test_the_service_gets_the_production_settings_the_app_accepts(deploy):
    run = deploy()
    settings = run.settings()
    assert settings == {
        "ADMINAPP_ENV": "production",
        "CLOUD_RUN_CPU": "always",
        "COOKIE_MODE": "hosting",
        "FIREBASE_AUTH_DOMAIN": f"{PROJECT}.firebaseapp.com",
        "FIREBASE_PROJECT_ID": PROJECT,
        "FIREBASE_WEB_API_KEY": WEB_API_KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "TRUSTED_PROXY_COUNT": "2",
        "WEB_CONCURRENCY": "1",
    }
    # With the secrets the script made, the app's own start-up check passes
    # in production: the generated keys are strong enough, and one worker
    # counting rate limits in memory is allowed.
    piped = run.piped()
    (secret_key,) = piped["adminapp-secret-key"]
    (mfa_key,) = piped["adminapp-mfa-encryption-key"]
    (audit_key,) = piped["adminapp-audit-chain-key"]
    keys = {"SECRET_KEY": secret_key, "MFA_ENCRYPTION_KEY": mfa_key, "AUDIT_CHAIN_KEY": audit_key}
    loaded = load_settings({**settings, **keys})
    assert loaded.production
    assert loaded.trusted_proxy_count == 2
    assert loaded.webauthn_rp_id == "admin.acme.example"


def test_secrets_travel_through_pipes_never_in_arguments_or_output(deploy):
    run = deploy()
    values = [value for versions in run.piped().values() for value in versions]
    assert len(values) == 3
    assert len(set(values)) == 3 and all(len(value) >= 43 for value in values)
    for value in values:
        assert value not in run.output
        for call in run.calls:
            assert not any(value in arg for arg in call["args"]), call["program"]
            assert value not in call.get("env_vars_file", "")


def test_a_second_deploy_updates_and_creates_nothing(deploy):
    assert deploy().status == 0
    before = deploy.world()["secrets"]
    run = deploy()
    assert run.status == 0, run.output
    commands = run.commands()
    assert not [c for c in commands if "create" in c or c[1:4] == ["secrets", "versions", "add"]]
    assert deploy.world()["secrets"] == before  # the keys were not replaced
    # The image is built and deployed again, pinned to the same versions.
    assert ["gcloud", "builds", "submit", "<repository>", "--tag=<image>"] in commands
    assert f"--set-secrets={FIRST_SECRETS}" in run.call("run", "deploy")["args"]
    assert commands[-1][:4] == ["firebase", "deploy", "--only", "hosting"]


def test_a_secret_without_an_enabled_version_gets_one_and_the_newest_is_pinned(deploy):
    world = {
        "service_accounts": {SA: True},
        "secrets": {
            "adminapp-secret-key": ["k" * 64, "K" * 64],
            "adminapp-mfa-encryption-key": [],
            "adminapp-audit-chain-key": ["a" * 43],
        },
        "repositories": {"adminapp": True},
        "databases": {"(default)": True},
    }
    run = deploy(world=world)
    assert run.status == 0, run.output
    assert "adminapp-secret-key" not in run.piped()  # kept as it was
    assert len(run.piped()["adminapp-mfa-encryption-key"]) == 1
    assert (
        "--set-secrets=SECRET_KEY=adminapp-secret-key:2,"
        "MFA_ENCRYPTION_KEY=adminapp-mfa-encryption-key:1,"
        "AUDIT_CHAIN_KEY=adminapp-audit-chain-key:1"
    ) in run.call("run", "deploy")["args"]


@pytest.mark.parametrize("missing", sorted(INPUTS))
def test_a_missing_input_stops_it_before_any_command(deploy, missing):
    env = {name: value for name, value in INPUTS.items() if name != missing}
    run = deploy(env=env)
    assert run.status == 2
    assert run.calls == []
    assert missing in run.output


def test_inputs_may_be_flags(deploy):
    run = deploy(
        "--project", PROJECT, "--public-url", PUBLIC_URL, "--web-api-key", WEB_API_KEY, env={}
    )
    assert run.status == 0, run.output
    assert run.commands() == expected_first_deploy(secrets=FIRST_SECRETS)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"FIREBASE_PROJECT_ID": "demo-adminapp"}, "demo- project"),
        ({"PUBLIC_URL": "http://admin.acme.example"}, "must be https://host"),
        ({"PUBLIC_URL": "https://admin.acme.example/admin"}, "no path"),
        ({"CLOUD_RUN_REGION": "us-central1"}, "firebase.json rewrites /admin to service adminapp"),
        ({"CLOUD_RUN_SERVICE": "backoffice"}, "firebase.json rewrites /admin to service adminapp"),
        ({"MAX_INSTANCES": "3"}, "needs Redis"),
        ({"REDIS_INSTANCE": "cache"}, "needs --vpc-connector"),
        ({"REDIS_URL": "memory://"}, "redis:// or rediss://"),
        ({"FIREBASE_WEB_API_KEY": 'AIza"; rm -rf /'}, "not an API key"),
    ],
)
def test_an_unsafe_input_stops_it_before_any_command(deploy, change, says):
    run = deploy(env={**INPUTS, **change})
    assert run.status == 2
    assert run.calls == []
    assert says in run.output


def test_a_redis_url_is_never_taken_as_a_flag(deploy):
    run = deploy("--redis-url", "redis://:hunter2@10.1.2.3:6379/0")
    assert run.status == 2
    assert run.calls == []
    assert "REDIS_URL in the environment" in run.output


def test_several_instances_with_memorystore_and_a_vpc_connector(deploy):
    run = deploy(
        "--redis-instance", "adminapp-cache", "--vpc-connector", "adminapp-vpc",
        "--max-instances", "4",
    )  # fmt: skip
    assert run.status == 0, run.output
    commands = run.commands()
    enabled = commands[0]
    assert enabled[-2:] == ["vpcaccess.googleapis.com", "redis.googleapis.com"]
    # The network and Redis come before the secrets that hold Redis's URL.
    redis_steps = [
        ["gcloud", "compute", "networks", "vpc-access", "connectors", "describe",
         "adminapp-vpc", f"--region={REGION}"],
        ["gcloud", "compute", "networks", "vpc-access", "connectors", "create",
         "adminapp-vpc", f"--region={REGION}", "--network=default", "--range=10.8.0.0/28"],
        ["gcloud", "redis", "instances", "describe", "adminapp-cache", f"--region={REGION}"],
        ["gcloud", "redis", "instances", "create", "adminapp-cache", f"--region={REGION}",
         "--network=default", "--tier=basic", "--size=1", "--redis-version=redis_7_0",
         "--enable-auth"],
        ["gcloud", "redis", "instances", "describe", "adminapp-cache", f"--region={REGION}",
         "--format=value(host)"],
        ["gcloud", "redis", "instances", "describe", "adminapp-cache", f"--region={REGION}",
         "--format=value(port)"],
        ["gcloud", "redis", "instances", "get-auth-string", "adminapp-cache",
         f"--region={REGION}", "--format=value(authString)"],
    ]  # fmt: skip
    start = commands.index(redis_steps[0])
    assert commands[start : start + len(redis_steps)] == redis_steps
    then = commands[start + len(redis_steps)]
    assert then == ["gcloud", "secrets", "describe", "adminapp-secret-key"]

    url = f"redis://:{REDIS_AUTH}@10.0.0.3:6379/0"
    assert run.piped()["adminapp-redis-url"] == [url]
    deployed = run.call("run", "deploy")["args"]
    assert "--max-instances=4" in deployed
    assert deployed[-4:-2] == ["--vpc-connector=adminapp-vpc", "--vpc-egress=private-ranges-only"]
    assert f"--set-secrets={FIRST_SECRETS},RATELIMIT_STORAGE_URI=adminapp-redis-url:1" in deployed
    assert run.settings()["WEB_CONCURRENCY"] == "2"
    for secret in (url, REDIS_AUTH):
        assert secret not in run.output
        assert not any(secret in arg for call in run.calls for arg in call["args"])

    # Again, with the same instance: no new version of its URL.
    again = deploy("--redis-instance", "adminapp-cache", "--vpc-connector", "adminapp-vpc")
    assert again.status == 0, again.output
    assert "adminapp-redis-url" not in again.piped()
    assert not [c for c in again.commands() if "create" in c]


def test_a_redis_of_your_own_comes_from_the_environment(deploy):
    url = "rediss://:s3cret-redis-password@redis.internal.acme.example:6380/2"
    run = deploy(env={**INPUTS, "REDIS_URL": url, "MAX_INSTANCES": "2"})
    assert run.status == 0, run.output
    assert run.piped()["adminapp-redis-url"] == [url]
    assert not any(url in arg or "s3cret" in arg for call in run.calls for arg in call["args"])
    assert "s3cret" not in run.output
    assert not any("vpc" in arg for arg in run.call("run", "deploy")["args"])
    # A changed URL becomes the secret's next version, and is pinned.
    moved = url.replace(":6380/2", ":6381/2")
    again = deploy(env={**INPUTS, "REDIS_URL": moved, "MAX_INSTANCES": "2"})
    assert again.piped()["adminapp-redis-url"] == [moved]
    assert any(
        arg.endswith("RATELIMIT_STORAGE_URI=adminapp-redis-url:2")
        for arg in again.call("run", "deploy")["args"]
    )


def test_a_settings_file_adds_the_team_s_own_settings(deploy, tmp_path):
    settings = tmp_path / "deploy.env"
    settings.write_text(
        "# Seoul's team\n"
        "DEFAULT_TIMEZONE=Asia/Seoul\n"
        "DEFAULT_LOCALE=ko\n"
        "ALLOWED_EMAIL_DOMAINS=acme.example,acme.co.kr\n"
        'SIGN_IN_PROVIDER_OPTIONS={"google.com": {"parameters": {"hd": "acme.example"}}}\n'
    )
    run = deploy("--settings", str(settings))
    assert run.status == 0, run.output
    got = run.settings()
    assert got["DEFAULT_TIMEZONE"] == "Asia/Seoul"
    assert got["ALLOWED_EMAIL_DOMAINS"] == "acme.example,acme.co.kr"
    assert json.loads(got["SIGN_IN_PROVIDER_OPTIONS"]) == {
        "google.com": {"parameters": {"hd": "acme.example"}}
    }
    assert got["ADMINAPP_ENV"] == "production"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("SMTP_PASSWORD=hunter2", "is a secret"),
        ("SECRET_KEY_FALLBACKS=abc", "is a secret"),
        ("ADMINAPP_ENV=development", "set by the deploy script"),
        ("TRUSTED_PROXY_COUNT=5", "set by the deploy script"),
        ("RATELIMIT_STORAGE_URI=memory://", "set by the deploy script"),
        ("FIRESTORE_EMULATOR_HOST=127.0.0.1:8080", "set by the deploy script"),
        ("not a setting", "not a KEY=VALUE line"),
    ],
)
def test_a_settings_file_cannot_carry_secrets_or_override_the_script(deploy, tmp_path, line, says):
    settings = tmp_path / "deploy.env"
    settings.write_text(f"DEFAULT_LOCALE=ko\n{line}\n")
    run = deploy("--settings", str(settings))
    assert run.status == 2
    assert run.calls == []
    assert says in run.output


def test_make_deploy_runs_the_script_with_the_pinned_firebase_cli():
    dry_run = subprocess.run(
        ["make", "-n", "deploy"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "node_modules/.bin" in dry_run
    assert "scripts/deploy.sh" in dry_run


def test_the_deploy_doc_names_only_files_that_exist():
    doc = ROOT / "docs" / "deploy.md"
    text = doc.read_text()
    named = set(re.findall(r"`((?:tests|scripts|adminapp|devtools)/[\w./-]+\.(?:py|sh))`", text))
    linked = set(re.findall(r"\]\(\.\./([\w./-]+?)(?:#[\w-]+)?\)", text))
    assert named and linked
    missing = sorted(path for path in named | linked if not (ROOT / path).exists())
    assert not missing
