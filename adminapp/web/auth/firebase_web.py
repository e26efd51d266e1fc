"""What the login page's Firebase JS SDK needs to know."""

from __future__ import annotations

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
