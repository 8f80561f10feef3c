// Warns before the server ends an idle session, so unsaved work can be saved first.
// The server decides (SESSION_IDLE_MINUTES); this only counts down from the last page load.
document.addEventListener("DOMContentLoaded", () => {
  const idleSeconds = Number(document.body.dataset.idleSeconds);
  if (!idleSeconds) { return; }
  const WARN_BEFORE = 120;
  const PING_URL = "/account/session/ping";
  let warnTimer = null;
  let endTimer = null;
  let banner = null;

  function showBanner(message, withButton) {
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "session-warning";
      banner.className = "alert alert-warning shadow position-fixed bottom-0 start-50 translate-middle-x mb-3 z-3";
      banner.setAttribute("role", "alert");
      document.body.appendChild(banner);
    }
    banner.replaceChildren();
    const text = document.createElement("p");
    text.className = "mb-2";
    text.textContent = message;
    banner.appendChild(text);
    if (withButton) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-primary btn-sm";
      button.textContent = "Stay signed in";
      button.addEventListener("click", stayHere);
      banner.appendChild(button);
      button.focus();
    }
  }

  function hideBanner() {
    if (banner) { banner.remove(); banner = null; }
  }

  function schedule() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warnTimer = window.setTimeout(() => {
      showBanner(
        "You will be signed out in 2 minutes because of inactivity. Save your work now, " +
        "or choose “Stay signed in”.", true);
    }, Math.max(0, idleSeconds - WARN_BEFORE) * 1000);
    endTimer = window.setTimeout(() => {
      showBanner(
        "You were signed out because of inactivity. Copy any text you have not saved " +
        "before you reload or leave this page, then sign in again.", false);
    }, idleSeconds * 1000);
  }

  function stayHere() {
    fetch(PING_URL, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => {
        if (response.ok && response.headers.get("Content-Type")?.includes("json")) {
          hideBanner();
          schedule();
        } else {
          showBanner("Your session has already ended. Copy any unsaved text, then sign in again.", false);
        }
      })
      .catch(() => {
        showBanner("The server could not be reached. Copy any unsaved text before leaving this page.", false);
      });
  }

  schedule();
});
