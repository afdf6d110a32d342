// aimweb's own script. Everything works without it; it only adds to what the server sends.

// Loaded in <head> without `defer`: marks the page as scripted before the first paint, so the
// mobile menu is collapsed behind the "Menu" button only when a script can open it (app.css).
document.documentElement.classList.add("aim-js");

// Send the CSRF token with every htmx request (Flask-WTF reads the X-CSRFToken header).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
  }
});

// The Content-Security-Policy (style-src 'self') blocks style attributes set by a script, so
// htmx must not carry `style` over to swapped-in elements while settling: if anything had
// touched an element's style (a browser extension, an accessibility checker), every swap would
// log a CSP violation. htmx is deferred, so it is configured once the document is parsed.
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    window.htmx.config.attributesToSettle = ["class", "width", "height"];
  }
});

// After a failed submit, take keyboard and screen-reader users to the list of problems.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".aim-error-summary");
  if (summary) {
    summary.focus();
  }
});

// A button marked data-once (Submit, Upload File) can't be pressed twice while its page loads.
// The server refuses a second license or upload anyway; this only saves a confusing wait.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  if (button && button.hasAttribute("data-once") && !event.defaultPrevented) {
    window.setTimeout(function () {
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
    }, 0);
  }
});
