"""Count the Firebase round trips of each request (for ``make bench``).

With ``SERVER_TIMING=true`` every response reports them in a standard
``Server-Timing`` header, e.g. ``firestore;desc="round trips";dur=1``. It is
off by default: the numbers describe our internals, which production
visitors do not need to see.
"""

from __future__ import annotations

from flask import Flask, Response, g

from ..config import Settings
from ..round_trips import start_counting


def init_app(app: Flask, settings: Settings) -> None:
    @app.before_request
    def count_round_trips() -> None:
        g.round_trips = start_counting()

    if not settings.server_timing:
        return

    @app.after_request
    def report_round_trips(response: Response) -> Response:
        trips = g.get("round_trips")
        if trips is not None:
            response.headers["Server-Timing"] = (
                f'firestore;desc="round trips";dur={trips.firestore}, '
                f'auth;desc="round trips";dur={trips.auth}'
            )
        return response
