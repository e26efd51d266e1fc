"""With LOG_FORMAT=json: each line of a request carries its trace, and each
request is logged once with Cloud Logging's ``httpRequest`` fields.

The trace comes from the headers Google's front end adds (W3C
``traceparent``, else ``X-Cloud-Trace-Context: TRACE/SPAN;o=1``), so that
Logs Explorer groups a request's lines under it. Header values are checked
against their formats before they reach a log line.

The request line names the path only: query strings carry codes (the reset
page's ``oobCode``) and whatever a caller put there by mistake.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, Response, current_app, has_request_context, request

from ..config import Settings
from ..logs import HTTP_REQUEST_FIELD, SPAN_ID, TRACE, TRACE_FIELD, TRACE_SAMPLED
from .context import EXTENSION_KEY

log = logging.getLogger("adminapp.request")

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_CLOUD_TRACE = re.compile(r"^([0-9a-f]{32})(?:/([0-9]{1,20}))?(?:;o=([01]))?$")
_TRACE_KEY = "adminapp.trace"
_BEGAN_KEY = "adminapp.began"
MAX_USER_AGENT = 512


class RequestTrace(logging.Filter):
    """Add the current request's trace to every record logged during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and EXTENSION_KEY in current_app.extensions:
            setattr(record, TRACE_FIELD, trace_fields())
        return True


def trace_fields() -> dict:
    """The request's trace fields (computed once per request)."""
    fields = request.environ.get(_TRACE_KEY)
    if fields is None:
        fields = _parse_trace(current_app.extensions[EXTENSION_KEY].settings.project_id)
        request.environ[_TRACE_KEY] = fields
    return fields


def _parse_trace(project_id: str) -> dict:
    parent = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
    if parent and int(parent.group(1), 16) and int(parent.group(2), 16):
        trace, span, sampled = parent.group(1), parent.group(2), int(parent.group(3), 16) & 1
    else:
        cloud = _CLOUD_TRACE.match(request.headers.get("X-Cloud-Trace-Context", "").strip())
        if cloud is None:
            return {}
        trace, span, sampled = cloud.group(1), cloud.group(2), cloud.group(3) == "1"
        # X-Cloud-Trace-Context gives the span as a decimal; Logging wants hex.
        span = f"{int(span):016x}" if span and int(span) < 2**64 else None
    fields = {TRACE: f"projects/{project_id}/traces/{trace}", TRACE_SAMPLED: bool(sampled)}
    if span:
        fields[SPAN_ID] = span
    return fields


def init_app(app: Flask, settings: Settings, handlers: list[logging.Handler]) -> None:
    if settings.log_format != "json":
        return
    trace = RequestTrace()
    for handler in handlers:
        handler.addFilter(trace)  # logging ignores a filter already there
    app.before_request(_began)
    app.after_request(_log_request)


def _began() -> None:
    request.environ[_BEGAN_KEY] = time.monotonic()


def _log_request(response: Response) -> Response:
    began = request.environ.get(_BEGAN_KEY)
    http_request = {
        "requestMethod": request.method,
        "requestUrl": request.path,
        "status": response.status_code,
        "userAgent": (request.user_agent.string or "")[:MAX_USER_AGENT],
        "remoteIp": request.remote_addr or "",
        "protocol": request.environ.get("SERVER_PROTOCOL", ""),
    }
    if began is not None:
        http_request["latency"] = f"{time.monotonic() - began:.6f}s"
    if response.content_length is not None:
        http_request["responseSize"] = str(response.content_length)
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={HTTP_REQUEST_FIELD: http_request},
    )
    return response
