"""What scripts/deploy.sh reads from the repository's files, and the settings
file it writes for Cloud Run; standard library only (the script runs it with
the system's python3, before any virtual environment exists).

    deploy_config.py hosting-run FIREBASE_JSON       -> "SERVICE REGION"
    deploy_config.py ttls INDEXES_JSON               -> "GROUP FIELD" per TTL policy
    deploy_config.py env-file OUT [SETTINGS_FILE] NAME=VALUE...
        writes OUT for `gcloud run deploy --env-vars-file`: SETTINGS_FILE's
        KEY=VALUE lines (a team's own settings), then the NAME=VALUE given
        (the script's production settings, which the file may not set).

Exits with status 2 and a one-line message on a problem.
"""

from __future__ import annotations

import json
import re
import sys

# Hosting's default when a rewrite names no region (its documentation).
DEFAULT_RUN_REGION = "us-central1"
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# Secrets go to Secret Manager and are mounted with --set-secrets, never set
# as plain environment variables (which anyone who can view the service sees).
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|CREDENTIAL|_KEY($|_)")
# Set from the script's own inputs (the Redis ones from --redis-instance or
# REDIS_URL, as secrets); the emulators have no place in production.
_SCRIPT_OWNED = frozenset(
    {
        "RATELIMIT_STORAGE_URI",
        "SESSION_INVALIDATION_URL",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "FIRESTORE_EMULATOR_HOST",
    }
)


class Refused(Exception):
    pass


def hosting_run(firebase_json: str) -> tuple[str, str]:
    """The one Cloud Run service firebase.json's Hosting rewrites go to."""
    with open(firebase_json, encoding="utf-8") as handle:
        rewrites = json.load(handle).get("hosting", {}).get("rewrites", [])
    services = {
        (rewrite["run"]["serviceId"], rewrite["run"].get("region", DEFAULT_RUN_REGION))
        for rewrite in rewrites
        if "run" in rewrite
    }
    if len(services) != 1:
        raise Refused(f"{firebase_json} must rewrite /admin to exactly one Cloud Run service")
    return services.pop()


def ttls(indexes_json: str) -> list[tuple[str, str]]:
    """(collection group, field) of each TTL policy in firestore.indexes.json."""
    with open(indexes_json, encoding="utf-8") as handle:
        overrides = json.load(handle).get("fieldOverrides", [])
    return [(o["collectionGroup"], o["fieldPath"]) for o in overrides if o.get("ttl") is True]


def read_settings(path: str, script_owned: set[str]) -> dict[str, str]:
    """KEY=VALUE lines (# comments, blank lines); the value is everything
    after the first '=', unquoted, so JSON values need no escaping."""
    settings: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition("=")
            name = name.strip()
            where = f"{path}:{number}"
            if not sep or not _NAME.fullmatch(name):
                raise Refused(f"{where}: not a KEY=VALUE line")
            if name in script_owned or name in _SCRIPT_OWNED:
                raise Refused(f"{where}: {name} is set by the deploy script itself")
            if _SECRET_NAME.search(name):
                raise Refused(
                    f"{where}: {name} is a secret: secrets go to Secret Manager, "
                    "not into the service's plain settings"
                )
            settings[name] = value.strip()
    return settings


def env_file(out: str, settings_file: str, assignments: list[str]) -> None:
    ours = dict(assignment.split("=", 1) for assignment in assignments)
    settings = read_settings(settings_file, set(ours)) if settings_file else {}
    settings.update(ours)
    # YAML's flow style is JSON: each value one quoted string, whatever it holds.
    with open(out, "w", encoding="utf-8") as handle:
        for name in sorted(settings):
            handle.write(f"{name}: {json.dumps(settings[name])}\n")


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "hosting-run":
        print(*hosting_run(args[0]))
    elif command == "ttls":
        for group, field in ttls(args[0]):
            print(group, field)
    elif command == "env-file":
        env_file(args[0], args[1], args[2:])
    else:
        raise Refused(f"unknown command {command}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (Refused, OSError, ValueError, KeyError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        sys.exit(2)
