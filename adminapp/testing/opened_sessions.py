"""A signed-in session made by the app's own services, for the tests whose
subject is not the sign-in.

A sign-in over HTTP loads the login page, exchanges an ID token (which the
app verifies against the Auth emulator), and goes through the second
factor's pages, a QR code included: about a tenth of a second of the suite's
time each, and the route walk and the CSRF table sign in over 400 times.
:func:`open_session` leaves the records that such a sign-in leaves, made by
the code that makes them: the exchange's service (``Access.admit``, the
sign-in after the token's verification), then the TOTP enrolment's
(``Totp.new_enrolment`` and ``Totp.enrol_first``) or, for an admin who has
an authenticator app already, its proof (``Totp.verify``). So the admin
document is bound to the uid, the pending session is spent and a full one
opened, the factor and its recovery codes are stored, and the trail has
every entry. What it skips is HTTP and the token's verification, which
``tests/integration/test_sign_in.py`` and the second factor's tests cover.

The authenticator goes into :data:`adminapp.testing.sign_in.AUTHENTICATORS`
as a real enrolment's does, so a later challenge or step-up over HTTP is
answered the same way.
"""

from __future__ import annotations

import pyotp
from flask import Flask

from adminapp.client import Client
from adminapp.domain.sessions import CookieClaims
from adminapp.firebase.identity import FirebaseIdentity
from adminapp.testing.sign_in import AUTHENTICATORS, Authenticator, enrolled_authenticator

# Who the records say opened the session (the sessions page shows it).
OPENED_BY = Client(ip="127.0.0.1", user_agent="adminapp.testing (opened session)")


def open_session(app: Flask, email: str, uid: str, *, origin: str) -> CookieClaims:
    """A full session of the admin ``email`` (Firebase user ``uid``, who
    signed in with a password just now) on ``app``; its cookie's claims.
    ``origin``: the site whose authenticators this admin's belongs to (the
    test client's, or a served app's URL)."""
    services = app.extensions["adminapp"]
    identity = FirebaseIdentity(
        uid=uid,
        email=email,
        email_verified=True,
        provider="password",
        auth_time=services.clock(),
    )
    signed_in = services.access.admit(identity, OPENED_BY)
    if not signed_in.session.mfa_pending:
        return signed_in.claims  # a role that needs no second factor
    admin = services.directory.get(email)
    if admin.second_factors:
        code = enrolled_authenticator(origin, email).next_code()
        passed = services.totp.verify(signed_in.session, admin, code, OPENED_BY)
        return passed.claims
    enrolment = services.totp.new_enrolment(signed_in.session)
    totp = pyotp.TOTP(enrolment.secret)
    step = totp.timecode(services.clock())
    enrolled = services.totp.enrol_first(
        signed_in.session, admin, enrolment.sealed, totp.generate_otp(step), OPENED_BY
    )
    AUTHENTICATORS[origin, email] = Authenticator(
        secret=enrolment.secret, last_step=step, recovery_codes=enrolled.recovery_codes
    )
    return enrolled.passed.claims
