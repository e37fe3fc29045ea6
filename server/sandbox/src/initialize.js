/* Merge Link, sandbox edition: the browser interface of https://cdn.merge.dev/initialize.js.
 *
 *   MergeLink.initialize({ linkToken, onSuccess(publicToken, metadata), onExit, onReady,
 *                          onValidationError, shouldSendTokenOnSuccessfulLink, parentContainerID })
 *   MergeLink.openLink(config?)   MergeLink.update(config)   MergeLink.closeLink()
 *
 * openLink shows the sandbox's Link dialog in an iframe: a modal over the page, or inside the element
 * `parentContainerID` names. onSuccess fires right after linking unless shouldSendTokenOnSuccessfulLink
 * is false (then when the dialog closes). onExit fires when the user closes the dialog without linking.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src).origin : window.location.origin;
  var config = null;
  var open = null; // { root, frame, lastFocus, token, metadata, sent }

  function call(name) {
    var fn = config && config[name];
    if (typeof fn !== "function") return;
    try {
      fn.apply(null, Array.prototype.slice.call(arguments, 1));
    } catch (e) {
      console.error("MergeLink " + name + " callback failed", e);
    }
  }

  function close(reason) {
    if (!open) return;
    var o = open;
    open = null;
    window.removeEventListener("message", onMessage);
    document.removeEventListener("keydown", onKey, true);
    o.root.parentNode && o.root.parentNode.removeChild(o.root);
    if (o.lastFocus && typeof o.lastFocus.focus === "function") o.lastFocus.focus();
    if (o.token !== null && !o.sent) call("onSuccess", o.token, o.metadata);
    else if (o.token === null && reason === "exit") call("onExit");
  }

  function onMessage(e) {
    if (!open || e.origin !== origin || e.source !== open.frame.contentWindow) return;
    var m = e.data || {};
    if (m.source !== "merge-sandbox-link") return;
    if (m.event === "success") {
      open.token = m.public_token;
      open.metadata = m.metadata || {};
      if (config.shouldSendTokenOnSuccessfulLink !== false) {
        open.sent = true;
        call("onSuccess", open.token, open.metadata);
      }
    } else if (m.event === "validation_error") {
      call("onValidationError", m.errors || []);
    } else if (m.event === "exit" || m.event === "close") {
      close(m.event);
    }
  }

  function onKey(e) {
    if (e.key === "Escape") {
      e.preventDefault();
      close("exit");
    }
  }

  function initialize(c) {
    if (!c || typeof c.linkToken !== "string" || !c.linkToken) {
      console.error("MergeLink.initialize needs a linkToken");
      return;
    }
    config = Object.assign({}, c);
    setTimeout(function () { call("onReady"); }, 0);
  }

  function openLink(c) {
    if (c) config = Object.assign({}, config || {}, c);
    if (!config || !config.linkToken) {
      console.error("MergeLink.openLink called before MergeLink.initialize");
      return;
    }
    if (open) return;
    var container = config.parentContainerID && document.getElementById(config.parentContainerID);
    var root = document.createElement("div");
    var frame = document.createElement("iframe");
    frame.title = "Connect your HR system";
    frame.src = origin + "/sandbox/link/dialog?mode=embed&link_token=" + encodeURIComponent(config.linkToken);
    frame.style.cssText = "border:0;background:#fff;border-radius:12px;width:min(440px,100%);height:min(640px,100%);box-shadow:0 10px 40px rgba(0,0,0,.3)";
    if (container) {
      frame.style.cssText = "border:0;width:100%;height:100%;min-height:560px";
    } else {
      root.setAttribute("role", "dialog");
      root.setAttribute("aria-modal", "true");
      root.setAttribute("aria-label", "Connect your HR system");
      root.style.cssText = "position:fixed;inset:0;z-index:2147483000;background:rgba(15,15,25,.55);display:flex;align-items:center;justify-content:center;padding:16px;box-sizing:border-box";
    }
    root.setAttribute("data-merge-link", "sandbox");
    root.appendChild(frame);
    (container || document.body).appendChild(root);
    open = { root: root, frame: frame, lastFocus: document.activeElement, token: null, metadata: null, sent: false };
    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", onKey, true);
    frame.addEventListener("load", function () { frame.focus(); });
  }

  window.MergeLink = {
    initialize: initialize,
    openLink: openLink,
    update: function (c) { config = Object.assign({}, config || {}, c || {}); },
    closeLink: function () { close("exit"); },
  };
})();
