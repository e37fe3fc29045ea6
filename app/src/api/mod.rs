//! Server functions, one file per domain. Each checks identity and permission, then calls `domain`.
//!
//! A failed server function answers with its `AppError` as JSON; the server's router sets the HTTP
//! status from `AppError::status_code` (see `server/src/router.rs`), including for arguments that do
//! not parse, which never reach the function body.
pub mod connections;
pub mod desk;
pub mod embed;
pub mod hris;
pub mod session;
pub mod sync;

/// Server functions anyone may call without a session, by declaration. Every other server function
/// needs a live session: the server's router answers 401 before the function runs (and the function
/// itself checks its permission). A new server function is therefore protected by default; the
/// enumerated authorization test (`server/tests/authorization.rs`) calls every registered one.
pub const PUBLIC_ENDPOINTS: &[&str] = &[
    "/api/session/whoami",
    "/api/session/demo_users",
    "/api/session/dev_sign_in",
    "/api/session/sign_out",
    "/api/session/host_sign_in",
    "/api/embed/config",
];

/// True when `path` is a server function that needs no session.
pub fn is_public(path: &str) -> bool {
    PUBLIC_ENDPOINTS.contains(&path)
}
