"""What the login page's Firebase JS SDK needs to know."""

from __future__ import annotations

from flask_babel import gettext as _

from ...config import Settings

# The browser SDK is served from adminapp/static/vendor, copied from the
# pinned npm package (tests check the two match), so sign-in needs no CDN.
FIREBASE_JS_SDK_VERSION = "12.19.0"
VENDOR_PATH = f"vendor/firebase/{FIREBASE_JS_SDK_VERSION}"
GSTATIC_APP_URL = f"https://www.gstatic.com/firebasejs/{FIREBASE_JS_SDK_VERSION}/firebase-app.js"


def web_config(settings: Settings) -> dict:
    config = {
        "apiKey": settings.web_api_key,
        "authDomain": settings.auth_domain,
        "projectId": settings.project_id,
        # What each provider button asks the identity provider for.
        "providers": {button.id: button.web_config() for button in settings.provider_buttons},
    }
    if settings.tenant_id:
        # The staff sign in to their tenant; the exchange refuses any other.
        config["tenantId"] = settings.tenant_id
    if settings.auth_emulator_host:
        # Also turns off reCAPTCHA for SMS codes (emulator only, never in
        # production: login.js sets appVerificationDisabledForTesting).
        config["emulatorUrl"] = f"http://{settings.auth_emulator_host}"
    return config


def login_messages() -> dict:
    """What login.js says, in the reader's language. Served in a
    ``<script type="application/json">`` block, which the browser never
    executes, so the CSP needs no exception for it.

    ``firebase`` maps Firebase error codes a person can act on. With email
    enumeration protection on, a wrong password and an unknown email both
    arrive as auth/invalid-credential, and we say the same for both.
    """
    wrong = _("Wrong email or password.")
    return {
        "firebase": {
            "auth/invalid-credential": wrong,
            "auth/invalid-login-credentials": wrong,
            "auth/wrong-password": wrong,
            "auth/user-not-found": wrong,
            "auth/invalid-email": _("Enter a valid email address."),
            "auth/missing-password": _("Enter your password."),
            "auth/user-disabled": _("This account is disabled."),
            "auth/too-many-requests": _(
                "Too many attempts. Wait a few minutes, or reset your password, then try again."
            ),
            "auth/network-request-failed": _(
                "Cannot reach the sign-in service. Check your connection and try again."
            ),
            # Provider sign-in and Firebase's own second factor (login.js).
            "auth/popup-closed-by-user": _("The sign-in window was closed before you finished."),
            "auth/cancelled-popup-request": _("The sign-in window was closed before you finished."),
            "auth/user-cancelled": _("Sign-in was cancelled at your identity provider."),
            "auth/account-exists-with-different-credential": _(
                "Your email address already signs in another way. Use that way, or ask the "
                "site's operator to link sign-in methods that share an email (Firebase: "
                "Authentication > Settings > User account linking)."
            ),
            "auth/operation-not-allowed": _(
                "This sign-in method is not enabled in the Firebase project. Ask the site's "
                "operator."
            ),
            "auth/unauthorized-domain": _(
                "This site is not an authorized domain of its Firebase project. Ask the site's "
                "operator to add it (Firebase: Authentication > Settings > Authorized domains)."
            ),
            "auth/invalid-verification-code": _("That code is not right. Check it and try again."),
            "auth/missing-code": _("Enter the code."),
            "auth/code-expired": _("That code has expired. Start again to get a new one."),
            "auth/quota-exceeded": _(
                "Too many codes were sent. Wait a few minutes, then start again."
            ),
            "auth/captcha-check-failed": _("The robot check failed. Start again."),
        },
        "failed": _("Sign-in failed. Try again."),
        # %(status)s is filled in by the script.
        "failedWithStatus": _("Sign-in failed (error %(status)s).", status="{status}"),
        "unreachable": _("Cannot reach this site. Check your connection and try again."),
        "missingFields": _("Enter your email and password."),
        "signIn": _("Sign in"),
        "signingIn": _("Signing in…"),
        # Firebase's own second factor; {phone} and {name} are filled in by the script.
        "smsPrompt": _("Enter the code we texted to %(phone)s.", phone="{phone}"),
        "totpPrompt": _("Enter the code from your authenticator app."),
        "totpPromptNamed": _(
            "Enter the code from your authenticator app (%(name)s).", name="{name}"
        ),
        "unsupportedFactor": _("Your account's second factor is not supported on this page."),
    }
