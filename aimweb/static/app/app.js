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

// Apply for Multiple Licenses: the product chosen for the template is the one of the file to
// upload, most likely (each select names the other in data-aim-same-choice; both work alone).
document.addEventListener("change", function (event) {
  var target = event.target.getAttribute && event.target.getAttribute("data-aim-same-choice");
  var other = target && document.getElementById(target);
  if (other && other.value !== event.target.value) {
    other.value = event.target.value;
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
// The dashboard's "select every license on this page" box needs the script too.
function aimShowCopyButtons(root) {
  root.querySelectorAll("button[data-copy], .aim-select-all").forEach(function (button) {
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

// ----- After an htmx swap: say what happened and put the focus somewhere sensible ----------------
// The server marks the swapped-in content with data-aim-announce (said by the polite live region
// of base.html) and data-aim-focus (a selector). Without a mark, an element that had the focus
// and was replaced by one with the same id (the plus sign) gets it back, and a control that goes
// away with the swap ("Keep License") names where the focus goes (data-aim-focus-after): never
// the page body.
function aimAnnounce(text) {
  var region = document.getElementById("aim-live");
  if (!region || !text) {
    return;
  }
  region.textContent = "";
  window.setTimeout(function () {
    region.textContent = text;
  }, 100);
}

var aimFocusedId = null;
var aimFocusAfter = null;
document.addEventListener("htmx:beforeSwap", function () {
  var active = document.activeElement;
  aimFocusedId = active && active !== document.body && active.id ? active.id : null;
  aimFocusAfter = active && active.getAttribute ? active.getAttribute("data-aim-focus-after") : null;
});

// Done as the content is swapped in, not once it has settled (htmx waits 20 ms for that): a field
// the user has moved to in those milliseconds must keep what they type. Moved later, the focus
// went to HTS Number halfway through typing a volume, and the volume went into the HTS number.
document.addEventListener("htmx:afterSwap", function () {
  var said = document.querySelector("[data-aim-announce]");
  if (said) {
    aimAnnounce(said.getAttribute("data-aim-announce"));
    said.removeAttribute("data-aim-announce");
  }
  var target = null;
  var marked = document.querySelector("[data-aim-focus]");
  if (marked) {
    target = document.querySelector(marked.getAttribute("data-aim-focus"));
    marked.removeAttribute("data-aim-focus");
  }
  var active = document.activeElement;
  if (!target && (!active || active === document.body)) {
    target = (aimFocusedId && document.getElementById(aimFocusedId)) ||
      (aimFocusAfter && document.querySelector(aimFocusAfter));
  }
  if (target) {
    target.focus();
    // Still hidden by a class it takes over from the element it replaced until htmx settles it
    // (htmx.config.attributesToSettle): then, and only if the user has not moved meanwhile.
    aimFocusPending = document.activeElement === target ? null : {target: target, from: document.activeElement};
  }
});

var aimFocusPending = null;
document.addEventListener("htmx:afterSettle", function () {
  var pending = aimFocusPending;
  aimFocusPending = null;
  if (pending && document.activeElement === pending.from && document.body.contains(pending.target)) {
    pending.target.focus();
  }
});

// ----- The license form: the header is kept as a draft from its first change ---------------------
// The header is posted (debounced) to the draft's autosave address; the answer lists what is still
// wrong in it, so an error from an earlier Preview goes once its field is corrected (no new error
// is shown before Preview). "Draft saved" is written only once the server has said so.
function aimSummaryItems() {
  return document.querySelectorAll(".aim-error-summary li");
}

function aimSummaryChanged() {
  var summary = document.querySelector(".aim-error-summary");
  if (!summary) {
    return;
  }
  summary.removeAttribute("role");  // announced once, on arrival: not again at each correction
  if (!aimSummaryItems().length) {
    summary.remove();
  }
}

function aimClearFieldError(name, messages) {
  var input = document.getElementById(name);
  if (!input) {
    return;
  }
  var error = document.getElementById(name + "-error");
  if (error && messages && messages.length) {
    error.textContent = messages.join(" ");
    document.querySelectorAll('.aim-error-summary a[data-field="' + name + '"]').forEach(function (link, index) {
      if (index < messages.length) {
        link.textContent = messages[index];
      } else {
        link.parentNode.remove();
      }
    });
    return;
  }
  if (error) {
    error.remove();
  }
  input.removeAttribute("aria-invalid");
  input.classList.remove("usa-input--error");
  var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
    return id && id !== name + "-error";
  });
  if (described.length) {
    input.setAttribute("aria-describedby", described.join(" "));
  } else {
    input.removeAttribute("aria-describedby");
  }
  var group = input.closest(".usa-form-group");
  if (group) {
    group.classList.remove("usa-form-group--error");
    var label = group.querySelector(".usa-label--error");
    if (label) {
      label.classList.remove("usa-label--error");
    }
  }
  document.querySelectorAll('.aim-error-summary a[data-field="' + name + '"]').forEach(function (link) {
    link.parentNode.remove();
  });
}

function aimSaveError(text) {
  var error = new Error(text);
  error.aimMessage = text;
  return error;
}

function aimAutosave(form, beacon) {
  var data = new FormData(form);
  if (beacon) {
    if (navigator.sendBeacon) {
      navigator.sendBeacon(form.getAttribute("data-autosave"), data);
    }
    return;
  }
  var status = document.getElementById("draft-status");
  var sent = form.aimChanges;
  fetch(form.getAttribute("data-autosave"), {
    method: "POST", body: data, credentials: "same-origin",
    headers: {"X-Requested-With": "fetch", "Accept": "application/json"},
  }).then(function (response) {
    if (response.status === 409) {
      throw aimSaveError("This application has already been submitted: changes made here are not " +
        "saved. Open it from the License Dashboard.");
    }
    if (!response.ok || !response.headers.get("Content-Type") ||
        response.headers.get("Content-Type").indexOf("application/json") !== 0) {
      throw aimSaveError("Your latest changes are not saved yet. They will be saved when you add a " +
        "product or click Preview.");
    }
    return response.json();
  }).then(function (answer) {
    if (form.aimChanges === sent) {
      form.aimDirty = false;  // nothing typed since this was sent
    }
    var time = new Date().toLocaleTimeString([], {hour: "numeric", minute: "2-digit"});
    if (status) {
      status.textContent = "Draft saved at " + time + ". You can leave this page and resume it from the License Dashboard.";
    }
    var problems = answer.problems || {};
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (input) {
      if (input.name && input.name.indexOf("line-") !== 0) {
        aimClearFieldError(input.id, problems[input.name]);
      }
    });
    aimSummaryChanged();
  }).catch(function (error) {
    if (status) {
      status.textContent = error.aimMessage ||  // otherwise fetch's own error: no answer at all
        "Your latest changes are not saved yet: the portal could not be reached. They will be " +
        "saved when you add a product or click Preview.";
    }
  });
}

document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form) {
    return;
  }
  var timer = null;
  function changed(event) {
    var name = event.target && event.target.name;
    if (!name || name.indexOf("line-") === 0 || name === "keep_countries") {
      return;  // the product line is kept by Add Products
    }
    form.aimDirty = true;
    form.aimChanges = (form.aimChanges || 0) + 1;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      aimAutosave(form, false);
    }, event.type === "change" ? 200 : 1500);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (!event.submitter || !event.submitter.hasAttribute("hx-post")) {
      form.aimDirty = false;  // Preview keeps the header itself
      window.clearTimeout(timer);
    }
  });
  // Leaving before the pause is over: the last keystrokes still reach the draft.
  window.addEventListener("pagehide", function () {
    if (form.aimDirty) {
      window.clearTimeout(timer);
      aimAutosave(form, true);
    }
  });
});

