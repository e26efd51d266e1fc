"""Answering in the caller's language: JSON for scripts and fetch(), HTML for people."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request

API_PREFIX = "/admin/api/"
JSON_ENDPOINTS = {"auth.open_session"}


def wants_json() -> bool:
    if request.path.startswith(API_PREFIX) or request.endpoint in JSON_ENDPOINTS:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, message: str, code: str, title: str | None = None) -> Response:
    """An error a person (or a script's author) can act on; never a traceback."""
    if wants_json():
        response = jsonify(error=code, message=message)
    else:
        response = Response(
            render_template(
                "errors/error.html", status=status, title=title or message, message=message
            ),
            mimetype="text/html",
        )
    response.status_code = status
    return response
