"""``flask admins …``: manage the admin directory from a terminal.

Run with the same environment as the app (``.env`` is loaded by ``flask``);
after ``make run`` the defaults point at the local emulators.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from flask.cli import AppGroup

from .admins import ROLES, AdminExists, AdminNotFound, InvalidEmail, normalize_email
from .firebase import BackendUnavailable
from .services import services

admins_cli = AppGroup("admins", help="Manage who may enter the admin area.")

MIN_PASSWORD_LENGTH = 12


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidEmail as error:
        raise click.BadParameter(str(error)) from None


@admins_cli.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the admin may do.")
@click.option(
    "--password",
    default=None,
    help="Also create the Firebase user with this password if it does not exist.",
)
@click.option("--name", "display_name", default=None, help="Display name.")
def add_admin(email: str, role: str, password: str | None, display_name: str | None) -> None:
    """Make EMAIL an admin with ROLE."""
    email = _email(email)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"use at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    svc = services()
    with _backend_errors():
        if password is not None:
            _, created = svc.identity.ensure_user(email, password)
            click.echo(f"Firebase user {email} {'created' if created else 'already exists'}.")
        try:
            svc.directory.add(email, role, display_name)
        except AdminExists as error:
            raise click.ClickException(
                f"{error} Use 'flask admins set-role' to change it."
            ) from None
    click.echo(f"{email} is now an admin with role {role}.")


@admins_cli.command("remove")
@click.argument("email")
def remove_admin(email: str) -> None:
    """Remove EMAIL from the admins; their sessions stop at the next request."""
    email = _email(email)
    with _backend_errors():
        try:
            services().directory.remove(email)
        except AdminNotFound as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{email} is no longer an admin.")


@admins_cli.command("list")
def list_admins() -> None:
    """List the admins."""
    with _backend_errors():
        admins = services().directory.list()
    if not admins:
        click.echo("No admins yet. Add one with: flask admins add EMAIL --role owner")
        return
    width = max(len(admin.email) for admin in admins)
    for admin in admins:
        status = "disabled" if admin.disabled else "active"
        click.echo(f"{admin.email:<{width}}  {admin.role:<6}  {status}")


@contextmanager
def _backend_errors() -> Iterator[None]:
    """Turn an unreachable Firebase into a one-line error, not a traceback."""
    try:
        yield
    except BackendUnavailable as error:
        raise click.ClickException(f"{error}. Are the emulators running (make run)?") from None


def register_commands(app: Flask) -> None:
    app.cli.add_command(admins_cli)
