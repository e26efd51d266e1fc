"""Where the files that ship beside the code are, from a checkout or installed.

The repository keeps the page templates at its root (``templates/``);
``pyproject.toml`` maps them into the package (``adminapp/templates``) when
adminapp is built and installed. Code asks here rather than guessing from
``__file__``, so the same lookups work from both.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The repository root when running from a checkout (site-packages otherwise).
CHECKOUT = PACKAGE.parent


def shipped(installed: str, checkout: str) -> Path:
    """``adminapp/<installed>`` in an installed package, else the checkout's
    ``<checkout>``."""
    inside = PACKAGE / installed
    return inside if inside.is_dir() else CHECKOUT / checkout


def templates() -> Path:
    return shipped("templates", "templates")
