"""Your account: the signed-in admin's own language and time zone.

Both live on the admin document, which the guard reads on every request
anyway, so following them costs no extra Firestore read.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..context import services
from ..guard import current_admin, self_service
from ..i18n import forget_language, remember_language
from ..step_up import step_up_exempt
from . import bp
from .forms import AccountForm

# Why every signed-in admin may use these (guard.self_service).
OWN_ACCOUNT = "the caller's own language and time zone"


@bp.get("/account")
@self_service(OWN_ACCOUNT)
def account():
    admin = current_admin()
    form = AccountForm(data={"locale": admin.locale or "", "timezone": admin.timezone or ""})
    return _page(form)


@bp.post("/account")
@self_service(OWN_ACCOUNT)
@step_up_exempt("one's own language and time zone change what one reads, not what one may do")
def save_account():
    form = AccountForm()
    if not form.validate():
        return _page(form), 400
    locale, timezone = form.locale.data or None, form.timezone.data or None
    services().management.set_preferences(current_admin().email, locale=locale, timezone=timezone)
    response = redirect(url_for(".account"), code=303)
    if locale:
        # The signed-out pages of this browser follow the choice too.
        remember_language(response, locale)
        with force_locale(locale):
            flash(_("Your preferences are saved."), "success")
    else:
        # "The browser's language": the signed-out pages follow it again too.
        forget_language(response)
        flash(_("Your preferences are saved."), "success")
    return response


def _page(form: AccountForm):
    return render_template(
        "console/account.html",
        form=form,
        me=current_admin(),
        default_timezone=services().settings.default_timezone,
    )
