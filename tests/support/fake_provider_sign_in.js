// Test stand-in for adminapp/static/js/provider_sign_in.js, served in its
// place by Playwright's page.route. A popup cannot complete offline (it
// loads Google's gapi script), so this signs in with signInWithCredential
// and a fake provider ID token, which the Auth emulator accepts as plain
// JSON (the REST call is accounts:signInWithIdp, as a real popup's is).
// The test fills in PROVIDER_CLAIMS: {providerId: {sub, email, email_verified}}.
import { GoogleAuthProvider, OAuthProvider, signInWithCredential } from "firebase/auth";

const PROVIDER_CLAIMS = __PROVIDER_CLAIMS__;

export async function signInWithProvider(auth, button) {
  // What the page asked the provider for, for the test to check.
  window.lastProviderRequest = button;
  const idToken = JSON.stringify(PROVIDER_CLAIMS[button.id]);
  // Google's own class for google.com; OAuthProvider for the others, SAML
  // included (the SDK's SAML credential carries a pending token only the
  // real popup gets; an id_token names the same provider to signInWithIdp).
  const credential =
    button.id === "google.com"
      ? GoogleAuthProvider.credential(idToken)
      : new OAuthProvider(button.id).credential({ idToken });
  return signInWithCredential(auth, credential);
}

export async function completeRedirectSignIn() {
  return null;
}
