"""Command line parity with the admin pages.

``flask admins add|remove|list|set-role|disable|enable|factors|reset-factors|unlock|``
``firebase-factors|trust-firebase-factor|set-service-account``,
``flask sessions list|revoke|expiry|backfill-expiry``,
``flask audit tail|retention|verify|export|review``,
``flask roles list|create|update|delete`` and, with the users console,
``flask users find|list|show|disable|enable|revoke|verify|reset|claims|delete``
(acting with the owner's rights, like the other commands, or with one
admin's: ``flask users --as EMAIL …``). Run with the same
environment as the app (``flask`` loads ``.env``); after ``make run`` the
defaults act on the local emulators. Changes are audited with the actor
``cli:<operating-system user>``.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import AppGroup

from .addresses import InvalidEmail, identity_key
from .domain.admins import UnknownRole
from .domain.roles import OWNER
from .domain.sessions import valid_session_key
from .errors import BackendUnavailable, Refused
from .services.access_review import MonthlyReview
from .services.exports import FORMATS, MAX_REASON, audit_filters
from .services.mfa.recovery_codes import recovery_codes_left
from .services.password_reset import MIN_PASSWORD_LENGTH
from .services.users import Actor
from .timezones import valid_zone
from .web.context import services
from .web.permissions import permissions_of, registry

admins_cli = AppGroup("admins", help="Manage who may enter the admin area.")
sessions_cli = AppGroup("sessions", help="See and end admin sessions.")
audit_cli = AppGroup("audit", help="Read the audit trail.")
roles_cli = AppGroup("roles", help="Define the custom roles owners give admins.")
# Where `flask users --as EMAIL` keeps the admin whose permissions to act with.
ACTING_AS = "adminapp.acting_as"
ROLE_HELP = "viewer, admin, owner or a custom role (flask roles list)."


@click.group("users", cls=AppGroup)
@click.option(
    "--as",
    "acting_as",
    default=None,
    metavar="EMAIL",
    help="Act with this admin's permissions (their role's) instead of an owner's.",
)
@click.pass_context
def users_cli(context: click.Context, acting_as: str | None) -> None:
    """Find and look after the product's Firebase users."""
    context.meta[ACTING_AS] = acting_as


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _email(value: str) -> str:
    try:
        return identity_key(value)
    except InvalidEmail as error:
        raise click.BadParameter(error.message) from None


@contextmanager
def _outcomes() -> Iterator[None]:
    """Turn any refusal, an unreachable Firebase included, into one line."""
    try:
        yield
    except BackendUnavailable as error:
        raise click.ClickException(
            f"{error.cause}. Are the emulators running (make run)?"
        ) from None
    except Refused as refusal:
        raise click.ClickException(refusal.message) from None


@contextmanager
def _role_hint(param: str) -> Iterator[None]:
    """A role that does not exist is a usage error, like any bad option."""
    try:
        yield
    except UnknownRole as refusal:
        raise click.BadParameter(refusal.message, param_hint=param) from None


# -- admins -------------------------------------------------------------------


