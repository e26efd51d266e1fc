// Copy the recovery codes to the clipboard (the page shows them once).
const button = document.getElementById("copy-recovery-codes");
const status = document.getElementById("copy-status");
const text = document.getElementById("recovery-codes-text").textContent;

button.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = "Copied.";
  } catch {
    status.textContent = "Copying is not allowed here: select the codes or download them.";
  }
});
