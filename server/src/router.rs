//! The HTTP surface: pages, server functions, the webhook receiver, the host platform's directory
//! API, operations endpoints, static files.
//!
//! Layers, outermost first: metrics (requests by route template and status), tracing, body limit,
//! security headers (CSP with a per-response nonce), the cross-site guard, the identity layer (who
//! is calling, resolved once; the session gate for server functions), field limits, the page
//! locale, the error status.

use std::{
    collections::HashSet,
    sync::{Arc, OnceLock},
};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use rand::RngCore;
use tower_http::{limit::RequestBodyLimitLayer, services::ServeDir, trace::TraceLayer};

use app::{auth::RequestIdentity, error::AppError, shell, state::AppState, telemetry, App};
use axum_prometheus::{EndpointLabel, GenericMetricLayer, MakeDefaultHandle, MetricLayerBuilder};

use crate::{assets, host_api, ops, webhooks};

/// Largest request body accepted anywhere (forms, server-function calls and webhooks are small).
pub const BODY_LIMIT: usize = 256 * 1024;
/// Longest single form field of a server-function call (ids: `app::input::ID_LIMIT`).
pub const FIELD_LIMIT: usize = app::input::TEXT_LIMIT;
/// Most form fields in one server-function call.
pub const FIELD_COUNT_LIMIT: usize = 32;

/// Where server functions live.
pub const API_PREFIX: &str = "/api/";

/// Routes the app adds besides pages and server functions, with who may call them. The
/// authorization test calls each of them.
pub const EXTRA_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "public: liveness"),
    ("GET", "/readyz", "public: readiness"),
    (
        "POST",
        "/webhooks/merge",
        "Merge only: HMAC signature over the body",
    ),
    (
        "GET",
        host_api::EMPLOYEES,
        "host platform: bearer host token with read_directory",
    ),
    (
        "GET",
        host_api::TEAMS,
        "host platform: bearer host token with read_directory",
    ),
    (
        "GET",
        host_api::LOCATIONS,
        "host platform: bearer host token with read_directory",
    ),
];

/// The app's routes, generated once per process. Leptos suppresses resource loading process-wide
/// while it generates a route list, so a second generation (tests build many routers in one process)
/// could leave a page that is rendering at that moment waiting forever (leptos-rs/leptos#4773).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn app(state: AppState) -> Router {
    let routes = route_list();
    let options = state.leptos_options.clone();
    let policy = Arc::new(SecurityPolicy::from_state(&state));
    let pkg = format!("/{}", options.site_pkg_dir);
    // The built wasm, js and css, as they are on disk: a precompressed sibling (`.br`, `.gz`, made
    // by the release build) when the client accepts it, else the file itself; no compression work
    // per request.
    let pkg_files =
        ServeDir::new(std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir))
            .precompressed_br()
            .precompressed_gzip();
    let immutable = Arc::new(assets::content_addressed(
        &options.site_root,
        &options.site_pkg_dir,
    ));
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/webhooks/merge", post(webhooks::receive))
        .merge(host_api::routes())
        .leptos_routes_with_context(&state, routes, provide_request_context, move || {
            shell(options.clone())
        })
        .nest_service(&pkg, pkg_files)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_request_context, shell))
        .layer(middleware::from_fn_with_state(immutable, static_cache))
        .layer(middleware::from_fn(error_status))
        .layer(middleware::from_fn(page_locale))
        .layer(middleware::from_fn(field_limits))
        .layer(middleware::from_fn_with_state(state.clone(), identify))
        .layer(middleware::from_fn_with_state(
            policy.clone(),
            cross_site_guard,
        ))
        .layer(middleware::from_fn_with_state(policy, security_headers))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .layer(http_metrics())
        .with_state(state)
}

/// The recorder is `app::telemetry`'s (installed with `HRIS_METRICS_ADDR`, else none): the HTTP
/// layer only records into it.
#[derive(Default)]
pub struct TelemetryRecorder;

impl MakeDefaultHandle for TelemetryRecorder {
    type Out = ();
    fn make_default_handle(self) -> Self::Out {}
}

/// Label of requests no route matched (pages not found, files from the site root): never the raw
/// path, which can carry anything.
pub const UNMATCHED_ROUTE: &str = "fallback";

