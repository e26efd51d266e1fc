// The one step of the login page that talks to an identity provider
// (Google, Microsoft, an OIDC or SAML provider of Identity Platform): in a
// popup, or by sending this tab to the provider when the browser blocked
// the popup. It is a module of its own so that the browser tests can swap
// it, and only it, for one that signs in with a fake provider token against
// the Auth emulator: popups load Google's gapi script from apis.google.com,
// which a test machine cannot reach. Everything else on the page (buttons,
// messages, second factor, exchange) runs unmodified in those tests.
import {
  GithubAuthProvider,
  GoogleAuthProvider,
  OAuthProvider,
  SAMLAuthProvider,
  browserPopupRedirectResolver,
  getRedirectResult,
  signInWithPopup,
  signInWithRedirect,
} from "firebase/auth";

// Set just before a redirect sign-in, so that only the page the provider
// sends back asks for its result (getRedirectResult loads gapi: no visit to
// the login page should pay for that otherwise).
const REDIRECT_PENDING = "adminapp.redirectSignIn";

// `button` is one entry of the page's config: {id, label, scopes, parameters}
// from ALLOWED_SIGN_IN_PROVIDERS and SIGN_IN_PROVIDER_OPTIONS.
function providerFor(button) {
  if (button.id.startsWith("saml.")) {
    return new SAMLAuthProvider(button.id);
  }
  let provider;
  if (button.id === "google.com") {
    provider = new GoogleAuthProvider();
  } else if (button.id === "github.com") {
    provider = new GithubAuthProvider();
  } else {
    provider = new OAuthProvider(button.id); // microsoft.com, apple.com, oidc.*
  }
  for (const scope of button.scopes) {
    provider.addScope(scope);
  }
  // Such as Google's hd (the Workspace domain) or Microsoft's tenant.
  provider.setCustomParameters(button.parameters);
  return provider;
}

// Sign in with the provider of `button`. Resolves with Firebase's
// UserCredential, or with null when the tab is leaving for the provider
// (redirect); rejects with Firebase's error (auth/popup-closed-by-user,
// auth/multi-factor-auth-required, …).
export async function signInWithProvider(auth, button) {
  const provider = providerFor(button);
  try {
    return await signInWithPopup(auth, provider, browserPopupRedirectResolver);
  } catch (error) {
    if (error.code !== "auth/popup-blocked") {
      throw error;
    }
    sessionStorage.setItem(REDIRECT_PENDING, button.id);
    await signInWithRedirect(auth, provider, browserPopupRedirectResolver);
    return null;
  }
}

// On the page the provider sent this tab back to: the UserCredential of
// the redirect sign-in, or null when none is under way.
export async function completeRedirectSignIn(auth) {
  if (!sessionStorage.getItem(REDIRECT_PENDING)) {
    return null;
  }
  sessionStorage.removeItem(REDIRECT_PENDING);
  return getRedirectResult(auth, browserPopupRedirectResolver);
}
