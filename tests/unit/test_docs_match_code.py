"""The docs say what the code does. Each list in the docs that repeats
something the code declares is compared with the declaration, so that
changing one without the other fails here: the audit events, the module
map, the command line's reference, and every link between the docs. (The
settings tables of docs/configuration.md are written from the declarations
and checked by tests/unit/test_settings_declared.py.) No emulator, no
network: the app is built in development mode, which makes no client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from adminapp import create_app
from adminapp.domain.audit import EVENTS
from tests.support.settings import development

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# The pages whose links and section references are checked.
PAGES = (README, ROOT / "SECURITY.md", *sorted(DOCS.glob("*.md")))
# Other files that point into the docs by a section's name ("X.md: "Heading"").
POINTERS = (
    ROOT / "Makefile",
    ROOT / ".env.example",
    *sorted((ROOT / "adminapp").rglob("*.py")),
    *sorted((ROOT / "examples").rglob("*.py")),
    *sorted((ROOT / "devtools").glob("*.py")),
    *sorted(path for path in (ROOT / "tests").rglob("*.py") if path.name != Path(__file__).name),
)


# -- reading Markdown: just what these checks need --


FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"`([^`]*)`")
# [text](target) and ![alt](target), with an optional "title".
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose_lines(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield line


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of each heading outside code blocks."""
    return [
        (len(found[1]), found[2]) for line in prose_lines(text) if (found := HEADING.match(line))
    ]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text without markup, lower
    case, punctuation dropped (letters, digits, `_` and `-` stay), spaces
    made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor; a repeated one gets -1, -2, … as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, heading in headings(text):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def section(text: str, title: str) -> str:
    """The lines under the heading ``title`` (code blocks included), up to
    the next heading of the same or a higher level."""
    lines, level, fenced = [], None, False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        found = None if fenced else HEADING.match(line)
        if level is None:
            if found and found[2] == title:
                level = len(found[1])
            continue
        if found and len(found[1]) <= level:
            break
        lines.append(line)
    assert level is not None, f"no heading {title!r}"
    return "\n".join(lines)


def table_rows(text: str) -> list[list[str]]:
    """The cells of each row of the Markdown tables in ``text``, the header
    and its rule left out."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[-:| ]+\|", line):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append(cells)
    return rows[1:] if rows else rows


def links(text: str) -> list[str]:
    """Every link's target, outside code blocks and code spans."""
    prose = "\n".join(prose_lines(text))
    prose = CODE_SPAN.sub(lambda span: " " * len(span[0]), prose)
    return LINK.findall(prose)


def test_the_markdown_reader_reads_what_these_checks_rely_on():
    text = """# Title

## Firebase's own second factors

```sh
# not a heading [nor](a-link.md)
```

See [the `stages`](docs/x.md#a-b) and ![a picture](p.png "title"),
but not `[code](y.md)`.

## Deploy on Firebase (Cloud Run + Hosting)
## Title

| module | its job |
|---|---|
| `a.py` | one \\| two |
"""
    assert headings(text) == [
        (1, "Title"),
        (2, "Firebase's own second factors"),
        (2, "Deploy on Firebase (Cloud Run + Hosting)"),
        (2, "Title"),
    ]
    assert anchors(text) == {
        "title",
        "firebases-own-second-factors",
        "deploy-on-firebase-cloud-run--hosting",
        "title-1",
    }
    assert links(text) == ["docs/x.md#a-b", "p.png"]
    assert "[nor]" in section(text, "Firebase's own second factors")
    assert table_rows(text) == [["`a.py`", "one \\| two"]]


# -- the audit events --


def documented_events() -> list[str]:
    """The event names of the list in docs/data-model.md, "Audit events"."""
    listed = section((DOCS / "data-model.md").read_text(), "Audit events")
    items = "\n".join(line for line in listed.splitlines() if line.startswith(("- ", "  ")))
    return [name for name in CODE_SPAN.findall(items) if re.fullmatch(r"[a-z][a-z0-9_]*", name)]


def test_the_audit_event_list_is_the_declared_events():
    documented = documented_events()
    repeated = sorted({name for name in documented if documented.count(name) > 1})
    assert not repeated, f"listed twice in docs/data-model.md: {repeated}"
    missing = sorted(set(EVENTS) - set(documented))
    unknown = sorted(set(documented) - set(EVENTS))
    assert not missing, f"declared in EVENTS but not in docs/data-model.md: {missing}"
    assert not unknown, f"in docs/data-model.md but not declared in EVENTS: {unknown}"


# -- the module map --


def module_map() -> list[tuple[list[str], bool]]:
    """Each row of the README's module map: the paths its first cell names
    (a bare name is a sibling of the path before it) and whether it is a
    layer's heading (in bold), which names the layer, not its modules."""
    rows = []
    for cells in table_rows(section(README.read_text(), "The module map")):
        named, folder = [], ""
        for path in CODE_SPAN.findall(cells[0]):
            if "/" not in path.rstrip("/") and folder:
                path = folder + path
            named.append(path)
            folder = path[: path.rstrip("/").rfind("/") + 1]
        rows.append((named, cells[0].startswith("**")))
    return rows


def modules() -> list[str]:
    """What the map must name: every Python module of the package (a
    package's __init__ is named by its folder) and every script of its pages."""
    found = [
        path
        for path in sorted((ROOT / "adminapp").rglob("*.py"))
        if path.name != "__init__.py" or path.parent.name == "adminapp"
    ]
    found += sorted((ROOT / "adminapp" / "static" / "js").glob("*.js"))
    return [str(path.relative_to(ROOT)) for path in found]


