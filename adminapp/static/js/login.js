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

// Firebase error codes a person can act on. With email enumeration
// protection on, a wrong password and an unknown email both arrive as
// auth/invalid-credential, and we say the same for both.
const FIREBASE_MESSAGES = {
  "auth/invalid-credential": "Wrong email or password.",
  "auth/invalid-login-credentials": "Wrong email or password.",
  "auth/wrong-password": "Wrong email or password.",
  "auth/user-not-found": "Wrong email or password.",
  "auth/invalid-email": "Enter a valid email address.",
  "auth/missing-password": "Enter your password.",
  "auth/user-disabled": "This account is disabled.",
  "auth/too-many-requests":
    "Too many attempts. Wait a few minutes, or reset your password, then try again.",
  "auth/network-request-failed":
    "Cannot reach the sign-in service. Check your connection and try again.",
};

class ExchangeError extends Error {}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function setPending(pending) {
  button.disabled = pending;
  button.textContent = pending ? "Signing in…" : "Sign in";
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
    throw new ExchangeError("Cannot reach this site. Check your connection and try again.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ExchangeError(body.message || `Sign-in failed (error ${response.status}).`);
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
    showError("Enter your email and password.");
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
        : FIREBASE_MESSAGES[error.code] || "Sign-in failed. Try again.";
    showError(message);
    setPending(false);
    form.password.focus();
  } finally {
    await signOut(auth).catch(() => {});
  }
});

setPending(false);