// When the products are swapped in, the summary's product problems are out of date: the lines
// show their own state now.
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail && event.detail.target;
  if (target && target.id === "products") {
    document.querySelectorAll('.aim-error-summary li[data-kind="products"]').forEach(function (item) {
      item.remove();
    });
    aimSummaryChanged();
  }
});

// ----- The dashboard: filters behind a button on a phone, "select every license on this page" ----
// On a phone the licenses come first and Search & Filter opens from its button (app.css hides the
// panel only on a scripted page, so without a script the filters are simply there).
document.addEventListener("click", function (event) {
  var toggle = event.target.closest(".aim-filter-toggle");
  if (!toggle) {
    return;
  }
  var panel = document.getElementById(toggle.getAttribute("aria-controls"));
  var open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  panel.classList.toggle("is-open", open);
  if (open) {
    var first = panel.querySelector("input:not([type=hidden]), select");
    if (first) {
      first.focus();
    }
  }
});

// The box in the table's header ticks or clears every row of the page; it needs this script, so
// it stays hidden without one (shown with the Copy buttons, above).
document.addEventListener("change", function (event) {
  var box = event.target;
  var table = box.closest && box.closest("table");
  if (!table) {
    return;
  }
  if (box.classList.contains("aim-select-all")) {
    table.querySelectorAll(".aim-pick").forEach(function (pick) {
      pick.checked = box.checked;
    });
  } else if (box.classList.contains("aim-pick")) {
    var all = table.querySelector(".aim-select-all");
    var picks = table.querySelectorAll(".aim-pick");
    var ticked = table.querySelectorAll(".aim-pick:checked").length;
    if (all) {
      all.checked = ticked === picks.length;
      all.indeterminate = ticked > 0 && ticked < picks.length;
    }
  }
});

