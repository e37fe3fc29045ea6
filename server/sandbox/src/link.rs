//! Merge Link, simulated: `/initialize.js` (the browser interface of Merge's
//! `https://cdn.merge.dev/initialize.js`), the Link dialog it opens in an iframe, and magic links
//! (the same dialog as a hosted page).

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Form, Router,
};
use serde::Deserialize;

use super::{
    data::{logo_svg, DIRECTORY},
    state::{default_tenant, Completed, LinkError, Sandbox},
    webhook, DEMO_PASSWORD, DEMO_USERNAME,
};

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/initialize.js", get(initialize_js))
        .route("/sandbox/link/dialog", get(dialog).post(submit))
        .route("/sandbox/magic/{id}", get(magic))
        .route("/sandbox/logos/{file}", get(logo))
}

const INITIALIZE_JS: &str = include_str!("initialize.js");

async fn initialize_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INITIALIZE_JS,
    )
        .into_response()
}

async fn logo(Path(file): Path<String>) -> Response {
    let slug = file.trim_end_matches(".svg");
    match DIRECTORY.iter().find(|d| d.slug == slug) {
        Some(entry) => ([(header::CONTENT_TYPE, "image/svg+xml")], logo_svg(entry)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// After a link completes: `LinkedAccount.linked`, then (for a new account) the initial sync's webhook.
pub fn announce(sb: &Sandbox, done: &Completed) {
    webhook::linked(sb, &done.account, done.is_relink);
    if !done.is_relink {
        webhook::sync_completed(sb, &done.account);
    }
}

/// Whether the dialog runs inside Link's iframe (`embed`) or as a magic link page (`magic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Embed,
    Magic,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Embed => "embed",
            Mode::Magic => "magic",
        }
    }
}

