// Warns before the server ends an idle session, so unsaved work can be saved first.
// The server decides (SESSION_IDLE_MINUTES); this only counts down from the last page load.
document.addEventListener("DOMContentLoaded", () => {
  const idleSeconds = Number(document.body.dataset.idleSeconds);
  if (!idleSeconds) { return; }
  // The texts come from the page, in its language (templates/base.html).
  const say = document.body.dataset;
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
      button.textContent = say.idleStay;
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
      showBanner(say.idleWarning, true);
    }, Math.max(0, idleSeconds - WARN_BEFORE) * 1000);
    endTimer = window.setTimeout(() => {
      showBanner(say.idleEnded, false);
    }, idleSeconds * 1000);
  }

  function stayHere() {
    fetch(PING_URL, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => {
        if (response.ok && response.headers.get("Content-Type")?.includes("json")) {
          hideBanner();
          schedule();
        } else {
          showBanner(say.idleGone, false);
        }
      })
      .catch(() => {
        showBanner(say.idleOffline, false);
      });
  }

  schedule();
});