@admins_cli.command("add")
@click.argument("email")
@click.option("--role", required=True, help=f"What the admin may do: {ROLE_HELP}")
@click.option(
    "--password",
    default=None,
    help="Also create the Firebase user with this password if it does not exist; "
    "an existing one gets this password instead of its own, its sign-ins ended.",
)
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option(
    "--provider",
    default=None,
    help="Invite them to sign in with this provider (google.com, oidc.kakao, …) "
    "instead of a password: emailed a link to the sign-in page, no Firebase user made.",
)
def add_admin(
    email: str, role: str, password: str | None, display_name: str | None, provider: str | None
) -> None:
    """Make EMAIL an admin with ROLE."""
    email = _email(email)
    if password is not None and provider is not None:
        raise click.UsageError("Use --password or --provider, not both.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"use at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    with _outcomes(), _role_hint("--role"):
        invitation = services().management.invite(
            email,
            role,
            actor=_actor(),
            client=None,
            create_user=password is not None,
            password=password,
            display_name=display_name,
            provider=provider,
            holds=_operator().permissions,
        )
    if password is not None:
        state = "created" if invitation.user_created else "already exists"
        click.echo(f"Firebase user {email} {state}.")
    click.echo(f"{email} is now an admin with role {role}.")
    if invitation.account_notice is not None:
        click.echo(f"Warning: {invitation.account_notice}")
    if invitation.email_sent:
        click.echo("The invitation email is on its way.")
    elif invitation.email_error:
        click.echo(invitation.email_error)


@admins_cli.command("remove")
@click.argument("email")
def remove_admin(email: str) -> None:
    """Remove EMAIL from the admins and end their sessions."""
    email = _email(email)
    with _outcomes():
        services().management.remove(
            email, actor=_actor(), client=None, holds=_operator().permissions
        )
    click.echo(f"{email} is no longer an admin.")


@admins_cli.command("set-role")
@click.argument("email")
@click.argument("role")
def set_role(email: str, role: str) -> None:
    """Change EMAIL's role to ROLE: viewer, admin, owner or a custom role
    (takes effect at their next request)."""
    email = _email(email)
    with _outcomes(), _role_hint("ROLE"):
        services().management.change_role(
            email, role, actor=_actor(), client=None, holds=_operator().permissions
        )
    click.echo(f"{email} is now {role}.")


def _set_disabled(email: str, disabled: bool) -> None:
    email = _email(email)
    with _outcomes():
        services().management.set_disabled(
            email, disabled, actor=_actor(), client=None, holds=_operator().permissions
        )
    click.echo(f"{email} is {'disabled' if disabled else 'enabled'}.")


@admins_cli.command("disable")
@click.argument("email")
def disable_admin(email: str) -> None:
    """Disable EMAIL and end their sessions."""
    _set_disabled(email, True)


@admins_cli.command("enable")
@click.argument("email")
def enable_admin(email: str) -> None:
    """Enable EMAIL again."""
    _set_disabled(email, False)


@admins_cli.command("list")
def list_admins() -> None:
    """List the admins."""
    with _outcomes():
        admins = services().directory.list()
    if not admins:
        click.echo("No admins yet. Add one with: flask admins add EMAIL --role owner")
        return
    width = max(len(admin.email) for admin in admins)
    for admin in admins:
        status = "disabled" if admin.disabled else "active"
        click.echo(f"{admin.email:<{width}}  {admin.role:<6}  {status}")


@admins_cli.command("factors")
@click.argument("email")
def list_factors(email: str) -> None:
    """List EMAIL's second factors (kinds, names, dates; never a secret)."""
    email = _email(email)
    with _outcomes():
        admin = services().directory.get(email)
        if admin is None:
            raise click.ClickException(f"{email} is not an admin.")
        factors = services().own_factors.of(email)
        lockout = services().lockout.status(email)
    if lockout.locked(services().clock()):
        click.echo(
            f"Codes are locked until {lockout.locked_until:%Y-%m-%d %H:%M} UTC "
            f"(flask admins unlock {email})."
        )
    if not factors:
        click.echo(f"{email} has no second factor: they set one up at their next sign-in.")
        return
    for factor in factors:
        used = f"{factor.last_used_at:%Y-%m-%d %H:%M} UTC" if factor.last_used_at else "never"
        click.echo(
            f"{factor.id}  {factor.kind:<14}  {factor.name or '-'}  "
            f"created {factor.created_at:%Y-%m-%d %H:%M} UTC  last used {used}"
        )
    click.echo(f"Recovery codes left: {recovery_codes_left(factors)}")


@admins_cli.command("reset-factors")
@click.argument("email")
def reset_factors(email: str) -> None:
    """Remove every second factor of EMAIL and end their sessions; they set
    up a new one at their next sign-in (break-glass for a locked-out owner)."""
    email = _email(email)
    with _outcomes():
        removed = services().management.reset_factors_by_operator(email, operator=_actor())
    click.echo(
        f"Removed {removed} second-factor record{'s' if removed != 1 else ''} of {email} "
        "and ended their sessions. They set up a new factor at their next sign-in."
    )


@admins_cli.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Lift the lock on EMAIL's second-factor codes after too many wrong ones,
    and forget the count (audited)."""
    email = _email(email)
    with _outcomes():
        was_locked = services().management.unlock(
            email, actor=_actor(), client=None, holds=_operator().permissions
        )
    click.echo(
        f"{email}'s codes are unlocked." if was_locked else f"{email}'s codes were not locked."
    )


@admins_cli.command("firebase-factors")
@click.argument("email")
def list_firebase_factors(email: str) -> None:
    """List the second factors of EMAIL's Firebase account (Identity Platform
    MFA) and whether each counts here (ACCEPT_FIREBASE_SECOND_FACTOR)."""
    email = _email(email)
    with _outcomes():
        admin = services().directory.get(email)
        if admin is None:
            raise click.ClickException(f"{email} is not an admin.")
        enrolments = services().firebase_factors.enrolments(admin)
    if not enrolments:
        click.echo(f"{email}'s Firebase account has no second factor.")
        return
    for enrolment in enrolments:
        factor = enrolment.factor
        click.echo(
            f"{factor.enrolment_id}  {factor.factor_id:<5}  {factor.display_name or '-'}  "
            f"{factor.phone or ''}  enrolled {factor.enrolled_at or '?'}  "
            f"{'trusted' if enrolment.trusted else 'not trusted'}"
        )


@admins_cli.command("trust-firebase-factor")
@click.argument("email")
@click.argument("enrolment_id")
@click.option("--off", is_flag=True, help="Stop trusting it instead.")
def trust_firebase_factor(email: str, enrolment_id: str, off: bool) -> None:
    """Approve (or with --off, stop trusting) one second factor of EMAIL's
    Firebase account, as shown by 'firebase-factors' (audited)."""
    email = _email(email)
    factors = services().firebase_factors
    with _outcomes():
        if off:
            factors.distrust(
                email, enrolment_id, actor=_actor(), client=None, holds=_operator().permissions
            )
        else:
            factors.trust(
                email, enrolment_id, actor=_actor(), client=None, holds=_operator().permissions
            )
    click.echo(f"{enrolment_id} is {'no longer' if off else 'now'} trusted for {email}.")


@admins_cli.command("set-service-account")
@click.argument("email")
@click.argument("state", type=click.Choice(["on", "off"]))
def set_service_account(email: str, state: str) -> None:
    """Mark EMAIL as a service account (on) or not (off): its API calls with a
    Firebase ID token then need no Firebase second-factor claim."""
    email = _email(email)
    with _outcomes():
        services().management.set_service_account(email, state == "on", actor=_actor())
    click.echo(f"{email} is {'now' if state == 'on' else 'no longer'} a service account.")


# -- sessions -----------------------------------------------------------------


@sessions_cli.command("list")
@click.option("--email", default=None, help="Only this admin's sessions.")
def list_sessions(email: str | None) -> None:
    """List open sessions (all admins', or one admin's)."""
    with _outcomes():
        sessions = services().sessions.open_for(_email(email) if email else None)
    if not sessions:
        click.echo("No open sessions.")
        return
    for session in sessions:
        click.echo(
            f"{session.key}  {session.email}  {session.ip or '-'}  "
            f"started {session.created_at:%Y-%m-%d %H:%M}  "
            f"active {session.last_seen_at:%Y-%m-%d %H:%M} UTC"
        )


@sessions_cli.command("revoke")
@click.argument("session_key", required=False)
@click.option("--email", default=None, help="End every open session of this admin instead.")
def revoke_sessions(session_key: str | None, email: str | None) -> None:
    """End the session SESSION_KEY (as shown by 'sessions list'), or all of --email's."""
    if bool(session_key) == bool(email):
        raise click.UsageError("Give either a SESSION_KEY or --email, not both.")
    access = services().access
    with _outcomes():
        if email:
            count = access.end_sessions(
                _email(email), "ended_by_operator", actor=_actor(), client=None
            )
            click.echo(f"Ended {count} session{'s' if count != 1 else ''} of {_email(email)}.")
            return
        if not valid_session_key(session_key):
            raise click.BadParameter("a session key is 64 hex characters", param_hint="SESSION_KEY")
        ended = access.end_session(session_key, by=None, actor=_actor(), client=None)
    click.echo(f"Ended the session of {ended.email}.")


