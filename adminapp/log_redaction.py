"""Keep password reset codes out of the logs.

The confirmation page has the code in its URL (Firebase's links put it
there), and access logs (werkzeug's, gunicorn's) print every URL. This
filter rewrites any ``oobCode=…`` (or JSON ``"oobCode": "…"``) in a log
record before a handler sees it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_CODE = re.compile(
    r"""(?P<key>oob_?code(?:%22|")?\s*(?:=|%3D|:)\s*(?:%22|")?)(?P<value>[^&\s"',}]+)""",
    re.IGNORECASE,
)
# Loggers that print request URLs; ours (adminapp) for safety. A filter on a
# logger applies to its own records only, hence the handlers too.
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "adminapp", "urllib3")


def redact(text: str) -> str:
    return _CODE.sub(lambda m: m.group("key") + REDACTED, text)


class RedactResetCodes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactResetCodes()


def install() -> None:
    """Add the filter to the URL-printing loggers and the root handlers
    (idempotent: logging ignores a filter that is already there)."""
    for name in LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_FILTER)
