// The first gate: a password, or a provider (Google, Microsoft, OIDC, SAML),
// checked by Firebase Authentication only. We keep the resulting ID token in
// memory for the one request that trades it for the app's own session
// cookie, then sign out of Firebase here, so no Firebase credential stays in
// this browser.
import { initializeApp } from "firebase/app";
import {
  PhoneAuthProvider,
  PhoneMultiFactorGenerator,
  RecaptchaVerifier,
  TotpMultiFactorGenerator,
  connectAuthEmulator,
  getMultiFactorResolver,
  inMemoryPersistence,
  initializeAuth,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";
import { completeRedirectSignIn, signInWithProvider } from "./provider_sign_in.js";

const card = document.getElementById("sign-in-card");
const form = document.getElementById("login-form"); // absent without "password"
const button = document.getElementById("sign-in");
const providerButtons = [...document.querySelectorAll("button[data-provider]")];
const errorBox = document.getElementById("login-error");
const factorForm = document.getElementById("second-factor-form");
const config = JSON.parse(document.getElementById("firebase-config").textContent);
// Everything this script says, in the page's language: a JSON data block
// that the server renders (login_messages() in firebase_web.py).
const MESSAGES = JSON.parse(document.getElementById("login-messages").textContent);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

const app = initializeApp({
  apiKey: config.apiKey,
  authDomain: config.authDomain,
  projectId: config.projectId,
});
const auth = initializeAuth(app, { persistence: inMemoryPersistence });
if (config.tenantId) {
  // FIREBASE_TENANT_ID: the staff's accounts live in this tenant.
  auth.tenantId = config.tenantId;
}
if (config.emulatorUrl) {
  connectAuthEmulator(auth, config.emulatorUrl, { disableWarnings: true });
  // The emulator texts no SMS and runs no reCAPTCHA; in production this
  // stays false and reCAPTCHA guards every SMS code.
  auth.settings.appVerificationDisabledForTesting = true;
}

// Firebase error codes a person can act on, mapped to messages on the
// server (a wrong password and an unknown email say the same).
const FIREBASE_MESSAGES = MESSAGES.firebase;

class ExchangeError extends Error {}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function setPending(pending) {
  for (const control of [button, ...providerButtons]) {
    if (control) {
      control.disabled = pending;
    }
  }
  if (button) {
    button.textContent = pending ? MESSAGES.signingIn : MESSAGES.signIn;
  }
  for (const element of [card, form]) {
    element?.setAttribute("aria-busy", String(pending));
  }
}

async function exchange(idToken) {
  let response;
  try {
    response = await fetch(card.dataset.exchangeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Authorization: `Bearer ${idToken}`,
        "X-CSRFToken": csrfToken,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify({ next: card.dataset.next }),
    });
  } catch {
    throw new ExchangeError(MESSAGES.unreachable);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ExchangeError(
      body.message || MESSAGES.failedWithStatus.replace("{status}", String(response.status)),
    );
  }
  // The server only ever answers with a path of its own; check anyway.
  return typeof body.redirect === "string" && body.redirect.startsWith("/admin")
    ? body.redirect
    : "/admin/";
}

// -- Firebase's own second factor (Identity Platform MFA) ---------------------

// Resolves with the code the person types in the second-step form.
function askForCode(prompt) {
  for (const element of [form, document.getElementById("provider-buttons")]) {
    if (element) element.hidden = true;
  }
  document.getElementById("password-divider")?.setAttribute("hidden", "");
  document.getElementById("second-factor-prompt").textContent = prompt;
  factorForm.hidden = false;
  const input = factorForm.code;
  input.value = "";
  input.focus();
  return new Promise((resolve) => {
    factorForm.addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        resolve(input.value.trim());
      },
      { once: true },
    );
  });
}

async function textCode(resolver, hint) {
  // A new verifier for each code: a used one cannot verify again.
  const holder = document.createElement("div");
  document.getElementById("recaptcha-container").replaceChildren(holder);
  const verifier = new RecaptchaVerifier(auth, holder, { size: "invisible" });
  try {
    return await new PhoneAuthProvider(auth).verifyPhoneNumber(
      { multiFactorHint: hint, session: resolver.session },
      verifier,
    );
  } finally {
    verifier.clear();
  }
}

// Completes a sign-in that Firebase paused for a second factor; resolves
// with the UserCredential whose token carries firebase.sign_in_second_factor.
async function resolveSecondFactor(resolver) {
  const hint = resolver.hints[0];
  let assertionFor;
  let prompt;
  if (hint.factorId === PhoneMultiFactorGenerator.FACTOR_ID) {
    const verificationId = await textCode(resolver, hint);
    prompt = MESSAGES.smsPrompt.replace("{phone}", hint.phoneNumber);
    assertionFor = (code) =>
      PhoneMultiFactorGenerator.assertion(PhoneAuthProvider.credential(verificationId, code));
  } else if (hint.factorId === TotpMultiFactorGenerator.FACTOR_ID) {
    prompt = hint.displayName
      ? MESSAGES.totpPromptNamed.replace("{name}", hint.displayName)
      : MESSAGES.totpPrompt;
    assertionFor = (code) => TotpMultiFactorGenerator.assertionForSignIn(hint.uid, code);
  } else {
    throw new ExchangeError(MESSAGES.unsupportedFactor);
  }
  setPending(false);
  for (;;) {
    const code = await askForCode(prompt);
    if (!code) {
      showError(FIREBASE_MESSAGES["auth/missing-code"]);
      continue;
    }
    factorForm.querySelector("button").disabled = true;
    try {
      return await resolver.resolveSignIn(assertionFor(code));
    } catch (error) {
      if (error.code !== "auth/invalid-verification-code") throw error;
      showError(FIREBASE_MESSAGES[error.code]);
    } finally {
      factorForm.querySelector("button").disabled = false;
    }
  }
}

// -- the common path: Firebase sign-in, second factor, exchange -------------

// `firstStep` signs in to Firebase (password or provider) and resolves
// with a UserCredential, or null when there is nothing to do (a redirect is
// under way, or none came back).
async function signIn(firstStep) {
  errorBox.hidden = true;
  setPending(true);
  try {
    let credential;
    try {
      credential = await firstStep();
    } catch (error) {
      if (error.code !== "auth/multi-factor-auth-required") throw error;
      credential = await resolveSecondFactor(getMultiFactorResolver(auth, error));
    }
    if (!credential) {
      setPending(false);
      return;
    }
    const destination = await exchange(await credential.user.getIdToken());
    if (form) form.password.value = "";
    window.location.assign(destination);
  } catch (error) {
    showError(
      error instanceof ExchangeError
        ? error.message
        : FIREBASE_MESSAGES[error.code] || MESSAGES.failed,
    );
    setPending(false);
    form?.password.focus();
  } finally {
    await signOut(auth).catch(() => {});
  }
}

form?.addEventListener("submit", (event) => {
  event.preventDefault();
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    showError(MESSAGES.missingFields);
    return;
  }
  signIn(() => signInWithEmailAndPassword(auth, email, password));
});

for (const providerButton of providerButtons) {
  const options = config.providers[providerButton.dataset.provider];
  providerButton.addEventListener("click", () =>
    signIn(() => signInWithProvider(auth, options)),
  );
}

setPending(false);
// Back from a provider's page after a redirect sign-in (the popup was blocked).
signIn(() => completeRedirectSignIn(auth));
