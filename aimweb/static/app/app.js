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

// htmx 2 swaps nothing when a request fails (a 4xx/5xx, or no connection), so without this a
// click on Add Products after an idle hour would do nothing at all. Show the server's message
// (the .aim-error-message of its error page) in the alert region at the top of the content.
// When the page's CSRF token had expired, that error page carries a fresh one: it goes into the
// page, so pressing the button again works and nothing typed is lost.
function aimShowRequestAlert(message) {
  var region = document.getElementById("aim-request-alert");
  if (!region) {
    return;
  }
  var alert = document.createElement("div");
  alert.className = "usa-alert usa-alert--error usa-alert--slim";
  alert.setAttribute("tabindex", "-1");
  var body = document.createElement("div");
  body.className = "usa-alert__body";
  var text = document.createElement("p");
  text.className = "usa-alert__text";
  text.textContent = message;
  body.appendChild(text);
  alert.appendChild(body);
  region.replaceChildren(alert);
  alert.focus();
}

function aimRenewToken(token) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    meta.setAttribute("content", token);
  }
  document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
    input.value = token;
  });
}

var AIM_STATUS_MESSAGES = {
  413: "That was larger than this portal accepts. Nothing was saved.",
  429: "You have made too many requests in a short time. Please wait a minute and try again.",
};

document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var message = AIM_STATUS_MESSAGES[xhr.status] ||
    "Something went wrong and that step was not done. Please try again.";
  try {
    var page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var said = page.querySelector(".aim-error-message");
    if (said && said.textContent.trim()) {
      message = said.textContent.trim();
      var fresh = page.querySelector('meta[name="csrf-token"]');
      if (said.hasAttribute("data-token-renewed") && fresh) {
        aimRenewToken(fresh.getAttribute("content"));
      }
    }
  } catch (ignored) {
    // Not HTML: the status's own message stays.
  }
  aimShowRequestAlert(message);
});

document.addEventListener("htmx:sendError", function () {
  aimShowRequestAlert("The portal could not be reached, so that step was not done. Check your " +
    "connection and try again; what you typed is still here.");
});

// The message stays until the request that failed works (a retry of Add Products), not when some
// other request, such as the live unit value still on its way, succeeds. Compared by method and
// path: the retried control may have been swapped out of the page by then.
function aimRequestKey(detail) {
  var config = detail.requestConfig || {};
  return (config.verb || "") + " " + (config.path || "");
}
var aimFailedRequest = null;
document.addEventListener("htmx:responseError", function (event) {
  aimFailedRequest = aimRequestKey(event.detail);
});
document.addEventListener("htmx:sendError", function (event) {
  aimFailedRequest = aimRequestKey(event.detail);
});
document.addEventListener("htmx:afterRequest", function (event) {
  var region = document.getElementById("aim-request-alert");
  if (region && event.detail.successful && aimRequestKey(event.detail) === aimFailedRequest) {
    region.replaceChildren();
    aimFailedRequest = null;
  }
});

// Copy (a license number): the buttons need a script, so they stay hidden without one. "Copied"
// is said only once the browser has put the number on the clipboard; when it refuses (an old
// browser, a page not served over HTTPS) the number is selected and the filer told to copy it.
function aimShowCopyButtons(root) {
  root.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
  });
}
document.addEventListener("DOMContentLoaded", function () {
  aimShowCopyButtons(document);
});
document.addEventListener("htmx:load", function (event) {
  aimShowCopyButtons(event.detail.elt);
});

function aimSelectNumber(button) {
  var holder = button.closest(".aim-copy");
  var number = holder && holder.previousElementSibling;
  if (number && number.classList.contains("aim-number")) {
    window.getSelection().selectAllChildren(number);
  }
}

document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  var status = button.parentNode.querySelector(".aim-copy__status");
  var number = button.getAttribute("data-copy");
  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }
  function refused() {
    aimSelectNumber(button);
    say("Not copied: the number is selected, press Ctrl+C (⌘C on a Mac) to copy it.");
  }
  say("");
  if (!navigator.clipboard || !window.isSecureContext) {
    refused();
    return;
  }
  navigator.clipboard.writeText(number).then(function () {
    say("Copied");
  }, refused);
});
