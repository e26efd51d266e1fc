// Copy the recovery codes to the clipboard (the page shows them once).
const button = document.getElementById("copy-recovery-codes");
const status = document.getElementById("copy-status");
const text = document.getElementById("recovery-codes-text").textContent;
// In the page's language (a JSON data block in mfa/recovery_codes.html).
const MESSAGES = JSON.parse(document.getElementById("recovery-codes-messages").textContent);

button.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = MESSAGES.copied;
  } catch {
    status.textContent = MESSAGES.denied;
  }
});