#[derive(Debug, Deserialize)]
struct DialogQuery {
    link_token: String,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    integration: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Credentials {
    link_token: String,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    integration: Option<String>,
    /// Absent (a hand-made POST): the suggested tenant. Present but blank: an error.
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn url_enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a body puts its Cancel control; without it, Cancel gets a row of its own.
const CANCEL_SLOT: &str = "<!--cancel-->";

/// One screen of the dialog, with its Cancel control (postMessage in the iframe, a page otherwise).
///
/// Accessibility (axe scans the iframe too): `lang`, a title, one `main` landmark named by the one
/// `h1`, labels on every field, named buttons, visible focus, AA contrast. Keyboard: the first
/// control (or the heading) takes focus on load; in the iframe Tab and Shift+Tab wrap around inside
/// the dialog, and Escape cancels (key events inside an iframe never reach the host page).
fn page(mode: Mode, title: &str, body: &str, cancel: bool) -> Html<String> {
    let cancel = match (cancel, mode) {
        (false, _) => String::new(),
        (true, Mode::Embed) => r#"<button type="button" class="secondary" data-link-event="exit">Cancel</button>"#.to_string(),
        (true, Mode::Magic) => r#"<a class="secondary" href="/sandbox/magic/cancelled" data-link-event="exit">Cancel</a>"#.to_string(),
    };
    let body = if body.contains(CANCEL_SLOT) {
        body.replace(CANCEL_SLOT, &cancel)
    } else if cancel.is_empty() {
        body.to_string()
    } else {
        format!(r#"{body}<div class="actions">{cancel}</div>"#)
    };
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Merge Link (sandbox)</title>
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1f; background: #fff; }}
 main {{ max-width: 26rem; margin: 0 auto; padding: 1.5rem; }}
 .badge {{ font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: #5a5a66; margin: 0; }}
 h1 {{ font-size: 1.35rem; margin: .25rem 0 1rem; }}
 ul.systems {{ list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; }}
 ul.systems button {{ width: 100%; display: flex; gap: .75rem; align-items: center; padding: .6rem; border: 1px solid #8a8a96; border-radius: .5rem; background: #fff; color: #1b1b1f; text-align: left; }}
 ul.systems button:hover, ul.systems button:focus-visible {{ border-color: #3056d3; }}
 label {{ display: block; margin-top: .75rem; font-weight: 600; }}
 input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: .55rem; font: inherit; border: 1px solid #767680; border-radius: .375rem; }}
 input[aria-invalid=true] {{ border-color: #a1161d; }}
 .actions {{ display: flex; gap: .5rem; margin-top: 1.25rem; flex-wrap: wrap; }}
 button, a.secondary {{ font: inherit; padding: .55rem 1rem; border-radius: .375rem; border: 1px solid #3056d3; background: #3056d3; color: #fff; cursor: pointer; text-decoration: none; }}
 .secondary {{ background: #fff !important; color: #3056d3 !important; }}
 .error {{ color: #a1161d; background: #fdecec; padding: .6rem; border-radius: .375rem; }}
 .hint {{ font-size: .875rem; color: #5a5a66; margin: .25rem 0 0; }}
 :focus-visible {{ outline: 3px solid #b35c00; outline-offset: 2px; }}
</style></head>
<body><main aria-labelledby="title"><p class="badge">Merge Link · sandbox</p><h1 id="title" tabindex="-1">{title}</h1>
{body}
</main>
<script>
 (function () {{
   var inFrame = window.parent !== window;
   function send(msg) {{ msg.source = "merge-sandbox-link"; if (inFrame) window.parent.postMessage(msg, "*"); }}
   document.querySelectorAll("[data-link-event]").forEach(function (el) {{
     el.addEventListener("click", function (e) {{ if (inFrame) {{ e.preventDefault(); send({{ event: el.getAttribute("data-link-event") }}); }} }});
   }});
   if (inFrame) {{
     document.addEventListener("keydown", function (e) {{
       if (e.key === "Escape") {{ e.preventDefault(); send({{ event: "exit" }}); return; }}
       if (e.key !== "Tab") return;
       var f = Array.prototype.filter.call(
         document.querySelectorAll("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled])"),
         function (el) {{ return el.offsetParent !== null; }});
       if (!f.length) return;
       var first = f[0], last = f[f.length - 1], at = document.activeElement;
       if (e.shiftKey && (at === first || at === document.body || at.id === "title")) {{ e.preventDefault(); last.focus(); }}
       else if (!e.shiftKey && at === last) {{ e.preventDefault(); first.focus(); }}
     }});
   }}
   var done = document.getElementById("link-success");
   if (done) send({{ event: "success", public_token: done.getAttribute("data-public-token"),
     metadata: {{ isTokenForOtherPreexistingLinkedAccount: done.getAttribute("data-other-preexisting") === "true" }} }});
   var first = document.querySelector("[autofocus]") || document.getElementById("title");
   if (first) first.focus();
 }})();
</script></body></html>"#,
        title = esc(title),
    ))
}

fn error_page(mode: Mode, err: LinkError) -> Response {
    let status = match err {
        LinkError::UnknownToken => StatusCode::NOT_FOUND,
        LinkError::Expired | LinkError::Used => StatusCode::GONE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = format!(
        r#"<p class="error" role="alert">{}</p>"#,
        esc(&err.to_string())
    );
    (
        status,
        page(mode, "This link cannot be used", &body, mode == Mode::Embed),
    )
        .into_response()
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{name}" value="{}">"#,
        esc(value)
    )
}

/// What the sign-in form shows again after a refused attempt.
struct FormState<'a> {
    tenant: &'a str,
    username: &'a str,
    error: Option<LinkError>,
}

fn credentials_form(
    mode: Mode,
    link_token: &str,
    slug: &str,
    relink: bool,
    state: FormState<'_>,
) -> Html<String> {
    let name = DIRECTORY
        .iter()
        .find(|d| d.slug == slug)
        .map_or(slug, |d| d.name);
    let title = if relink {
        format!("Reconnect {name}")
    } else {
        format!("Sign in to {name}")
    };
    let error = state.error.map_or(String::new(), |e| {
        format!(
            r#"<p class="error" role="alert" id="form-error">{}</p>"#,
            esc(&e.to_string())
        )
    });
    // The field the error is about takes focus and is marked invalid.
    let (tenant_bad, password_bad) = match state.error {
        Some(LinkError::InvalidTenant) => (true, false),
        Some(_) => (false, true),
        None => (false, false),
    };
    let attrs = |bad: bool, autofocus: bool, hint: &str| {
        let mut a = String::new();
        let mut described = Vec::new();
        if !hint.is_empty() {
            described.push(hint);
        }
        if bad {
            a.push_str(r#" aria-invalid="true""#);
            described.push("form-error");
        }
        if !described.is_empty() {
            a.push_str(&format!(r#" aria-describedby="{}""#, described.join(" ")));
        }
        if autofocus {
            a.push_str(" autofocus");
        }
        a
    };
    let tenant_hint = if relink {
        format!("Your company's {name} domain, as last connected. Change it only to connect a different {name} account.")
    } else {
        format!("Your company's {name} domain.")
    };
    let body = format!(
        r#"{error}<form method="post" action="/sandbox/link/dialog" novalidate>
{hidden}
<label for="tenant">Company domain</label><input id="tenant" name="tenant" type="text" inputmode="url" autocapitalize="none" spellcheck="false" required value="{tenant}"{tenant_attrs}>
<p class="hint" id="tenant-hint">{tenant_hint}</p>
<label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="{user}"{user_attrs}>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required{password_attrs}>
<p class="hint" id="password-hint">Sandbox: any username, password <code>{password}</code>.</p>
<div class="actions"><button type="submit">{action}</button>{CANCEL_SLOT}</div></form>"#,
        hidden = [
            hidden("link_token", link_token),
            hidden("mode", mode.as_str()),
            hidden("integration", slug)
        ]
        .concat(),
        tenant = esc(state.tenant),
        tenant_hint = esc(&tenant_hint),
        tenant_attrs = attrs(
            tenant_bad,
            tenant_bad || state.error.is_none(),
            "tenant-hint"
        ),
        user = esc(state.username),
        user_attrs = attrs(false, false, ""),
        password_attrs = attrs(password_bad, password_bad, "password-hint"),
        password = DEMO_PASSWORD,
        action = if relink { "Reconnect" } else { "Connect" },
    );
    page(mode, &title, &body, true)
}

async fn dialog(State(sb): State<Arc<Sandbox>>, Query(q): Query<DialogQuery>) -> Response {
    let (session, existing) = {
        let inner = sb.lock();
        let now = inner.now();
        match inner.valid_session(&q.link_token, now) {
            Ok(s) => (
                s.clone(),
                inner.account_for_origin(&s.end_user.origin_id).cloned(),
            ),
            Err(e) => return error_page(q.mode, e),
        }
    };
    let org = esc(&session.end_user.organization_name);
    let keep = [
        hidden("link_token", &q.link_token),
        hidden("mode", q.mode.as_str()),
        hidden("consent", "1"),
    ]
    .concat();
    if q.consent.is_none() {
        let (title, intro) = match &existing {
            Some(a) => (
                "Update your HR system connection".to_string(),
                format!("Your {} connection for {org} needs your sign-in again. Its data stays in place.", esc(a.integration_entry().name)),
            ),
            None => ("Connect your HR system".to_string(), format!("{org} uses Merge to connect your HR system.")),
        };
        let integration = q
            .integration
            .as_deref()
            .map_or(String::new(), |i| hidden("integration", i));
        let body = format!(
            r#"<p>{intro}</p><p>By continuing you allow read access to employees, employments, teams, locations and groups.</p>
<form method="get" action="/sandbox/link/dialog">{keep}{integration}
<div class="actions"><button type="submit" autofocus>I agree, continue</button>{CANCEL_SLOT}</div></form>"#
        );
        return page(q.mode, &title, &body, true).into_response();
    }
    let slug = existing
        .as_ref()
        .map(|a| a.integration.clone())
        .or(session.integration.clone())
        .or(q.integration.clone())
        .filter(|s| DIRECTORY.iter().any(|d| d.slug == s && d.is_hris()));
    match slug {
        Some(slug) => {
            let tenant = existing
                .as_ref()
                .map_or_else(|| default_tenant(&session.end_user), |a| a.tenant.clone());
            let state = FormState {
                tenant: &tenant,
                username: DEMO_USERNAME,
                error: None,
            };
            credentials_form(q.mode, &q.link_token, &slug, existing.is_some(), state)
                .into_response()
        }
        None => {
            let items: String = DIRECTORY
                .iter()
                .filter(|d| d.is_hris())
                .enumerate()
                .map(|(i, d)| {
                    format!(
                        r#"<li><button type="submit" name="integration" value="{slug}"{focus}><img src="/sandbox/logos/{slug}.svg" alt="" width="32" height="32">{name}</button></li>"#,
                        slug = d.slug,
                        name = esc(d.name),
                        focus = if i == 0 { " autofocus" } else { "" },
                    )
                })
                .collect();
            let body = format!(
                r#"<form method="get" action="/sandbox/link/dialog">{keep}<ul class="systems" aria-label="HR systems">{items}</ul></form>"#
            );
            page(q.mode, "Choose your HR system", &body, true).into_response()
        }
    }
}

async fn submit(State(sb): State<Arc<Sandbox>>, Form(f): Form<Credentials>) -> Response {
    match sb.complete_link(
        &f.link_token,
        f.integration.as_deref(),
        // The form always sends the field; left blank it is an error, not the default.
        f.tenant
            .as_deref()
            .map(|t| if t.trim().is_empty() { "-" } else { t }),
        &f.username,
        &f.password,
    ) {
        Ok(done) => {
            announce(&sb, &done);
            let name = esc(done.account.integration_entry().name);
            let tenant = esc(&done.account.tenant);
            let what = if done.replaces.is_some() && !done.is_relink {
                format!("{name} is connected as a new connection (company domain {tenant}).")
            } else {
                format!("{name} is connected (company domain {tenant}).")
            };
            let body = match f.mode {
                Mode::Embed => format!(
                    r#"<p id="link-success" data-public-token="{token}" data-other-preexisting="{other}" role="status">{what}</p>
<div class="actions"><button type="button" data-link-event="close" autofocus>Done</button></div>"#,
                    token = esc(&done.public_token),
                    other = done.is_token_for_other_preexisting_linked_account(),
                ),
                Mode::Magic => format!(r#"<p role="status">{what} You can close this page.</p>"#),
            };
            page(f.mode, "Connected", &body, false).into_response()
        }
        Err(e @ (LinkError::WrongCredentials | LinkError::InvalidTenant)) => {
            let relink = {
                let inner = sb.lock();
                inner
                    .link_sessions
                    .get(&f.link_token)
                    .and_then(|s| inner.account_for_origin(&s.end_user.origin_id))
                    .is_some()
            };
            let slug = f.integration.clone().unwrap_or_default();
            let state = FormState {
                tenant: f.tenant.as_deref().unwrap_or_default(),
                username: &f.username,
                error: Some(e),
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                credentials_form(f.mode, &f.link_token, &slug, relink, state),
            )
                .into_response()
        }
        Err(e) => error_page(f.mode, e),
    }
}

/// A magic link: the dialog as a hosted page, refused after expiry or use.
async fn magic(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>) -> Response {
    if id == "cancelled" {
        return page(
            Mode::Magic,
            "Cancelled",
            "<p>Nothing was connected. You can open the link again while it is valid.</p>",
            false,
        )
        .into_response();
    }
    let checked = {
        let inner = sb.lock();
        let now = inner.now();
        match inner.magic_links.get(&id) {
            None => Err(LinkError::UnknownToken),
            Some(token) => inner.valid_session(token, now).map(|_| token.clone()),
        }
    };
    match checked {
        Ok(token) => Redirect::to(&format!(
            "/sandbox/link/dialog?link_token={}&mode=magic",
            url_enc(&token)
        ))
        .into_response(),
        Err(e) => error_page(Mode::Magic, e),
    }
}
