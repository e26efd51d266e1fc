// Passkeys on the second-factor pages. A form marked data-passkey="register"
// or "authenticate" asks the server for options (POST, CSRF token in the
// header: it keeps a single-use challenge on the session), hands them to the
// browser through SimpleWebAuthn, puts the answer in the form's "credential"
// field and submits the form, so the next page is an ordinary navigation.
const webauthn = globalThis.SimpleWebAuthnBrowser;

// What this script says, in the page's language: a JSON data block that the
// server renders (passkey_messages() in adminapp/web/mfa/passkeys.py).
const MESSAGES = JSON.parse(document.getElementById("passkey-messages").textContent);

function showError(form, message) {
  const box = form.querySelector("[data-passkey-error]");
  box.textContent = message;
  box.hidden = false;
}

async function fetchOptions(form) {
  const response = await fetch(form.dataset.options, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "X-CSRFToken": form.elements.csrf_token.value,
    },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.message || MESSAGES.refused);
  }
  return body;
}

async function run(form) {
  const optionsJSON = await fetchOptions(form);
  const answer =
    form.dataset.passkey === "register"
      ? await webauthn.startRegistration({ optionsJSON })
      : await webauthn.startAuthentication({ optionsJSON });
  form.elements.credential.value = JSON.stringify(answer);
  form.submit(); // no submit event: this handler does not run again
}

for (const form of document.querySelectorAll("form[data-passkey]")) {
  const button = form.querySelector("button[type=submit]");
  if (!webauthn || !webauthn.browserSupportsWebAuthn()) {
    button.disabled = true;
    showError(form, MESSAGES.unsupported);
    continue;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    form.querySelector("[data-passkey-error]").hidden = true;
    try {
      await run(form);
    } catch (error) {
      button.disabled = false;
      showError(form, MESSAGES[error.name] || error.message || MESSAGES.failed);
    }
  });
}
