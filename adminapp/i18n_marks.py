"""Marking strings for translation where Flask is not available.

Services, stores and mail compose messages for people without importing
Flask. ``N_`` returns its argument unchanged; its only job is to let
``pybabel extract`` (see babel.cfg) find the English message, which the web
layer translates when it renders the refusal (``Refused.translated``).
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message
