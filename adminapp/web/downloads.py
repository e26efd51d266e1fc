"""An export (services/exports.py) as a streamed download.

The body is the export's generator under ``stream_with_context``: each chunk
is read, encoded and sent before the next is read, and the generator's own
end records the row count. The reason came in a POST body, so it is in no
URL, access log line or browser history.
"""

from __future__ import annotations

from flask import Response, stream_with_context

from ..services.exports import Export


def download(export: Export) -> Response:
    response = Response(stream_with_context(export.chunks), mimetype=export.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    # Personal data: no cache, shared or private, keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Id"] = export.export_id
    return response


def flag(value: object) -> bool:
    """A form's or JSON body's yes/no (a checkbox sends "y")."""
    return value is True or (isinstance(value, str) and value.lower() in ("y", "on", "true", "1"))
