/* HRIS Connect widget side of the embedding protocol (loaded on /embed pages only).
 *
 * Talks only to the admin shell that frames this page, and only if its origin is one of the
 * configured host origins (HRIS_ALLOWED_HOST_ORIGINS, read from /api/embed/config).
 *   widget -> host: {source: "hris-connect", type: "ready" | "resize" | <event>, detail}
 *                   (the bridge's own "error" events: detail {code: "token_refused" | "unreachable",
 *                   message in the page's language})
 *   host -> widget: {source: "hris-connect-host", type: "token", token}
 *                   {source: "hris-connect-host", type: "theme", theme: {mode, colors, font, radius}}
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  var hostOrigin = null;
  var ancestors = window.location.ancestorOrigins;
  var candidate = ancestors && ancestors.length ? ancestors[0] : document.referrer ? new URL(document.referrer).origin : null;
  var queue = [];
  var pageLocale = new URLSearchParams(window.location.search).get("locale");
  // The page renders this script's error messages in its own language (data-* attributes).
  var texts = (document.currentScript && document.currentScript.dataset) || {};

  function post(type, detail) {
    var message = { source: "hris-connect", type: type, detail: detail || {} };
    if (hostOrigin) window.parent.postMessage(message, hostOrigin);
    else queue.push(message);
  }
  window.hrisConnectEmit = function (type, detail) { post(type, detail); };

  var cssVars = { accent: "--hc-accent", accentText: "--hc-accent-text", background: "--hc-bg",
    surface: "--hc-surface", text: "--hc-text", muted: "--hc-muted", border: "--hc-border" };
  function applyTheme(theme) {
    if (!theme) return;
    var root = document.documentElement;
    if (theme.mode === "dark" || theme.mode === "light") root.setAttribute("data-theme", theme.mode);
    var colors = theme.colors || {};
    Object.keys(cssVars).forEach(function (k) {
      if (typeof colors[k] === "string" && /^[#a-zA-Z0-9(),.%\s-]{1,64}$/.test(colors[k])) root.style.setProperty(cssVars[k], colors[k]);
    });
    if (typeof theme.font === "string" && theme.font.length < 200) root.style.setProperty("--hc-font", theme.font);
    if (typeof theme.radius === "string" && /^[0-9.]{1,5}(px|rem|em)$/.test(theme.radius)) root.style.setProperty("--hc-radius", theme.radius);
  }

  function onMessage(e) {
    if (!hostOrigin || e.origin !== hostOrigin || e.source !== window.parent) return;
    var m = e.data || {};
    if (m.source !== "hris-connect-host") return;
    if (m.type === "token" && typeof m.token === "string") {
      fetch("/api/session/host_sign_in", {
        method: "POST",
        credentials: "include",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        // The mount option's locale (in this page's URL) outlasts the reload as the session's.
        body: new URLSearchParams(pageLocale ? { token: m.token, locale: pageLocale } : { token: m.token }).toString(),
      }).then(function (r) {
        if (r.ok) window.location.reload();
        else post("error", { code: "token_refused", message: texts.tokenRefused });
      }, function () { post("error", { code: "unreachable", message: texts.unreachable }); });
    } else if (m.type === "theme") {
      applyTheme(m.theme);
    }
  }

  var lastHeight = 0;
  function reportSize() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    // A dialog or Merge Link's pop-up needs room even when the page itself is short.
    if (document.querySelector(".dialog-backdrop, [data-merge-link]")) height = Math.max(height, 720);
    if (height !== lastHeight) {
      lastHeight = height;
      post("resize", { height: height });
    }
  }

  fetch("/api/embed/config", { method: "POST", credentials: "include" })
    .then(function (r) { return r.json(); })
    .then(function (config) {
      var allowed = (config && config.host_origins) || [];
      if (!candidate || allowed.indexOf(candidate) < 0) {
        console.warn("HRIS Connect: the embedding page's origin is not an allowed host origin");
        return;
      }
      hostOrigin = candidate;
      window.addEventListener("message", onMessage);
      post("ready", { signedIn: !!document.querySelector("[data-signed-in]") });
      queue.splice(0).forEach(function (m) { window.parent.postMessage(m, hostOrigin); });
      reportSize();
      new ResizeObserver(reportSize).observe(document.documentElement);
      new MutationObserver(reportSize).observe(document.body, { childList: true, subtree: true });
    });
})();
