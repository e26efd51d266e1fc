"""Views call services; services call storage (issue 24: "views and
templates import no storage-layer module").

Every import under ``adminapp/web/`` that reaches ``adminapp.firebase`` is
refused unless ``STILL_IMPORTED`` names it. The list only shrinks: an entry
whose import is gone fails too, so that it is struck off when its name moves
(to ``adminapp/domain/``, or behind a service). Templates import no Python
module at all; what they show reaches them through the views.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "adminapp" / "web"
STORAGE = "adminapp.firebase"

# (module under adminapp/web, storage module, name) still imported today.
# Strike an entry off when its name leaves the storage layer; never add one.
STILL_IMPORTED = {
    # The audit trail's types and helpers still live in firebase/audit.py.
    ("access_records.py", "adminapp.firebase.audit", "TASKS"),
    ("access_records.py", "adminapp.firebase.audit", "DataSubject"),
    ("api/routes.py", "adminapp.firebase.audit", "AuditEntry"),
    ("api/routes.py", "adminapp.firebase.audit", "audit_target"),
    ("api/routes.py", "adminapp.firebase.audit", "valid_cursor"),
    ("console/audit.py", "adminapp.firebase.audit", "audit_target"),
    ("console/audit.py", "adminapp.firebase.audit", "valid_cursor"),
    ("products.py", "adminapp.firebase.audit", "AuditTrail"),
    # The structured security log, not the trail; still in firebase/audit.py.
    ("cookie_jar.py", "adminapp.firebase.audit", "log_event"),
    ("error_pages.py", "adminapp.firebase.audit", "log_event"),
    ("guard.py", "adminapp.firebase.audit", "log_event"),
    # The per-request round-trip counter of the Server-Timing header.
    ("server_timing.py", "adminapp.firebase.backend", "start_counting"),
    # The users console's end users (Firebase Auth's, no domain type yet).
    ("users/api.py", "adminapp.firebase.users", "MAX_PAGE_SIZE"),
    ("users/api.py", "adminapp.firebase.users", "EndUser"),
    ("users/pages.py", "adminapp.firebase.users", "MAX_PAGE_TOKEN_LENGTH"),
    ("users/pages.py", "adminapp.firebase.users", "UserNotFound"),
}


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


def _all_storage_imports() -> set[tuple[str, str, str]]:
    found = set()
    for path in sorted(WEB.rglob("*.py")):
        found |= storage_imports(path)
    return found


def test_no_view_imports_the_storage_layer_beyond_the_allow_list():
    new = _all_storage_imports() - STILL_IMPORTED
    assert not new, (
        "a module under adminapp/web imports adminapp.firebase directly; import "
        f"the name from adminapp/domain/ or go through a service: {sorted(new)}"
    )


def test_the_allow_list_names_only_imports_that_still_exist():
    gone = STILL_IMPORTED - _all_storage_imports()
    assert not gone, f"strike these off STILL_IMPORTED, they are gone: {sorted(gone)}"


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
