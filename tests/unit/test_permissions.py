"""The one declaration of roles and permissions (adminapp/domain/): the
built-in roles are the sets it gives, and they are the ranks they were."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from adminapp.domain import permissions as declared
from adminapp.domain.permissions import (
    BUILT_IN,
    USERS_DELETE,
    Permission,
    Permissions,
    role_holds,
)
from adminapp.domain.roles import (
    ROLES,
    CustomRole,
    RoleBook,
    at_least,
    rank,
    valid_custom_name,
)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "adminapp" / "domain"

# What each built-in role could do before permissions existed: the ranks'
# behaviour, written out, so that a changed least role fails here.
VIEWER = {"admins.read", "audit.read", "users.read"}
ADMIN = VIEWER | {"users.disable", "users.revoke", "users.reset", "users.verify"}
OWNER = {permission.name for permission in BUILT_IN}


def test_the_built_in_roles_hold_what_their_rank_gave_them():
    registry = Permissions()
    assert registry.of_role("viewer") == VIEWER
    assert registry.of_role("admin") == ADMIN
    assert registry.of_role("owner") == OWNER


def test_each_role_holds_everything_below_it():
    registry = Permissions()
    for lower, higher in itertools.pairwise(ROLES):
        assert registry.of_role(lower) < registry.of_role(higher)
        assert rank(lower) < rank(higher) and at_least(higher, lower)
        assert not at_least(lower, higher)


def test_an_unknown_role_holds_nothing():
    registry = Permissions()
    for role in ("", "Owner", "superuser", "owner "):
        assert registry.of_role(role) == frozenset()
        assert not any(role_holds(role, permission) for permission in BUILT_IN)


def test_every_permission_is_declared_once_with_a_label():
    names = [permission.name for permission in BUILT_IN]
    assert len(names) == len(set(names))
    for permission in BUILT_IN:
        assert permission.label and permission.label[0].isupper(), permission.name
        assert permission.least_role in ROLES
    # Every module-level permission is in BUILT_IN: none is left out of the roles.
    module_level = {v for v in vars(declared).values() if isinstance(v, Permission)}
    assert module_level == set(BUILT_IN)


def test_owner_only_writes_need_a_step_up_and_the_others_do_not():
    """The step-up column as it was: every owner-only change asked for a
    fresh proof; the admin-level users actions did not (unless the account
    is an admin's: users.admin_accounts)."""
    needs = {permission.name for permission in BUILT_IN if permission.step_up}
    assert needs == {
        "admins.invite",
        "admins.role",
        "admins.disable",
        "admins.remove",
        "admins.factors.reset",
        "admins.factors.trust",
        "admins.unlock",
        "sessions.end_others",
        "users.claims",
        "users.delete",
        "users.admin_accounts",
        # Downloads of personal data in bulk (services/exports.py).
        "audit.export",
        "users.export",
        # Marking a month's access records reviewed: an owner's attestation.
        "audit.review",
        # Defining roles: what they hold can be an owner's.
        "roles.manage",
    }


@pytest.mark.parametrize(
    ("name", "role"),
    [("Users.read", "viewer"), ("users", "viewer"), ("users..read", "viewer"), ("a.b", "boss")],
)
def test_a_malformed_declaration_is_refused(name, role):
    with pytest.raises(ValueError):
        Permission(name, "Something", role)


def test_a_product_declares_its_own_and_the_roles_include_them():
    registry = Permissions()
    notes_write = Permission("notes.write", "Add notes", "admin")
    registry.declare([notes_write])
    registry.declare([notes_write])  # the same one again: a blueprint in two apps
    assert "notes.write" in registry.of_role("admin")
    assert "notes.write" not in registry.of_role("viewer")
    assert registry["notes.write"] is notes_write and notes_write in registry
    with pytest.raises(ValueError, match="declared twice"):
        registry.declare([Permission("notes.write", "Add notes", "viewer")])
    assert Permission("notes.write", "Add notes", "viewer") not in registry
    with pytest.raises(KeyError):
        registry["users.delet"]  # a typo fails loudly
    assert registry[USERS_DELETE] is USERS_DELETE


FORBIDDEN_IMPORTS = ("flask", "firebase", "google", "werkzeug", "jinja2", "redis")
FORBIDDEN_PACKAGES = ("firebase", "web", "services", "mail", "cli", "config")


def _imports(path: Path) -> set[str]:
    """Absolute names of what a module of adminapp imports."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            found.add(".".join([*base, *(node.module or "").split(".")]).strip("."))
    return found


def test_the_domain_imports_no_storage_web_or_flask():
    """Storage-free: the domain and what it imports of adminapp reach no
    Flask, no Firebase and no layer above it."""
    seen, todo = set(), sorted(DOMAIN.glob("*.py"))
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            top = name.split(".")[0]
            assert not top.startswith(FORBIDDEN_IMPORTS), f"{path.name} imports {name}"
            if top == "adminapp":
                parts = name.split(".")
                assert len(parts) < 2 or parts[1] not in FORBIDDEN_PACKAGES, (
                    f"{path.name} imports {name}"
                )
                module = ROOT.joinpath(*parts).with_suffix(".py")
                if module.exists():
                    todo.append(module)
    assert DOMAIN / "permissions.py" in seen


def test_the_docs_table_is_written_from_the_declaration():
    from devtools import permissions_docs

    diff = permissions_docs.difference()
    assert not diff, f"run `make permissions-docs`:\n{diff}"


def test_a_changed_row_in_the_docs_table_is_found(tmp_path, monkeypatch):
    from devtools import permissions_docs

    readme = tmp_path / "README.md"
    (tmp_path / "docs").mkdir()
    text = permissions_docs.written(f"# x\n{permissions_docs.BEGIN}\n{permissions_docs.END}\n")
    readme.write_text(
        text.replace(
            "| `users.delete` | Delete users | `owner`", "| `users.delete` | Delete users | `admin`"
        )
    )
    monkeypatch.setattr(permissions_docs, "ROOT", tmp_path)
    assert "users.delete" in permissions_docs.difference()
    readme.write_text(text)
    assert permissions_docs.difference() == ""


def test_custom_role_names_are_slugs_that_are_not_built_in():
    assert valid_custom_name("support") and valid_custom_name("billing-2")
    for name in ("owner", "admin", "viewer", "Support", "s", "2fa", "a b", "-x", "x" * 33, None):
        assert not valid_custom_name(name), name


def test_a_custom_role_grants_its_declared_permissions_and_an_unknown_role_nothing():
    registry = Permissions()
    book = RoleBook(
        roles={"support": CustomRole("support", "", frozenset({"users.read", "gone.product"}))}
    )
    assert registry.granted_by("support", book) == {"users.read"}  # undeclared names give nothing
    assert registry.granted_by("owner", book) == OWNER
    assert registry.granted_by("ghost", book) is None
    assert book.known("support") and book.known("viewer") and not book.known("ghost")
