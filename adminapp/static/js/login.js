// The first gate: the password goes to Firebase Authentication only.
// We keep the resulting ID token in memory for the one request that trades
// it for the app's own session cookie, then sign out of Firebase here, so no
// Firebase credential stays in this browser.
import { initializeApp } from "firebase/app";
import {
  connectAuthEmulator,
  inMemoryPersistence,
  initializeAuth,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";

const form = document.getElementById("login-form");
const button = document.getElementById("sign-in");
const errorBox = document.getElementById("login-error");
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
  button.disabled = pending;
  button.textContent = pending ? MESSAGES.signingIn : MESSAGES.signIn;
  form.setAttribute("aria-busy", String(pending));
}

async function exchange(idToken) {
  let response;
  try {
    response = await fetch(form.dataset.exchangeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Authorization: `Bearer ${idToken}`,
        "X-CSRFToken": csrfToken,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify({ next: form.dataset.next }),
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

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    showError(MESSAGES.missingFields);
    return;
  }
  setPending(true);
  try {
    const credential = await signInWithEmailAndPassword(auth, email, password);
    const idToken = await credential.user.getIdToken();
    const destination = await exchange(idToken);
    form.password.value = "";
    window.location.assign(destination);
  } catch (error) {
    const message =
      error instanceof ExchangeError
        ? error.message
        : FIREBASE_MESSAGES[error.code] || MESSAGES.failed;
    showError(message);
    setPending(false);
    form.password.focus();
  } finally {
    await signOut(auth).catch(() => {});
  }
});

setPending(false);
