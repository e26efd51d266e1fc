"""Views call services; services call storage (issue 24: "views and
templates import no storage-layer module").

No module under ``adminapp/web/`` imports ``adminapp.firebase``, in any form
and at any depth of the file: what a view needs of an admin, a session, the
audit trail or an end user is a domain type (``adminapp/domain/``) or a
service's answer. Templates import no Python module at all; what they show
reaches them through the views.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "adminapp" / "web"
STORAGE = "adminapp.firebase"


def _module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def storage_imports(path: Path, source: str | None = None) -> set[tuple[str, str, str]]:
    """(file relative to adminapp/web, storage module, name) for each name
    ``path`` imports from adminapp.firebase, at any depth of the file."""
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package[:-1]
    where = path.relative_to(WEB).as_posix()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == STORAGE or alias.name.startswith(STORAGE + "."):
                    found.add((where, alias.name, "*"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                # ``from adminapp import firebase`` and ``from ..firebase import audit``.
                full = f"{module}.{alias.name}"
                if module == STORAGE or module.startswith(STORAGE + "."):
                    found.add((where, module, alias.name))
                elif full == STORAGE or full.startswith(STORAGE + "."):
                    found.add((where, full, "*"))
    return found


def views_storage_imports(planted: dict[Path, str] | None = None) -> set[tuple[str, str, str]]:
    """The storage imports of every module under adminapp/web; ``planted``
    gives some files (new or existing) another text, to prove the walk."""
    planted = planted or {}
    found = set()
    for path in sorted({*WEB.rglob("*.py"), *planted}):
        found |= storage_imports(path, planted.get(path))
    return found


def test_no_view_imports_the_storage_layer():
    found = views_storage_imports()
    assert not found, (
        "a module under adminapp/web imports adminapp.firebase directly; import "
        f"the name from adminapp/domain/ or go through a service: {sorted(found)}"
    )


def test_an_import_planted_among_the_views_is_found():
    """The walk reaches nested packages and existing files: the test above
    cannot pass for having looked nowhere."""
    guard = WEB / "guard.py"
    planted = {
        WEB / "console" / "planted.py": "from ...firebase.audit import AuditTrail\n",
        guard: guard.read_text() + "\nfrom ..firebase.users import FirebaseUsers\n",
    }
    assert views_storage_imports(planted) == {
        ("console/planted.py", "adminapp.firebase.audit", "AuditTrail"),
        ("guard.py", "adminapp.firebase.users", "FirebaseUsers"),
    }


@pytest.mark.parametrize(
    "source",
    [
        "from ..firebase.admins import Admin\n",
        "from .. import firebase\n",
        "from ..firebase import admins\n",
        "import adminapp.firebase.sessions\n",
        "from adminapp.firebase.sessions import SessionStore\n",
        "def view():\n    from ..firebase.backend import FirebaseBackend\n",
    ],
)
def test_each_form_of_import_is_found(source):
    assert storage_imports(WEB / "guard.py", source)


def test_a_sibling_module_named_like_firebase_is_not_storage():
    # adminapp/web/auth/firebase_web.py is the login page's SDK set-up.
    assert not storage_imports(WEB / "auth" / "routes.py", "from .firebase_web import web_config\n")


def test_services_and_views_import_nothing_of_google():
    """The stores turn Google's errors into the caller's refusals
    (``FirebaseBackend.commit(..., lost_race=)``, ``take_challenge``): no
    service or view catches ``google.api_core`` exceptions itself."""
    found = []
    for folder in ("services", "web"):
        for path in sorted((ROOT / "adminapp" / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                found += [
                    f"{path.relative_to(ROOT)}: {name}"
                    for name in names
                    if name == "google" or name.startswith("google.")
                ]
    assert not found, found