@sessions_cli.command("expiry")
def sessions_expiry() -> None:
    """When Firestore's TTL policy deletes session records: counts by day."""
    with _outcomes():
        report = services().sessions.expiry_report()
    retention = services().settings.session_retention.days
    click.echo(
        f"Session records are kept {retention} day{'s' if retention != 1 else ''} after "
        "their session's planned end (SESSION_RETENTION_DAYS), then Firestore's TTL "
        "policy on expire_at deletes them."
    )
    _echo_expiry(
        {f"{day:%Y-%m-%d}": count for day, count in report.by_day.items()},
        report.overdue,
        f"Without expire_at (kept until deleted; see 'sessions backfill-expiry'): "
        f"{report.without_expiry}",
    )


def _echo_expiry(counts: dict[str, int], overdue: int, without: str) -> None:
    """What a TTL policy will delete: counts by period, then the rest."""
    for period, count in counts.items():
        click.echo(f"  {period}  {count:>6}")
    if not counts:
        click.echo("  (none to come)")
    click.echo(f"Past expire_at, deleted within about a day: {overdue}")
    click.echo(without)


@sessions_cli.command("backfill-expiry")
def sessions_backfill_expiry() -> None:
    """Give session records written before expire_at existed one (their
    planned end plus SESSION_RETENTION_DAYS), so the TTL policy deletes them."""
    with _outcomes():
        count = services().sessions.backfill_expiry()
    click.echo(f"Set expire_at on {count} session record{'s' if count != 1 else ''}.")


