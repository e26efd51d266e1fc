// A strength meter for the new-password form (OWASP ASVS 2.1.8).
//
// Advisory only: the server enforces the rules (12 to 4096 characters) and
// Firebase its password policy. zxcvbn (Dropbox's estimator, vendored from
// npm) judges how guessable a password is rather than counting character
// classes, and is told the account's email and this site's words, which an
// attacker would try first.
// zxcvbn's time grows with length; past this a password is long enough.
const CHECKED_LENGTH = 100;

const input = document.getElementById("password");
const strength = document.getElementById("password-strength");
// The words, in the page's language, come from the page's data attributes.
// zxcvbn's own hints are English: shown only on English pages.
const LABELS = JSON.parse(strength.dataset.labels);
const SENTENCE = strength.dataset.sentence; // "Strength: {label}."
const HINTS = strength.dataset.hints === "true";
const meter = document.getElementById("password-strength-meter");
const label = document.getElementById("password-strength-label");
const email = document.getElementById("reset-email").textContent.trim();
const knownWords = [email, ...email.split(/[@._+-]+/), "admin", "adminapp", "password"];

function show() {
  const password = input.value;
  if (!password) {
    meter.value = 0;
    label.textContent = "";
    return;
  }
  const result = zxcvbn(password.slice(0, CHECKED_LENGTH), knownWords);
  const hint = HINTS ? result.feedback.warning || result.feedback.suggestions[0] || "" : "";
  meter.value = result.score;
  strength.dataset.score = String(result.score);
  const sentence = SENTENCE.replace("{label}", LABELS[result.score]);
  label.textContent = hint ? `${sentence} ${hint}` : sentence;
}

strength.hidden = false;
input.addEventListener("input", show);
show();