/// Requests by route template (axum's `MatchedPath`) and status, with their latency
/// (`axum-prometheus`; names in `app::telemetry`). Built once per process: the crate sets its
/// metric names once.
pub fn http_metrics() -> GenericMetricLayer<'static, (), TelemetryRecorder> {
    static LAYER: OnceLock<GenericMetricLayer<'static, (), TelemetryRecorder>> = OnceLock::new();
    LAYER
        .get_or_init(|| {
            MetricLayerBuilder::new()
                .with_prefix(telemetry::HTTP_PREFIX)
                .with_endpoint_label_type(EndpointLabel::MatchedPathWithFallbackFn(|_| {
                    UNMATCHED_ROUTE.to_string()
                }))
                // Described with the other families by `telemetry::describe`.
                .no_initialize_metrics()
                .with_metrics_from_fn(|| ())
                .build_pair()
                .0
        })
        .clone()
}

/// `Cache-Control` of the built files under `/pkg/`: a year, immutable, for a content-addressed
/// file (`assets::content_addressed`); revalidated before each use for the others.
async fn static_cache(
    State(immutable): State<Arc<HashSet<String>>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/pkg/") {
        return next.run(req).await;
    }
    let cache = if immutable.contains(path) {
        assets::IMMUTABLE
    } else {
        assets::REVALIDATE
    };
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    res
}

/// The CSP nonce of one response, chosen by `security_headers` and used by Leptos for its scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Hands what the layers learned about the request to Leptos: the response's nonce (its hydration
/// scripts carry it) and who is calling (`auth::require` reads it).
fn provide_request_context() {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return;
    };
    if let Some(nonce) = parts.extensions.get::<CspNonce>() {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
    }
    if let Some(identity) = parts.extensions.get::<RequestIdentity>() {
        provide_context(identity.clone());
    }
}

/// What the security headers allow, from the settings.
#[derive(Debug, Clone)]
pub struct SecurityPolicy {
    /// `scheme://host[:port]` of `HRIS_PUBLIC_URL`.
    pub public_origin: String,
    /// `HRIS_ALLOWED_HOST_ORIGINS`.
    pub host_origins: Vec<String>,
    /// Origins of the provider: the Link script's and the API's (Merge's hosts, or the sandbox's).
    pub provider_origins: Vec<String>,
    pub production: bool,
}

/// The scheme of the listener: the server speaks plain HTTP (TLS, if any, ends at a proxy in front,
/// whose address is `HRIS_PUBLIC_URL`).
const LISTENER_SCHEME: &str = "http";

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        )
    })
}

impl SecurityPolicy {
    pub fn from_state(state: &AppState) -> Self {
        let s = &state.settings;
        let mut provider_origins: Vec<String> = [&s.link_script_url, &s.provider_base_url]
            .into_iter()
            .filter_map(|u| origin_of(u))
            .collect();
        provider_origins.dedup();
        SecurityPolicy {
            public_origin: origin_of(&s.public_url).unwrap_or_default(),
            host_origins: s.allowed_host_origins.clone(),
            provider_origins,
            production: s.production,
        }
    }

    /// The Content-Security-Policy of a response whose scripts carry `nonce`.
    pub fn csp(&self, nonce: &str) -> String {
        let provider = self.provider_origins.join(" ");
        let hosts = self.host_origins.join(" ");
        // `cargo leptos watch` reloads over a websocket in development.
        let dev_connect = if self.production {
            ""
        } else {
            " ws://127.0.0.1:* ws://localhost:*"
        };
        // Merge's integration logos come from its own storage hosts (not documented); images are
        // harmless, so production allows any https image.
        let images = if self.production { " https:" } else { "" };
        format!(
            "default-src 'self'; \
             script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval' {provider}; \
             style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: {provider}{images}; \
             font-src 'self' data:; \
             connect-src 'self' {provider}{dev_connect}; \
             frame-src {provider}; \
             frame-ancestors 'self' {hosts}; \
             form-action 'self'; \
             base-uri 'none'; \
             object-src 'none'"
        )
        .replace("  ", " ")
        .replace(" ;", ";")
    }

