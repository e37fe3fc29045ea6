/* HRIS Connect host script: embeds the HRIS Integration widget in an admin shell.
 *
 *   <script src="https://hris-connect.example.com/embed.js"></script>
 *   const widget = HrisConnect.mount(element, { baseUrl, token, locale, theme, onEvent });
 *   widget.unmount();
 *
 * The signed token goes to the widget by postMessage to the widget's exact origin, never "*".
 * Messages are accepted only from that origin and from that iframe.
 */
(function () {
  "use strict";
  function mount(element, options) {
    if (!element || !options || !options.baseUrl) throw new Error("HrisConnect.mount(element, { baseUrl, token, ... })");
    var base = new URL(options.baseUrl, window.location.href);
    var origin = base.origin;
    var params = new URLSearchParams();
    if (options.locale) params.set("locale", options.locale);
    if (options.theme && options.theme.mode) params.set("theme", options.theme.mode);
    var iframe = document.createElement("iframe");
    iframe.src = origin + base.pathname.replace(/\/$/, "") + "/embed/hris" + (params.toString() ? "?" + params : "");
    iframe.title = options.title || "HRIS Integration";
    iframe.setAttribute("allow", "clipboard-write");
    iframe.style.cssText = "display:block;width:100%;border:0;height:" + (options.initialHeight || 400) + "px";
    element.appendChild(iframe);
    var tokenSent = false;

    function send(message) {
      if (iframe.contentWindow) iframe.contentWindow.postMessage(message, origin);
    }
    function onMessage(e) {
      if (e.origin !== origin || e.source !== iframe.contentWindow) return;
      var m = e.data || {};
      if (m.source !== "hris-connect") return;
      if (m.type === "ready") {
        if (options.theme) send({ source: "hris-connect-host", type: "theme", theme: options.theme });
        if (!tokenSent && options.token && !(m.detail && m.detail.signedIn)) {
          tokenSent = true;
          send({ source: "hris-connect-host", type: "token", token: options.token });
          return;
        }
      }
      if (m.type === "resize" && m.detail && m.detail.height > 0) {
        iframe.style.height = m.detail.height + "px";
        return;
      }
      if (typeof options.onEvent === "function") {
        try { options.onEvent({ type: m.type, detail: m.detail || {} }); } catch (err) { console.error(err); }
      }
    }
    window.addEventListener("message", onMessage);
    return {
      iframe: iframe,
      unmount: function () {
        window.removeEventListener("message", onMessage);
        if (iframe.parentNode) iframe.parentNode.removeChild(iframe);
      },
    };
  }
  window.HrisConnect = { mount: mount };
})();