# -- audit --------------------------------------------------------------------


@audit_cli.command("tail")
@click.option(
    "-n",
    "count",
    default=20,
    show_default=True,
    type=click.IntRange(1, 200),
    help="How many entries.",
)
def audit_tail(count: int) -> None:
    """Show the newest audit entries, oldest of them first."""
    with _outcomes():
        page = services().audit.page(size=count)
    for entry in reversed(page.entries):
        outcome = entry.outcome if not entry.reason else f"{entry.outcome} ({entry.reason})"
        click.echo(
            f"{entry.time:%Y-%m-%d %H:%M:%S}  {entry.event:<24} {entry.actor or '-'}"
            f"  -> {entry.target or '-'}  {outcome}  {entry.ip or ''}".rstrip()
        )


@audit_cli.command("retention")
def audit_retention() -> None:
    """When Firestore's TTL policy deletes audit entries: counts by month."""
    with _outcomes():
        report = services().audit.retention_report()
    records, rights = report.retention["records"].days, report.retention["access_rights"].days
    click.echo(
        f"Audit entries and access records are kept {records} days "
        f"(ACCESS_RECORD_RETENTION_DAYS); changes to access rights {rights} days. Then "
        "Firestore's TTL policy on expire_at deletes them, and 'flask audit verify' starts "
        "each writer's chain at its oldest entry still kept (docs/pipa.md)."
    )
    _echo_expiry(
        {f"{month:%Y-%m}": count for month, count in report.by_month.items()},
        report.overdue,
        f"Without expire_at (written before retention; kept): {report.without_expiry}",
    )


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every chain of the trail; name the first broken or missing link.
    Exits with 1 when one is found."""
    with _outcomes():
        result = services().alerts.verify_trail(by=_actor())
    # The owners' alert of a broken link goes out before the command ends.
    services().background.drain()
    for chain in result.chains:
        start = f"from {chain.first}" + (" (older ones expired)" if chain.expired_before else "")
        status = "ok" if chain.finding is None else f"BROKEN at {chain.finding.n}"
        click.echo(f"  {chain.chain}  {chain.entries:>8} entries {start} to {chain.last}  {status}")
    click.echo(
        f"Checked {result.checked} entries in {len(result.chains)} chains; "
        f"{result.unchained} written before the chain existed are not checked."
    )
    for finding in result.findings:
        where = f" (entry {finding.entry_id})" if finding.entry_id else ""
        click.echo(
            f"{finding.kind}: {finding.chain} #{finding.n}{where}: {finding.detail}", err=True
        )
    if not result.ok:
        raise SystemExit(1)
    click.echo("Every chain is intact.")


@audit_cli.command("export")
@click.option("--reason", required=True, help=f"Why (recorded; at most {MAX_REASON} characters).")
@click.option("--format", "format_", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--event", default=None, help="Only this event.")
@click.option("--actor", default=None, help="Only this actor's entries.")
@click.option("--target", default=None, help="Only entries about this email or uid.")
@click.option("--since", default=None, help="From this UTC day (2026-11-01).")
@click.option("--until", default=None, help="To this UTC day, included.")
@click.option("--bom", is_flag=True, help="Start a CSV with a byte order mark (for Excel).")
@click.option(
    "--output", "-o", type=click.File("wb"), default="-", help="A file (default: stdout)."
)
def audit_export(reason, format_, event, actor, target, since, until, bom, output) -> None:
    """Write the entries the filters select, newest first, as CSV or JSON
    Lines; recorded with the reason, as the page's export is."""
    with _outcomes():
        filters = audit_filters(
            services().audit.events,
            event=event, actor=actor, target=target, since=since, until=until,
        )  # fmt: skip
        export = services().exports.audit_trail(filters, format_, reason, _operator(), bom=bom)
        for chunk in export.chunks:
            output.write(chunk)
    output.flush()


