"""Write the docs' table of permissions from their declaration
(adminapp/domain/permissions.py): each action's permission, what it lets
someone do, the least built-in role that holds it and whether it needs a
step-up.

    python -m devtools.permissions_docs           # rewrite the table (make permissions-docs)
    python -m devtools.permissions_docs --check   # say what differs, exit 1 if anything does

The table sits between two markers in whichever Markdown file holds them
(README.md today); tests/unit/test_permissions.py fails while it differs.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from adminapp.domain.permissions import BUILT_IN
from adminapp.domain.roles import ROLES

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- permissions: begin (written by `make permissions-docs`; edit the declarations) -->"
END = "<!-- permissions: end -->"


def table() -> str:
    rows = [
        "| permission | lets someone | least role | step-up |",
        "|---|---|---|---|",
    ]
    for permission in sorted(BUILT_IN, key=lambda p: (ROLES.index(p.least_role), p.name)):
        rows.append(
            f"| `{permission.name}` | {permission.label} | `{permission.least_role}` "
            f"| {'yes' if permission.step_up else 'no'} |"
        )
    return "\n".join(rows)


def document() -> Path:
    """The Markdown file that holds the markers."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if BEGIN in path.read_text():
            return path
    raise LookupError(f"no Markdown file holds {BEGIN!r}")


def written(text: str) -> str:
    before, rest = text.split(BEGIN, 1)
    _old, after = rest.split(END, 1)
    return f"{before}{BEGIN}\n{table()}\n{END}{after}"


def difference() -> str:
    path = document()
    text = path.read_text()
    return "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            written(text).splitlines(keepends=True),
            str(path.relative_to(ROOT)),
            "from the declarations",
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say what differs")
    if parser.parse_args().check:
        diff = difference()
        sys.stdout.write(diff)
        return 1 if diff else 0
    path = document()
    path.write_text(written(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
