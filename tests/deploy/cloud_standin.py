#!/usr/bin/env python3
"""A stand-in for the `gcloud` and `firebase` programs, for testing
scripts/deploy.sh where the cloud cannot be reached.

Installed on PATH under both names (the name it is called by says which).
Each call is appended to $STANDIN_LOG as a JSON line: the program, its
arguments, what it read on stdin (only `--data-file=-` reads it) and, for
`--env-vars-file`, that file's content. It keeps a small model of the
project in $STANDIN_WORLD (JSON) so that it can answer what the script reads
back: whether a resource exists, a secret's versions, a Memorystore
instance's address. A command it does not know, or its own error, fails
with status 3, so the test sees any call it did not plan for.

Standard library only: it runs under the system's python3.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

NOT_FOUND = 1
UNKNOWN = 3


def main() -> int:
    program = Path(sys.argv[0]).name
    args = sys.argv[1:]
    entry: dict = {"program": program, "args": args}
    if "--data-file=-" in args:
        entry["stdin"] = sys.stdin.read()
    for arg in args:
        if arg.startswith("--env-vars-file="):
            entry["env_vars_file"] = Path(arg.split("=", 1)[1]).read_text()
    with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")

    world_file = Path(os.environ["STANDIN_WORLD"])
    world = json.loads(world_file.read_text())
    status = gcloud(world, args, entry.get("stdin", "")) if program == "gcloud" else firebase(args)
    world_file.write_text(json.dumps(world))
    return status


def positional(args: list[str]) -> list[str]:
    return [arg for arg in args if not arg.startswith("--")]


def flag(args: list[str], name: str) -> str | None:
    prefix = f"--{name}="
    return next((arg[len(prefix) :] for arg in args if arg.startswith(prefix)), None)


def firebase(args: list[str]) -> int:
    if positional(args)[:1] == ["deploy"] and "--non-interactive" in args:
        return 0
    print(f"firebase stand-in: unknown command {args}", file=sys.stderr)
    return UNKNOWN


def gcloud(world: dict, args: list[str], stdin: str) -> int:
    words = positional(args)
    project = flag(args, "project")

    def present(kind: str, name: str) -> int:
        return 0 if name in world.setdefault(kind, {}) else NOT_FOUND

    def create(kind: str, name: str, value=True) -> int:
        world.setdefault(kind, {})[name] = value
        return 0

    match words:
        case ["services", "enable", *_]:
            return 0
        case ["iam", "service-accounts", "describe", email]:
            return present("service_accounts", email)
        case ["iam", "service-accounts", "create", account_id]:
            return create("service_accounts", f"{account_id}@{project}.iam.gserviceaccount.com")
        case ["projects", "add-iam-policy-binding", _]:
            return 0
        case ["compute", "networks", "vpc-access", "connectors", "describe", name]:
            return present("connectors", name)
        case ["compute", "networks", "vpc-access", "connectors", "create", name]:
            return create("connectors", name)
        case ["redis", "instances", "describe", name]:
            if present("redis", name):
                return NOT_FOUND
            value_format = flag(args, "format")
            if value_format:
                print(world["redis"][name][value_format.removeprefix("value(").removesuffix(")")])
            return 0
        case ["redis", "instances", "create", name]:
            return create("redis", name, {"host": "10.0.0.3", "port": 6379, "auth": "a" * 36})
        case ["redis", "instances", "get-auth-string", name]:
            print(world["redis"][name]["auth"])
            return 0
        case ["secrets", "describe", name]:
            return present("secrets", name)
        case ["secrets", "create", name]:
            return create("secrets", name, [])
        case ["secrets", "versions", "list", name]:
            versions = world["secrets"][name]
            if versions:
                print(f"projects/{project}/secrets/{name}/versions/{len(versions)}")
            return 0
        case ["secrets", "versions", "add", name]:
            world["secrets"][name].append(stdin)
            return 0
        case ["secrets", "versions", "access", "latest"]:
            print(world["secrets"][flag(args, "secret")][-1], end="")
            return 0
        case ["secrets", "add-iam-policy-binding", name]:
            return present("secrets", name)
        case ["artifacts", "repositories", "describe", name]:
            return present("repositories", name)
        case ["artifacts", "repositories", "create", name]:
            return create("repositories", name)
        case ["builds", "submit", _]:
            return 0
        case ["run", "deploy", name]:
            return create("services", name)
        case ["firestore", "databases", "describe"]:
            return present("databases", flag(args, "database"))
        case ["firestore", "databases", "create"]:
            return create("databases", flag(args, "database"))
        case ["firestore", "fields", "ttls", "update", _]:
            return 0
    print(f"gcloud stand-in: unknown command {args}", file=sys.stderr)
    return UNKNOWN


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a stand-in's own fault is no "not found": say so
        import traceback

        traceback.print_exc()
        sys.exit(UNKNOWN)
