"""A product in its own package: found through its entry point, with its
services built once, its catalogs read beside adminapp's, and only the
public API (adminapp.product, adminapp.testing) imported. Without emulators."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

import adminapp.product
from adminapp import ConfigError, create_app
from adminapp.product import AdminBlueprint, Permission, permission_required
from adminapp.testing.catalogs import catalog_problems, extracted_ids
from tests.support.settings import development

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "examples" / "notes"
# What a product may import from adminapp: its code, and its tests.
PUBLIC = {"adminapp.product", "adminapp.testing"}

built: list[object] = []
GAUGES_READ = Permission("gauges.read", "Read the gauges", "viewer")


def build_gauges(services):
    built.append(services)
    return {"backend": services.backend}


gauges = AdminBlueprint(
    "gauges",
    __name__,
    prefix="gauges",
    permissions=(GAUGES_READ,),
    services=build_gauges,
)


@gauges.get("/")
@permission_required(GAUGES_READ)
def gauge_page():
    return "gauges"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_example_product_imports_only_the_public_api():
    files = sorted(NOTES.rglob("*.py"))
    assert len(files) >= 3  # its package and its tests
    for path in files:
        private = {
            name
            for name in _imports(path)
            if name.split(".")[0] == "adminapp" and name not in PUBLIC
        }
        assert not private, f"{path.relative_to(ROOT)} imports {sorted(private)}"


def test_the_public_api_exports_what_it_lists():
    assert sorted(adminapp.product.__all__) == sorted(set(adminapp.product.__all__))
    for name in adminapp.product.__all__:
        assert getattr(adminapp.product, name) is not None, name


def test_a_products_services_are_built_once_per_app_not_per_request():
    built.clear()
    app = create_app(development(ADMINAPP_BLUEPRINTS="tests.unit.test_product_api:gauges"))
    other = create_app(development(ADMINAPP_BLUEPRINTS="tests.unit.test_product_api:gauges"))
    assert len(built) == 2  # one per app, at start-up

    with app.test_request_context("/admin/gauges/"):
        first = gauges.service()
    with app.test_request_context("/admin/gauges/"):
        assert gauges.service() is first
    with other.test_request_context("/admin/gauges/"):
        assert gauges.service() is not first
    assert first["backend"] is app.extensions["adminapp"].backend
    assert len(built) == 2


def _install_fake_product(root: Path, value: str) -> None:
    """An installed distribution as pip leaves it: a dist-info folder with
    an entry_points.txt, on sys.path."""
    info = root / "fake_product-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-product\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[adminapp.products]\ngauges = {value}\n")


def test_an_installed_product_is_mounted_through_its_entry_point(tmp_path, monkeypatch):
    before = create_app(development())
    assert "gauges.gauge_page" not in before.view_functions

    _install_fake_product(tmp_path, "tests.unit.test_product_api:gauges")
    monkeypatch.syspath_prepend(str(tmp_path))
    app = create_app(development())

    assert "gauges.gauge_page" in app.view_functions
    assert "gauges.read" in app.extensions["adminapp.permissions"].of_role("viewer")
    # Named by the setting as well: mounted once, not refused as a clash.
    both = create_app(development(ADMINAPP_BLUEPRINTS="tests.unit.test_product_api:gauges"))
    assert "gauges.gauge_page" in both.view_functions


def test_an_entry_point_that_cannot_be_loaded_stops_start_up(tmp_path, monkeypatch):
    _install_fake_product(tmp_path, "no_such_product_module:bp")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="entry point gauges = no_such_product_module:bp"):
        create_app(development())


def _product_with_catalogs(root: Path, korean: str) -> AdminBlueprint:
    package = root / "dials"
    folder = package / "translations" / "ko" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (folder / "messages.po").write_text(
        textwrap.dedent(
            f"""\
            msgid ""
            msgstr ""
            "Content-Type: text/plain; charset=utf-8\\n"
            "Language: ko\\n"

            msgid "Dials"
            msgstr "{korean}"

            msgid "Sign in"
            msgstr "들어오기"
            """
        ),
        encoding="utf-8",
    )
    return AdminBlueprint(
        "dials", "dials", prefix="dials", translations="translations", root_path=str(package)
    )


def test_a_products_catalog_is_read_beside_adminapps_which_keeps_its_wording(tmp_path, monkeypatch):
    blueprint = _product_with_catalogs(tmp_path, "다이얼")
    monkeypatch.setattr(adminapp.product, "dials", blueprint, raising=False)
    app = create_app(development(ADMINAPP_BLUEPRINTS="adminapp.product:dials"))

    with app.test_request_context("/admin/"), force_locale("ko"):
        assert gettext("Dials") == "다이얼"  # the product's, compiled at start-up
        assert gettext("Sign in") == "로그인"  # adminapp's own, not the product's
    without = create_app(development())
    with without.test_request_context("/admin/"), force_locale("ko"):
        assert gettext("Dials") == "Dials"


def test_a_missing_translations_folder_stops_start_up(tmp_path, monkeypatch):
    blueprint = AdminBlueprint(
        "dials", "dials", prefix="dials", translations="nowhere", root_path=str(tmp_path)
    )
    monkeypatch.setattr(adminapp.product, "dials", blueprint, raising=False)
    with pytest.raises(ConfigError, match=r"translations .*nowhere do not exist"):
        create_app(development(ADMINAPP_BLUEPRINTS="adminapp.product:dials"))


def test_the_catalog_check_names_a_missing_and_an_untranslated_string(tmp_path):
    _product_with_catalogs(tmp_path, "")
    (tmp_path / "dials" / "view.py").write_text('_("Dials")\n_("Gauges")\n')
    (tmp_path / "babel.cfg").write_text("[python: dials/**.py]\n")

    problems = catalog_problems(
        tmp_path / "dials" / "translations", extracted_ids(tmp_path / "babel.cfg")
    )

    assert "ko: lacks 'Gauges'" in problems
    assert "ko: 'Dials' is not translated and reviewed" in problems