def unnamed(rows: list[tuple[list[str], bool]], wanted: list[str]) -> list[str]:
    """The modules neither named nor in a folder that a row (not a layer's
    heading) names."""
    files = {path for named, _ in rows for path in named}
    folders = {
        path for named, heading in rows if not heading for path in named if path.endswith("/")
    }
    return [
        module
        for module in wanted
        if module not in files and module[: module.rfind("/") + 1] not in folders
    ]


def test_the_module_map_names_every_module():
    rows = module_map()
    assert len(rows) > 50, "the module map was not found where it used to be"
    missing = unnamed(rows, modules())
    assert not missing, f"the README's module map does not name: {missing}"


def test_the_module_map_names_only_what_exists():
    gone = [
        path
        for named, _ in module_map()
        for path in named
        if not (ROOT / path).exists() or path.endswith("/") != (ROOT / path).is_dir()
    ]
    assert not gone, f"the README's module map names what is not there: {gone}"


def test_a_module_left_out_of_the_map_is_found():
    rows = module_map()
    without = [
        ([path for path in named if path != "adminapp/web/bearer.py"], heading)
        for named, heading in rows
    ]
    assert unnamed(without, modules()) == ["adminapp/web/bearer.py"]
    # A layer's heading names no module: taking a module's own row away is
    # not hidden by `adminapp/services/`.
    without = [
        ([path for path in named if path != "adminapp/services/access.py"], heading)
        for named, heading in rows
    ]
    assert unnamed(without, modules()) == ["adminapp/services/access.py"]


# -- the command line --


def registered_commands() -> set[str]:
    """Every `flask` command the app adds, as "group command"."""
    app = create_app(development())
    found = set()
    for name, command in app.cli.commands.items():
        if isinstance(command, click.Group):
            found |= {f"{name} {sub}" for sub in command.commands}
        else:
            found.add(name)
    return found


FLASK_COMMAND = re.compile(r"\bflask\s+(?:--app\s+\S+\s+)?([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")


def test_the_cli_reference_lists_exactly_the_registered_commands():
    reference = section((DOCS / "operations.md").read_text(), "Command line")
    listed = set()
    for line in reference.splitlines():
        if line.startswith("flask "):
            group, command = FLASK_COMMAND.match(line).groups()
            listed.add(f"{group} {command}" if command else group)
    registered = registered_commands()
    assert len(registered) > 20, registered
    assert registered - listed == set(), "registered, not in docs/operations.md's reference"
    assert listed - registered == set(), "in docs/operations.md's reference, not registered"


def test_every_flask_command_the_docs_show_exists():
    registered = registered_commands()
    groups = {command.split()[0] for command in registered}
    shown = {
        f"{group} {command}"
        for page in PAGES
        for group, command in FLASK_COMMAND.findall(page.read_text())
        if group in groups and command  # `flask admins …` names the group only
    }
    assert shown, "no flask command found in the docs"
    assert shown - registered == set(), "the docs show commands the app does not have"


# -- links and references between the docs --


def link_problems(page: Path) -> list[str]:
    problems = []
    for target in links(page.read_text()):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            problems.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            problems.append(f"{target}: no such heading")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_a_heading(page):
    problems = link_problems(page)
    assert not problems, f"{page.relative_to(ROOT)}: {problems}"


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## A part\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#a-part) [ok](#page) [gone](missing.md) "
        "[no part](other.md#b-part) [no heading](#nowhere) [web](https://example.com/x)\n"
    )
    assert link_problems(page) == [
        "missing.md: no such file",
        "other.md#b-part: no such heading",
        "#nowhere: no such heading",
    ]


# A section named in prose: README: "Title", docs/x.md: "Title",
# (README, "Title"), the README's "Title"; comment markers may break the line.
BOLD_LEAD = re.compile(r"^\*\*(.+?)\.?\*\*")
SECTION_POINTER = re.compile(
    r"\b(README(?:\.md)?|SECURITY\.md|docs/[\w-]+\.md)(?:'s)?[,:]?[\s#]+\"([^\"]+)\""
)


def named_parts(text: str) -> set[str]:
    """The headings, and the bold words that open a paragraph (**Fail closed.**)."""
    leads = {found[1] for line in prose_lines(text) if (found := BOLD_LEAD.match(line))}
    return {heading for _, heading in headings(text)} | leads


def pointer_problems(text: str) -> list[str]:
    problems = []
    for name, title in SECTION_POINTER.findall(text):
        page = ROOT / ("README.md" if name == "README" else name)
        title = " ".join(title.replace("#", " ").replace("\\", "").split())
        if not title:  # the end of one string literal and the start of the next
            continue
        if not page.exists():
            problems.append(f'{name}: "{title}": no such file')
        elif title not in named_parts(page.read_text()):
            problems.append(f'{name}: "{title}": no such heading')
    return problems


def test_every_section_named_in_prose_or_comments_exists():
    problems = {
        str(path.relative_to(ROOT)): found
        for path in (*PAGES, *POINTERS)
        if path.exists() and (found := pointer_problems(path.read_text()))
    }
    assert not problems, problems


def test_a_section_pointer_to_a_moved_section_is_found():
    assert pointer_problems('see README: "Password reset" and docs/testing.md: "Nowhere"') == [
        'README: "Password reset": no such heading',
        'docs/testing.md: "Nowhere": no such heading',
    ]
    assert pointer_problems('# wrapped (docs/second-factor.md:\n# "Step-up")') == []
