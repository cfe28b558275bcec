// The export form: while the server prepares the zip (a year of a large clinic takes half a minute),
// the button is off and the page says so. The zip's response sets a cookie naming this submission's
// ticket, which ends the wait. A file, not an inline script: the CSP allows only scripts from here.
"use strict";
const form = document.querySelector("form.export");
if (form) {
  const button = form.querySelector("button[type=submit]");
  const status = document.getElementById("export-status");
  const ticket = form.querySelector("input[name=ticket]");
  let waiting = null;
  form.addEventListener("submit", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    ticket.value = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    button.disabled = true;
    status.textContent = form.dataset.preparing;
    clearInterval(waiting);
    waiting = setInterval(() => {
      if (document.cookie.split("; ").includes("export_ticket=" + ticket.value)) {
        clearInterval(waiting);
        button.disabled = false;
        status.textContent = form.dataset.ready;
      }
    }, 300);
  });
}