// On a phone, a search made in place closes the filters again so the licenses found are in view
// (unless the search needs correcting: then they stay open with their messages).
document.addEventListener("htmx:afterSwap", function (event) {
  if (!event.detail.target || event.detail.target.id !== "license-results") {
    return;
  }
  var toggle = document.querySelector(".aim-filter-toggle");
  var results = document.getElementById("license-results");
  if (!toggle || toggle.offsetParent === null || !results || results.querySelector(".usa-alert--error")) {
    return;
  }
  toggle.setAttribute("aria-expanded", "false");
  document.getElementById(toggle.getAttribute("aria-controls")).classList.remove("is-open");
});

// ----- The review queue below desktop width: a license opens as its own page ---------------------
// There the panel sits under the queue, possibly many screens down: filling it would change
// nothing in view. The link goes to the license's own page instead, and Back returns to the same
// place in the queue. (Without a script the link does that at every width.)
document.addEventListener("htmx:confirm", function (event) {
  var link = event.target;
  if (link && link.tagName === "A" && link.closest("#queue-results") &&
      !window.matchMedia("(min-width: 64em)").matches) {
    event.preventDefault();
    window.location.assign(link.href);
  }
});

// ----- Saved parties offered as a party's name is typed (the license form) -----------------------
// The field asks the server for its options (htmx, data-suggest names the listbox); here they
// become a combobox: Down/Up move through them, Enter or a click takes one, Escape closes the
// list. The number found is said once per change, politely. Without a script: a text field.
var aimSuggestSaid = {};

function aimSuggestOptions(list) {
  return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
}

function aimSuggestClose(input, list) {
  list.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  aimSuggestOptions(list).forEach(function (option) {
    option.setAttribute("aria-selected", "false");
  });
}

function aimSuggestMove(input, list, step) {
  var options = aimSuggestOptions(list);
  if (!options.length) {
    return;
  }
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
  var current = options.findIndex(function (option) {
    return option.getAttribute("aria-selected") === "true";
  });
  var next = current < 0 ? (step > 0 ? 0 : options.length - 1) : (current + step + options.length) % options.length;
  options.forEach(function (option, index) {
    option.setAttribute("aria-selected", index === next ? "true" : "false");
  });
  input.setAttribute("aria-activedescendant", options[next].id);
  options[next].scrollIntoView({block: "nearest"});
}

function aimSuggestPick(input, list, option) {
  input.value = option.getAttribute("data-value");
  aimSuggestClose(input, list);
  input.dispatchEvent(new Event("change", {bubbles: true}));  // the draft's autosave
  aimAnnounce(input.value + " chosen.");
}

function aimSuggestList(input) {
  return document.getElementById(input.getAttribute("data-suggest"));
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", input.getAttribute("data-suggest"));
    input.setAttribute("autocomplete", "off");
  });
});

document.addEventListener("htmx:afterSwap", function (event) {
  var list = event.detail.target;
  if (!list || !list.matches || !list.matches("ul.aim-suggest")) {
    return;
  }
  var input = document.querySelector('input[data-suggest="' + list.id + '"]');
  var count = aimSuggestOptions(list).length;
  var open = count > 0 && document.activeElement === input;
  list.hidden = !open;
  input.setAttribute("aria-expanded", open ? "true" : "false");
  input.removeAttribute("aria-activedescendant");
  var text = input.value.trim() ? (count === 0 ? "No " + list.getAttribute("data-one") + " matches." :
    count + " " + list.getAttribute(count === 1 ? "data-one" : "data-many") + (count === 1 ? " matches" : " match") +
    ": press the down arrow to choose.") : "";
  if (text && aimSuggestSaid[list.id] !== text) {
    aimAnnounce(text);
  }
  aimSuggestSaid[list.id] = text;
});

document.addEventListener("keydown", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("input[data-suggest]")) {
    return;
  }
  var list = aimSuggestList(input);
  if (!list) {
    return;
  }
  var open = !list.hidden;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (aimSuggestOptions(list).length) {
      event.preventDefault();
      aimSuggestMove(input, list, event.key === "ArrowDown" ? 1 : -1);
    }
  } else if (event.key === "Enter" && open) {
    var active = list.querySelector('[aria-selected="true"]');
    if (active) {
      event.preventDefault();  // not the form's Preview
      aimSuggestPick(input, list, active);
    }
  } else if (event.key === "Escape" && open) {
    event.preventDefault();
    aimSuggestClose(input, list);
  }
});

document.addEventListener("mousedown", function (event) {
  var option = event.target.closest && event.target.closest("ul.aim-suggest [role=\"option\"]");
  if (option) {
    event.preventDefault();  // the field keeps the focus
    var list = option.closest("ul.aim-suggest");
    aimSuggestPick(document.querySelector('input[data-suggest="' + list.id + '"]'), list, option);
  }
});

document.addEventListener("focusout", function (event) {
  var input = event.target;
  if (input.matches && input.matches("input[data-suggest]")) {
    var list = aimSuggestList(input);
    if (list) {
      aimSuggestClose(input, list);
    }
  }
});
