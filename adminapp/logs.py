"""How log lines are written (plain text, or one JSON object per line), and
the security log's one kind of line, :func:`log_event`.

``LOG_FORMAT=json`` (the default in production on Cloud Run) writes every
record as one line of JSON, the structured-logging form that Cloud Logging
reads from a container's stdout and stderr: ``severity``, ``message``,
``time``, the request's trace (``logging.googleapis.com/trace`` and
``…/spanId``, added by ``web/request_log.py``), ``httpRequest`` for the
request log, and the security log's event as fields (``audit``) rather
than a JSON string inside the message.

A small :class:`logging.Formatter` rather than google-cloud-logging's
``StructuredLogHandler``: importing that package's handlers imports its API
client (gRPC and the generated Logging client) in every worker, and its
Flask helper puts the whole request URL, query string included, into every
line's ``httpRequest``, where the password reset page's code would be.

Whatever the format, every line passes the reset-code redaction
(``log_redaction.py``) once more as it is written.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from .log_redaction import redact

TRACE = "logging.googleapis.com/trace"
SPAN_ID = "logging.googleapis.com/spanId"
TRACE_SAMPLED = "logging.googleapis.com/trace_sampled"
# Cloud Logging's severities for Python's levels (anything else: DEFAULT).
SEVERITIES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
# Record attributes that carry structured fields (``extra=`` of a call).
AUDIT_FIELD = "audit"
HTTP_REQUEST_FIELD = "http_request"
TRACE_FIELD = "cloud_trace"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The security log: one line per security event, whether or not the audit
# trail (adminapp/firebase/audit.py) keeps an entry of it too.
security_log = logging.getLogger("adminapp.security")


def log_event(event: str, **fields) -> None:
    """One JSON line per security event; ``None`` fields are left out. With
    LOG_FORMAT=json the fields are the line's own (``audit``), not a string
    inside its message (:class:`CloudLoggingFormatter`).

    Callers pass only facts that are safe to keep: never a token, cookie,
    password, reset code or session id."""
    line = {"event": event, **{k: v for k, v in fields.items() if v is not None}}
    security_log.info(
        json.dumps(line, default=str, sort_keys=True),
        extra={AUDIT_FIELD: json.loads(json.dumps(line, default=str))},
    )


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record, in Cloud Logging's structured form."""

    def format(self, record: logging.LogRecord) -> str:
        audit = getattr(record, AUDIT_FIELD, None)
        message = _audit_summary(audit) if isinstance(audit, dict) else record.getMessage()
        if record.exc_info:
            # In the message, where Error Reporting looks for a stack trace.
            message = f"{message}\n{self.formatException(record.exc_info)}"
        entry: dict = {
            "severity": SEVERITIES.get(record.levelno, "DEFAULT"),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        if isinstance(audit, dict):
            entry[AUDIT_FIELD] = audit
        http_request = getattr(record, HTTP_REQUEST_FIELD, None)
        if http_request:
            entry["httpRequest"] = http_request
        entry.update(getattr(record, TRACE_FIELD, None) or {})
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


def _audit_summary(audit: dict) -> str:
    """A security event's line as a person scans it: event, outcome, who."""
    parts = [audit.get("event"), audit.get("outcome"), audit.get("actor"), audit.get("reason")]
    return " ".join(str(part) for part in parts if part)


def is_ours(handler: logging.Handler) -> bool:
    return isinstance(handler.formatter, CloudLoggingFormatter)


def configure(log_format: str, level: str, loggers: tuple[str, ...]) -> list[logging.Handler]:
    """Give ``loggers`` their level and make sure their records are written
    in ``log_format``; the handlers that write them (for the web layer's
    filters)."""
    for name in loggers:
        logging.getLogger(name).setLevel(level)
    if log_format == "json":
        return [_json_root_handler()]
    handlers = []
    for name in loggers:
        logger = logging.getLogger(name)
        if not _has_stream_handler(logger) and not logging.getLogger().handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter(TEXT_FORMAT))
            logger.addHandler(handler)
            handlers.append(handler)
    return handlers


def _json_root_handler() -> logging.Handler:
    """The root logger's JSON handler (gunicorn.conf.py may have made it),
    made once per process; gunicorn's own handlers write JSON too."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if is_ours(h)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(CloudLoggingFormatter())
        root.addHandler(handler)
    for name in ("gunicorn.error", "gunicorn.access"):
        for other in logging.getLogger(name).handlers:
            other.setFormatter(CloudLoggingFormatter())
    return handler


def _has_stream_handler(logger: logging.Logger) -> bool:
    # Flask-Limiter adds a NullHandler to its logger, which prints nothing.
    return any(isinstance(h, logging.StreamHandler) for h in logger.handlers)


def gunicorn_logconfig(log_format: str) -> dict | None:
    """gunicorn's ``logconfig_dict`` for ``log_format``: with JSON, the
    master's and the workers' own lines (and the root logger's) are JSON
    from the first line on; None keeps gunicorn's plain lines."""
    if log_format != "json":
        return None
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": CloudLoggingFormatter}},
        "handlers": {"json": handler},
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
        },
    }
