"""adminapp as an installable package: pyproject.toml's [project] table
agrees with the pins the deployment installs, and lists every package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        found = PIN.match(line.split("#")[0].strip())
        if found:
            pins[canonicalize_name(found[1])] = found[2]
    return pins


def test_the_dependencies_are_the_runtime_pins_as_ranges_that_hold_them():
    pins = _pins(ROOT / "requirements.txt")
    ranges = {
        canonicalize_name(requirement.name): requirement.specifier
        for requirement in map(Requirement, PROJECT["project"]["dependencies"])
    }
    assert set(ranges) == set(pins), "requirements.txt and pyproject.toml name other packages"
    for name, version in pins.items():
        assert ranges[name].contains(version), f"{name}=={version} is outside {ranges[name]}"
        # The pin is the floor: nothing older than what the suite ran on.
        assert f">={version}" in str(ranges[name]), f"{name}: {ranges[name]} is not floored"


def test_the_testing_extra_holds_the_pinned_pytest():
    pytest_pin = _pins(ROOT / "requirements-dev.txt")["pytest"]
    [testing] = map(Requirement, PROJECT["project"]["optional-dependencies"]["testing"])
    assert testing.name == "pytest" and testing.specifier.contains(pytest_pin)


def test_every_package_folder_is_listed_and_the_templates_are_mapped_in():
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "adminapp").rglob("__init__.py")
    }
    setuptools = PROJECT["tool"]["setuptools"]
    assert set(setuptools["packages"]) == found | {"adminapp.templates"}
    assert setuptools["package-dir"] == {"adminapp.templates": "templates"}
