"""``make run``: the emulators, a demo owner, and the app at http://localhost:5000/admin/.

localhost, not 127.0.0.1: passkeys (WebAuthn) refuse an IP address as the
relying party, and development's WEBAUTHN_RP_ID is ``localhost``.

Ctrl-C stops the app and every emulator this started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
from pathlib import Path

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # quiet gRPC connection chatter

from dotenv import dotenv_values
from werkzeug.serving import run_simple

from adminapp.testing import emulator_control

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
ENV_EXAMPLE = ROOT / ".env.example"
HOST, PORT = "127.0.0.1", 5000
# The name the app is opened at (and the passkeys' relying party).
PUBLIC_HOST = "localhost"
DEMO_EMAIL = "owner@example.com"
DEMO_PASSWORD = "adminapp-demo-password"  # noqa: S105  (printed for the emulator demo)
# 32-byte keys written into .env when missing (SECRET_KEY is made with the file).
GENERATED_KEYS = ("MFA_ENCRYPTION_KEY", "AUDIT_CHAIN_KEY")


def ensure_env_file(env_file: Path = ENV_FILE) -> None:
    """Create .env from .env.example with a fresh SECRET_KEY, MFA_ENCRYPTION_KEY
    and AUDIT_CHAIN_KEY, once; add a key to an older .env that lacks it
    (keeping them keeps the TOTP secrets enrolled on the emulators readable
    and the audit trail verifiable)."""
    if not env_file.exists():
        text = ENV_EXAMPLE.read_text().replace(
            "\nSECRET_KEY=\n", f"\nSECRET_KEY={secrets.token_urlsafe(48)}\n"
        )
        env_file.write_text(text)
        print(f"Created {env_file.name} from {ENV_EXAMPLE.name} (development settings).")
    for name in GENERATED_KEYS:
        if dotenv_values(env_file).get(name):
            continue
        text = env_file.read_text()
        key = f"{name}={secrets.token_urlsafe(32)}"
        if f"\n{name}=\n" in text:
            text = text.replace(f"\n{name}=\n", f"\n{key}\n")
        else:
            text += f"\n{key}\n"
        env_file.write_text(text)
        print(f"Added a fresh {name} to {env_file.name}.")


def settings_from(env_file: Path) -> dict[str, str]:
    """What ``.env`` says, for the settings the environment leaves unset: the
    documented order (.env.example), which wsgi.py and the flask command
    follow too (python-dotenv's ``override=False``)."""
    return {
        name: value
        for name, value in dotenv_values(env_file).items()
        if value is not None and name not in os.environ
    }


def emulator_ports() -> tuple[int, int]:
    config = json.loads((ROOT / "firebase.json").read_text())["emulators"]
    return config["auth"]["port"], config["firestore"]["port"]


def refuse_busy_ports(*ports: int) -> None:
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                sys.exit(f"Port {port} is already in use. Is another `make run` still running?")


def seed_demo_owner(app) -> None:
    from adminapp.domain.admins import AdminExists
    from adminapp.web.context import EXTENSION_KEY

    services = app.extensions[EXTENSION_KEY]
    services.identity.ensure_user(DEMO_EMAIL, DEMO_PASSWORD)
    with contextlib.suppress(AdminExists):  # a reused emulator may have it already
        services.directory.add(DEMO_EMAIL, "owner", "Demo Owner")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=PORT, help="the app's port (default 5000)")
    parser.add_argument(
        "--env-file", type=Path, default=ENV_FILE, help="the settings file (default .env)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ensure_env_file(args.env_file)
    auth_port, firestore_port = emulator_ports()
    if not (
        os.environ.get("FIREBASE_AUTH_EMULATOR_HOST") and os.environ.get("FIRESTORE_EMULATOR_HOST")
    ):
        # Ours, on the ports from firebase.json, unless the caller named others.
        os.environ.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        refuse_busy_ports(auth_port, firestore_port, args.port)
    settings = settings_from(args.env_file)
    project_id = (
        os.environ.get("FIREBASE_PROJECT_ID")
        or settings.get("FIREBASE_PROJECT_ID")
        or emulator_control.DEFAULT_PROJECT
    )
    print("Starting the Firebase emulators (Auth and Firestore)…", flush=True)
    running = emulator_control.start(
        project_id,
        auth_port=auth_port,
        firestore_port=firestore_port,
        log_dir=ROOT / ".run-logs",
    )
    # SIGTERM (e.g. from a process manager) should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # The environment first, then .env for what it leaves unset; the
        # emulators and the development mode are what `make run` is.
        os.environ.update(
            {
                **settings,
                **running.env,
                "ADMINAPP_ENV": "development",
                "FIREBASE_PROJECT_ID": project_id,
            }
        )
        from adminapp import create_app

        app = create_app()
        seed_demo_owner(app)
        print(
            "\n  adminapp is running on the local emulators\n"
            f"  URL:       http://{PUBLIC_HOST}:{args.port}/admin/\n"
            f"  Email:     {DEMO_EMAIL}\n"
            f"  Password:  {DEMO_PASSWORD}\n"
            "  Password reset emails (firebase mode) are recorded by the Auth emulator:\n"
            f"    http://{running.auth_host}/emulator/v1/projects/{project_id}/oobCodes\n"
            f"    open http://{PUBLIC_HOST}:{args.port}/admin/resetpassword/confirm"
            "?oobCode=<oobCode>\n"
            "  Ctrl-C stops the app and the emulators.\n",
            flush=True,
        )
        run_simple(HOST, args.port, app, threaded=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping the emulators…", flush=True)
        running.stop()


if __name__ == "__main__":
    main()
