"""Emails and other background work when the CPU stops with the response.

With ``CLOUD_RUN_CPU=request`` (Cloud Run's default allocation: CPU only
while a request is being answered) a job left running after the response
may stall until the next request or be lost with the instance. So every
request waits for the jobs it submitted before its response goes out
(``services/background.py``'s :func:`settle`). A page whose timing must say
nothing (the password reset request: an email goes out or not, depending
on the address) calls :func:`answer_no_sooner_than`, and answers at that
floor, whichever way its jobs went.

With ``CLOUD_RUN_CPU=always`` (the default off Cloud Run) nothing changes:
jobs run after the response, which answers at once.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g

from ..config import Settings
from ..services.background import Background, settle

_JOBS = "_adminapp_background_jobs"


def init_app(app: Flask, settings: Settings) -> None:
    if settings.cloud_run_cpu != "request":
        return
    app.before_request(_collect)
    app.after_request(_settle)


def answer_no_sooner_than(seconds: float) -> None:
    """Hold this response until ``seconds`` after the request began, and no
    longer (when the CPU stops with the response; otherwise the jobs run
    after it and the response needs no floor)."""
    if _JOBS in g:
        g.response_floor = g.request_began + seconds


def _collect() -> None:
    g.request_began = time.monotonic()
    setattr(g, _JOBS, Background.collect())


def _settle(response: Response) -> Response:
    token = g.pop(_JOBS, None)
    if token is not None:
        settle(Background.collected(token), g.get("response_floor"))
    return response
