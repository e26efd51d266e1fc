"""Flask's own session, kept as the cookie jar's ``STATE`` item.

Flask's session carries the CSRF secret (Flask-WTF), flash messages and the
form a step-up interrupted (``web/mfa/step_up.py``). Flask stores it in a
cookie of its own; this interface hands it to the cookie jar instead, so
that it travels as every other cookie does (``web/cookie_jar.py``: its own
cookie, or inside ``__session``). In standard mode the cookie is byte for
byte what Flask would write.

The jar is bounded (``MAX_COOKIE_BYTES``). Should the state outgrow it, what
can be given up goes first: the interrupted form (the admin is then asked
to do the action again), then older flash messages. The CSRF secret always
stays.
"""

from __future__ import annotations

import logging

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from .cookie_jar import STATE, CookieTooLarge, cookie_jar_of

log = logging.getLogger(__name__)

# The step-up's interrupted form (web/mfa/step_up.py).
RESUME_KEY = "step_up_resume"
FLASHES_KEY = "_flashes"


class JarSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, read from and written to the jar."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession:
        data = cookie_jar_of(app).read(STATE)
        return self.session_class(data if isinstance(data, dict) else {})

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        jar = cookie_jar_of(app)
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.modified:
                jar.clear(response, STATE)
                response.vary.add("Cookie")
            return
        if not self.should_set_cookie(app, session):
            return
        state = dict(session)
        while True:
            try:
                jar.write(response, STATE, state, expires=self.get_expiration_time(app, session))
                break
            except CookieTooLarge:
                state = _shed(state)
        response.vary.add("Cookie")


def _shed(state: dict) -> dict:
    """The state less one thing that can be given up; raises when nothing can."""
    if RESUME_KEY in state:
        log.warning("session state too large for its cookie: the step-up's form is dropped")
        return {k: v for k, v in state.items() if k != RESUME_KEY}
    flashes = state.get(FLASHES_KEY)
    if flashes:
        log.warning("session state too large for its cookie: an older flash message is dropped")
        return {**state, FLASHES_KEY: list(flashes)[1:]}
    raise CookieTooLarge("the session state alone exceeds the cookie's bound")
