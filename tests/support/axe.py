"""axe-core in the browser tests: scan the page a Playwright page shows and
keep the violations that block a person (WCAG 2.1 A and AA rules, serious or
critical impact).

axe-core comes from npm (``package.json``'s devDependencies, pinned, installed
by ``npm ci``) and reaches the page from here only: the app never serves it.
It goes in with ``page.evaluate``, which Chromium runs through the DevTools
protocol, outside the page's Content-Security-Policy. Playwright's
``add_script_tag(path=...)`` inlines the file as a ``<script>``, which the
app's CSP (``script-src 'self'`` and a nonce) rightly refuses, and a context
with ``bypass_csp=True`` would switch the whole policy off: the page would
then render and behave as no visitor's page does (a style or script the CSP
blocks would suddenly apply), so the scan would judge another page. With
``evaluate`` the policy stays in force for everything the page itself does;
the CSP has its own tests (``tests/security/test_headers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# The rules of WCAG 2.0 and 2.1, levels A and AA (axe-core's tags).
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# axe's impacts are minor, moderate, serious and critical: the last two stop
# or seriously hinder someone (no name on a field, text too faint to read).
BLOCKING = frozenset({"serious", "critical"})

_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    help_url: v.helpUrl,
    targets: v.nodes.map((node) => node.target.join(" ")),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        nodes = "".join(f"\n      {target}" for target in self.targets)
        return f"{self.rule} ({self.impact}): {self.help}\n      {self.help_url}{nodes}"


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run npm ci (make install)")
    return AXE_JS.read_text()


def scan(page: Page) -> list[Violation]:
    """The blocking WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    found = page.evaluate(_RUN, list(WCAG_21_AA))
    return [
        Violation(v["rule"], v["impact"], v["help"], v["help_url"], tuple(v["targets"]))
        for v in found
        if v["impact"] in BLOCKING
    ]


def report(violations: dict[str, list[Violation]]) -> str:
    """One readable block per page that has violations."""
    return "\n".join(
        f"{where}:\n" + "\n".join(f"  - {violation}" for violation in found)
        for where, found in violations.items()
        if found
    )