    /// True when a request with this `Origin` comes from the app's own pages: the public URL, or
    /// the address the request was sent to, over the listener's own scheme (a browser cannot forge
    /// either for a cross-site request). Scheme, host and port must all match: `https://` or
    /// `ftp://` in front of this server's plain-http address is another origin.
    fn own_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        origin == self.public_origin
            || host.is_some_and(|h| {
                origin
                    .strip_prefix(LISTENER_SCHEME)
                    .and_then(|o| o.strip_prefix("://"))
                    .is_some_and(|o| o.eq_ignore_ascii_case(h))
            })
    }
}

/// Security headers on every response; a fresh CSP nonce per request.
async fn security_headers(
    State(policy): State<Arc<SecurityPolicy>>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let nonce = URL_SAFE_NO_PAD.encode(raw);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&policy.csp(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin-allow-popups"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if policy.public_origin.starts_with("https://") {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

fn app_error(error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        serde_json::to_string(&error).unwrap_or_default(),
    )
        .into_response()
}

/// Server functions refuse cross-site callers: a browser's `Origin` must be the app's own (or,
/// for the host sign-in only, an allowed admin shell), and `Sec-Fetch-Site: cross-site` needs such
/// an `Origin`. The webhook route and pages are not server functions.
async fn cross_site_guard(
    State(policy): State<Arc<SecurityPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !path.starts_with(API_PREFIX) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let refused = match origin {
        // `Origin: null` (sandboxed frames, redirects) is never trusted.
        Some(o) => {
            let own = policy.own_origin(o, host);
            let shell = path == "/api/session/host_sign_in"
                && policy
                    .host_origins
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(o.trim_end_matches('/')));
            !(own || shell)
        }
        None => fetch_site == "cross-site" || fetch_site == "same-site",
    };
    if refused {
        tracing::warn!(
            path,
            origin = origin.unwrap_or("-"),
            fetch_site,
            "cross-site request refused"
        );
        return app_error(AppError::BadRequest(
            "cross-site requests are not accepted".into(),
        ))
        .map_status(StatusCode::FORBIDDEN);
    }
    next.run(req).await
}

trait MapStatus {
    fn map_status(self, status: StatusCode) -> Self;
}

impl MapStatus for Response {
    fn map_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

/// Resolves who is calling, once per request: the session cookie's identity goes into the
/// request's extensions (`RequestIdentity`), where the page locale, Leptos' context and every server
/// function read it. Static files under `/pkg/` need no identity. Server functions need a live
/// session unless declared public (`app::api::PUBLIC_ENDPOINTS`): 401 before the function runs,
/// whatever its arguments.
async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/pkg/") {
        return next.run(req).await;
    }
    let identity = match RequestIdentity::resolve(&state, req.headers()).await {
        Ok(identity) => identity,
        Err(e) => return app_error(e),
    };
    if path.starts_with(API_PREFIX) && !app::api::is_public(path) && identity.0.is_none() {
        return app_error(AppError::Unauthenticated);
    }
    req.extensions_mut().insert(identity);
    next.run(req).await
}