@audit_cli.command("review")
@click.option("--month", default=None, help="YYYY-MM; the last month that is over if omitted.")
@click.option(
    "--timezone",
    "zone",
    default=None,
    help="The IANA zone the month runs in (the reviewer's); DEFAULT_TIMEZONE if omitted.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
def audit_review(month: str | None, zone: str | None, as_json: bool) -> None:
    """Summarise a month of access records for the monthly review (PIPA art.
    8(2)): per admin, out-of-hours access, bulk lookups, exports, failed
    sign-ins and locks, changes to access rights, and who marked it reviewed."""
    settings = services().settings
    if zone is not None and valid_zone(zone) is None:
        raise click.BadParameter(
            "not an IANA time zone such as Asia/Seoul", param_hint="--timezone"
        )
    with _outcomes():
        review = services().access_review
        summary = review.summarise(review.month(month, zone or settings.default_timezone))
    if as_json:
        click.echo(json.dumps(_review_as_json(summary), ensure_ascii=False, indent=2))
        return
    for line in _review_as_text(summary):
        click.echo(line)


def _review_as_json(review: MonthlyReview) -> dict:
    data = dataclasses.asdict(review)
    data["month"] = {
        "month": review.month.label,
        "zone": review.month.zone,
        "start": review.month.start.isoformat(),
        "end": review.month.end.isoformat(),
    }
    data["working_hours"] = str(review.working_hours)
    data["bulk_window_minutes"] = int(review.bulk_window.total_seconds() // 60)
    del data["bulk_window"]
    data["out_of_hours"] = review.out_of_hours
    return json.loads(json.dumps(data, default=str))


def _review_as_text(review: MonthlyReview) -> Iterator[str]:
    """The summary as lines: each finding with the ids of its entries
    (``flask audit tail`` and the trail page's ``before=`` find them)."""
    month = review.month
    yield f"Access review of {month.label} ({month.zone}; {review.entries_read} entries read)"
    if not review.over:
        yield "The month is not over yet: this is the month so far."
    minutes = int(review.bulk_window.total_seconds() // 60)
    yield (
        f"Working hours {review.working_hours} in each admin's time zone; bulk lookup: more "
        f"than {review.bulk_subjects} data subjects within {minutes} minutes."
    )
    yield ""
    yield f"Per admin ({len(review.admins)}):"
    for admin in review.admins:
        hours = " ".join(f"{hour:02d}h:{count}" for hour, count in enumerate(admin.hours) if count)
        yield (
            f"  {admin.actor}  {admin.subjects} data subjects in {admin.records} records  "
            f"outside working hours: {admin.out_of_hours}  ({admin.zone}) {hours}"
        )
        for entry in admin.out_of_hours_entries:
            local = entry.time.astimezone(ZoneInfo(admin.zone))
            yield f"    outside working hours: {local:%a %Y-%m-%d %H:%M %Z}  {entry.seq}"
    yield ""
    yield f"Bulk lookups: {review.bulk_lookups.total}"
    for lookup in review.bulk_lookups.items:
        yield (
            f"  {lookup.actor}  {lookup.start:%Y-%m-%d %H:%M:%S} to {lookup.end:%H:%M:%S} UTC  "
            f"{lookup.subjects} data subjects (at most {lookup.peak} within the window) in "
            f"{lookup.records} records"
        )
        yield "    entries: " + " ".join(entry.seq for entry in lookup.entries)
    yield ""
    yield f"Exports: {review.exports.total}"
    for export in review.exports.items:
        rows = f"{export.rows} rows" if export.rows is not None else "rows unknown"
        yield (
            f"  {export.entry.time:%Y-%m-%d %H:%M} UTC  {export.entry.actor or '-'}  "
            f"{export.dataset or '-'} ({export.format or '-'}, {rows})  "
            f"reason: {export.reason or 'NO REASON GIVEN'}  {export.entry.seq}"
        )
    for title, listing in (
        ("Failed sign-ins and locks", review.sign_in_failures),
        ("Changes to access rights", review.access_right_changes),
    ):
        yield ""
        yield f"{title}: {listing.total}"
        for incident in listing.items:
            outcome = incident.outcome + (f" ({incident.reason})" if incident.reason else "")
            yield (
                f"  {incident.entry.time:%Y-%m-%d %H:%M} UTC  {incident.entry.event:<24} "
                f"{incident.entry.actor or '-'} -> {incident.target or '-'}  {outcome}  "
                f"{incident.ip or ''}  {incident.entry.seq}"
            )
    for kind, listing in (
        ("bulk lookups", review.bulk_lookups),
        ("exports", review.exports),
        ("failed sign-ins and locks", review.sign_in_failures),
        ("changes to access rights", review.access_right_changes),
    ):
        if listing.total > len(listing.items):
            yield f"({listing.total - len(listing.items)} more {kind} not listed)"
    yield ""
    if not review.reviews:
        yield "Not marked reviewed yet (an owner marks it on /admin/audit/review)."
    for done in review.reviews:
        yield f"Reviewed by {done.entry.actor} at {done.entry.time:%Y-%m-%d %H:%M} UTC: {done.note}"


# -- users --------------------------------------------------------------------


def _operator() -> Actor:
    """The operator at the command line: an owner's permissions, and no
    step-up to give (their access to the environment is the proof); or,
    under ``flask users --as EMAIL``, that enabled admin's permissions,
    audited as ``cli:<user> as EMAIL``."""
    context = click.get_current_context(silent=True)
    acting_as = context.find_root().meta.get(ACTING_AS) if context else None
    if acting_as is None:
        return Actor(name=_actor(), role=OWNER, permissions=registry().of_role(OWNER))
    email = _email(acting_as)
    admin = services().directory.get(email)
    if admin is None or admin.disabled:
        raise click.ClickException(f"{email} is not an enabled admin.")
    return Actor(name=f"{_actor()} as {email}", role=admin.role, permissions=permissions_of(admin))


def _show_user(user) -> None:
    rows = {
        "uid": user.uid,
        "email": f"{user.email or '-'}{' (verified)' if user.email_verified else ''}",
        "name": user.display_name or "-",
        "phone": user.phone or "-",
        "providers": ", ".join(user.providers) or "-",
        "created": f"{user.created_at:%Y-%m-%d %H:%M} UTC" if user.created_at else "-",
        "last sign-in": (
            f"{user.last_sign_in_at:%Y-%m-%d %H:%M} UTC" if user.last_sign_in_at else "-"
        ),
        "status": "disabled" if user.disabled else "active",
        "claims": json.dumps(user.custom_claims, sort_keys=True),
    }
    for name, value in rows.items():
        click.echo(f"{name + ':':<14}{value}")


@users_cli.command("find")
@click.argument("query")
def find_user(query: str) -> None:
    """Find a user by email, phone number (+...) or uid."""
    with _outcomes():
        _show_user(services().users.find(query, _operator()))


@users_cli.command("show")
@click.argument("uid")
def show_user(uid: str) -> None:
    """Show the user UID."""
    with _outcomes():
        detail = services().users.show(uid, _operator())
    _show_user(detail.user)
    click.echo(f"{'admin:':<14}{detail.admin.role if detail.admin else 'no'}")


@users_cli.command("list")
@click.option("--page", "token", default=None, help="The token printed after a page.")
@click.option("--limit", default=None, type=click.IntRange(1, 1000), help="Users per page.")
def list_users(token: str | None, limit: int | None) -> None:
    """List users, one page at a time."""
    with _outcomes():
        page = services().users.page(token, limit, _operator())
    for user in page.users:
        status = "disabled" if user.disabled else "active"
        click.echo(f"{user.uid}  {user.email or '-'}  {status}")
    if page.next_token:
        click.echo(f"More: flask users list --page {page.next_token}")


def _act(action: str, uid: str, change) -> None:
    with _outcomes():
        user = change(services().users, _operator())
    click.echo(f"{user.label}: {action}.")


@users_cli.command("disable")
@click.argument("uid")
def disable_user(uid: str) -> None:
    """Disable the user UID."""
    _act("disabled", uid, lambda users, me: users.set_disabled(uid, True, me))


@users_cli.command("enable")
@click.argument("uid")
def enable_user(uid: str) -> None:
    """Enable the user UID again."""
    _act("enabled", uid, lambda users, me: users.set_disabled(uid, False, me))


@users_cli.command("revoke")
@click.argument("uid")
def revoke_user(uid: str) -> None:
    """Sign UID out everywhere (revoke their refresh tokens)."""
    _act("refresh tokens revoked", uid, lambda users, me: users.revoke_refresh_tokens(uid, me))


@users_cli.command("verify")
@click.argument("uid")
def verify_user(uid: str) -> None:
    """Mark UID's email address verified."""
    _act("email marked verified", uid, lambda users, me: users.mark_email_verified(uid, me))


@users_cli.command("reset")
@click.argument("uid")
def reset_user(uid: str) -> None:
    """Send UID a password reset email (through RESET_DELIVERY)."""
    _act("password reset email sent", uid, lambda users, me: users.send_password_reset(uid, me))


@users_cli.command("claims")
@click.argument("uid")
@click.argument("claims_json")
def set_user_claims(uid: str, claims_json: str) -> None:
    """Replace UID's custom claims with CLAIMS_JSON (a JSON object; '{}' clears them)."""
    _act(
        "custom claims saved", uid, lambda users, me: users.set_custom_claims(uid, claims_json, me)
    )


@users_cli.command("delete")
@click.argument("uid")
@click.option("--confirm", required=True, help="The user's email (or uid), typed again.")
def delete_user(uid: str, confirm: str) -> None:
    """Delete the user UID from Firebase Authentication."""
    _act("deleted", uid, lambda users, me: users.delete(uid, confirm, me))


# -- roles --------------------------------------------------------------------


def _permission_names(values: tuple[str, ...]) -> list[str] | None:
    """-p users.read -p users.reset, or -p users.read,users.reset; None when none given."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return names or None


@roles_cli.command("list")
def list_roles() -> None:
    """List the custom roles: name, who holds them, permissions, description."""
    with _outcomes():
        book = services().roles.book()
        holders: dict[str, int] = {}
        for admin in services().directory.list():
            holders[admin.role] = holders.get(admin.role, 0) + 1
    if not book.roles:
        click.echo("No custom roles yet. Add one with: flask roles create NAME -p users.read")
        return
    for name in book.names():
        role = book.roles[name]
        click.echo(f"{name}  held by {holders.get(name, 0)}  {', '.join(sorted(role.permissions))}")
        if role.description:
            click.echo(f"    {role.description}")


_PERMISSION_OPTION = click.option(
    "-p",
    "--permission",
    "permissions",
    multiple=True,
    help="A permission the role grants (repeat, or separate with commas); "
    "flask roles permissions lists them.",
)


@roles_cli.command("permissions")
def list_permissions() -> None:
    """List the permissions a custom role may grant (built-in and products')."""
    for permission in registry():
        step_up = "  (step-up)" if permission.step_up else ""
        click.echo(f"{permission.name:<24} {permission.least_role:<6} {permission.label}{step_up}")


@roles_cli.command("create")
@click.argument("name")
@_PERMISSION_OPTION
@click.option("--description", default="", help="What the role is for.")
def create_role(name: str, permissions: tuple[str, ...], description: str) -> None:
    """Create the custom role NAME granting the given permissions."""
    with _outcomes():
        role = services().roles.create(
            name, description, _permission_names(permissions), _operator()
        )
    click.echo(f"Role {role.name} created: {', '.join(sorted(role.permissions))}.")


@roles_cli.command("update")
@click.argument("name")
@_PERMISSION_OPTION
@click.option("--description", default=None, help="A new description.")
def update_role(name: str, permissions: tuple[str, ...], description: str | None) -> None:
    """Change NAME's description and/or replace its permissions; its
    holders get the new permissions at their next request."""
    with _outcomes():
        role = services().roles.update(
            name,
            _operator(),
            description=description,
            permissions=_permission_names(permissions),
        )
    click.echo(f"Role {role.name} now grants: {', '.join(sorted(role.permissions))}.")


@roles_cli.command("delete")
@click.argument("name")
def delete_role(name: str) -> None:
    """Delete the custom role NAME (refused while an admin holds it)."""
    with _outcomes():
        services().roles.delete(name, _operator())
    click.echo(f"Role {name} deleted.")


def register_commands(app: Flask) -> None:
    for group in (admins_cli, sessions_cli, audit_cli, roles_cli, users_cli):
        app.cli.add_command(group)
