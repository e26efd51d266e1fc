"""The language switch of the signed-out pages.

Signed-in admins choose their language on /admin/account (stored on their
admin document); before signing in, a browser keeps its choice in a cookie
that holds the language only. A plain link (GET), so that signed-out pages
carry no per-visitor token and stay byte-for-byte identical for everyone
(the password reset page relies on that): the worst another site can do
with it is choose which of our languages a visitor reads.
"""

from __future__ import annotations

from flask import redirect, request

from ...catalogs import supported_locale
from ...errors import InvalidInput
from ...i18n_marks import N_
from ..guard import public
from ..i18n import remember_language
from ..redirects import safe_next
from . import bp


@bp.get("/language")
@public
def switch_language():
    locale = supported_locale(request.args.get("lang"))
    if locale is None:
        raise InvalidInput(N_("Choose a language from the list."), code="bad_language")
    response = redirect(safe_next(request.args.get("next")), code=303)
    remember_language(response, locale)
    return response
