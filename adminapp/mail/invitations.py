"""Telling someone invited to sign in with a provider (Google, Microsoft, an
OIDC or SAML provider) where to do it.

No Firebase user is made in advance and there is no password to set, so
Firebase's own email (one template per project, about passwords) does not
fit: this is our own email, through SMTP, with a link to the sign-in page
at PUBLIC_URL. Without both there is no email; the owner is told what to
pass on instead.
"""

from __future__ import annotations

from ..i18n_marks import N_, Message
from .messages import OwnEmail
from .password_links import login_url


class SignInInvitations(OwnEmail):
    @property
    def enabled(self) -> bool:
        return bool(self.settings.smtp.host and self.settings.public_url)

    def where_to_sign_in(self, provider_label: str) -> Message:
        """What to tell the person: "Sign in with Google at <link>"."""
        link = login_url(self.settings)
        if link is None:
            return Message(
                N_("Sign in with %(provider)s at the admin sign-in page"),
                {"provider": provider_label},
            )
        # The wording of the invitation email itself (invite_provider.txt).
        return Message(
            N_("Sign in with %(provider)s at %(login_url)s"),
            {"provider": provider_label, "login_url": link},
        )

    def send(self, email: str, provider_label: str) -> None:
        """Send the invitation now; raises ``MailError`` when SMTP fails."""
        self.mailer.send(
            self.templates.render(
                "invite_provider",
                to=email,
                # A new invitee has no language of their own yet.
                locale=self.settings.default_locale,
                subject=N_("You are an admin: sign in with %(provider)s"),
                subject_params={"provider": provider_label},
                email=email,
                provider=provider_label,
                login_url=login_url(self.settings),
            )
        )