/// Form fields of server-function calls: at most `FIELD_COUNT_LIMIT` fields, each passing
/// `app::input::check` (no control characters except tab and line breaks in text, none in ids and
/// names; at most `FIELD_LIMIT` bytes, `app::input::ID_LIMIT` for ids). 400 with a message.
///
/// Server functions read any body as a form, whatever its declared `Content-Type` (or none), so
/// every body is checked as one, as is the query string.
async fn field_limits(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(API_PREFIX) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return app_error(AppError::BadRequest("the request is too large".into()))
                .map_status(StatusCode::PAYLOAD_TOO_LARGE)
        }
    };
    let query = parts.uri.query().unwrap_or("").as_bytes();
    for input in [query, &bytes[..]] {
        if let Err(message) = check_form(input) {
            return app_error(AppError::BadRequest(message));
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn check_form(input: &[u8]) -> Result<(), String> {
    if input.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(input)
        .map_err(|_| "the form is not valid URL encoding".to_string())?;
    if pairs.len() > FIELD_COUNT_LIMIT {
        return Err(format!("at most {FIELD_COUNT_LIMIT} fields are accepted"));
    }
    for (name, value) in &pairs {
        app::input::check(name, value).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Server functions answer every error with status 500 and the error as JSON. When that JSON is an
/// `AppError`, answer with the status it stands for instead (401, 403, 404, 422, 400...).
async fn error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Decides the language of a page before it renders (`?locale=`, else the signed-in user's, else
/// English) and hands it to the app in the request's extensions: the server's HTML and the
/// browser's hydration then agree (the browser reads it back from `<html lang>`).
async fn page_locale(mut req: Request, next: Next) -> Response {
    use app::{components::localized::query_value, i18n::Locale};
    if req.method() == axum::http::Method::GET && !req.uri().path().starts_with(API_PREFIX) {
        let from_query = req
            .uri()
            .query()
            .and_then(|q| query_value(q, "locale"))
            .map(|l| Locale::parse(&l));
        let locale = from_query.unwrap_or_else(|| {
            req.extensions()
                .get::<RequestIdentity>()
                .and_then(|r| r.0.as_ref())
                .map(|i| i.locale())
                .unwrap_or_default()
        });
        req.extensions_mut().insert(locale);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SecurityPolicy {
        SecurityPolicy {
            public_origin: "https://hris.example.com".into(),
            host_origins: vec!["https://shell.example.com".into()],
            provider_origins: vec![
                "https://cdn.merge.dev".into(),
                "https://api.merge.dev".into(),
            ],
            production: true,
        }
    }

    #[test]
    fn csp_allows_merge_and_the_host_shells_only() {
        let csp = policy().csp("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval' https://cdn.merge.dev https://api.merge.dev;"), "{csp}");
        assert!(
            csp.contains("frame-src https://cdn.merge.dev https://api.merge.dev;"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-ancestors 'self' https://shell.example.com;"),
            "{csp}"
        );
        // WebAssembly compiles under 'wasm-unsafe-eval'; JavaScript `eval` ('unsafe-eval') stays off.
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
        assert!(!csp.contains("ws://"), "no dev websocket in production");
    }

    #[test]
    fn http_metric_names_are_telemetrys() {
        let _layer = http_metrics();
        assert_eq!(
            axum_prometheus::utils::requests_total_name(),
            telemetry::HTTP_REQUESTS
        );
        assert_eq!(
            axum_prometheus::utils::requests_duration_name(),
            telemetry::HTTP_DURATION
        );
        assert_eq!(
            axum_prometheus::utils::requests_pending_name(),
            telemetry::HTTP_PENDING
        );
    }

    #[test]
    fn origins_are_compared_exactly() {
        let p = policy();
        assert!(p.own_origin("https://hris.example.com", None));
        assert!(p.own_origin("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(p.own_origin("HTTP://LocalHost:3000", Some("localhost:3000")));
        // Same host and port over another scheme is another origin.
        for other in [
            "https://127.0.0.1:3000",
            "ftp://127.0.0.1:3000",
            "ws://127.0.0.1:3000",
            "http://127.0.0.1:3001",
            "http://127.0.0.1",
            "127.0.0.1:3000",
        ] {
            assert!(!p.own_origin(other, Some("127.0.0.1:3000")), "{other}");
        }
        assert!(!p.own_origin("http://hris.example.com", None));
        assert!(!p.own_origin("https://evil.example.com", Some("hris.example.com")));
        assert!(!p.own_origin("https://shell.example.com", Some("hris.example.com")));
        assert!(!p.own_origin("null", Some("hris.example.com")));
        assert_eq!(
            origin_of("https://API.merge.dev/api"),
            Some("https://api.merge.dev".into())
        );
    }

    #[test]
    fn forms_are_checked_for_size_and_control_characters() {
        assert!(check_form(b"id=abc&name=%F0%9F%98%80%E2%80%AE").is_ok());
        assert!(check_form(b"name=a%00b").is_err());
        // Invalid UTF-8 decodes lossily (U+FFFD), as the server functions themselves read it.
        assert!(check_form(b"name=%ED%A0%80").is_ok());
        assert!(check_form(format!("t={}", "a".repeat(FIELD_LIMIT + 1)).as_bytes()).is_err());
        assert!(check_form("a=1&".repeat(FIELD_COUNT_LIMIT + 1).as_bytes()).is_err());
        // Ids are short and hold no control characters; field names neither.
        let id = "i".repeat(app::input::ID_LIMIT);
        assert!(check_form(format!("id={id}").as_bytes()).is_ok());
        assert!(check_form(format!("org_id={id}i").as_bytes()).is_err());
        assert!(check_form(b"id=a%0Ab").is_err());
        assert!(check_form(b"note=a%0D%0Ab%09c").is_ok());
        assert!(check_form(b"a%00b=x").is_err());
    }
}
