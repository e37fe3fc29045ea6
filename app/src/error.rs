//! The one error type users see. Internals are logged on the server and never cross the wire.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{
    i18n::{Texts, EN},
    model::Permission,
};

/// `Invalid`, `Conflict` and `Provider` carry text the server composed in the caller's locale; the
/// others are worded where they are shown, with [`AppError::message`]. `Display` is English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    Unauthenticated,
    Forbidden(Permission),
    NotFound,
    /// Input that fails a rule; `field` names the form field it belongs to.
    Invalid {
        field: String,
        message: String,
    },
    /// A request the server could not read (wrong types, missing fields, too large).
    BadRequest(String),
    /// The HR data provider failed; the text is the provider error's own words (never a raw body).
    Provider(String),
    /// The request contradicts the current state (e.g. relinking to another HR tenant).
    Conflict(String),
    Internal,
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(&EN))
    }
}

impl std::error::Error for AppError {}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The error in the words of `t`.
    pub fn message(&self, t: &Texts) -> String {
        match self {
            AppError::Unauthenticated => t.err_unauthenticated.to_string(),
            AppError::Forbidden(p) => (t.err_forbidden)(t.permission(*p)),
            AppError::NotFound => t.err_not_found.to_string(),
            AppError::Invalid { message, .. } => message.clone(),
            AppError::BadRequest(detail) if detail == EN.err_unreachable => {
                (t.err_bad_request)(t.err_unreachable)
            }
            AppError::BadRequest(detail) => (t.err_bad_request)(detail),
            AppError::Provider(m) | AppError::Conflict(m) => m.clone(),
            AppError::Internal => t.err_internal.to_string(),
        }
    }

    /// A provider failure, in the caller's words.
    #[cfg(feature = "ssr")]
    pub fn provider(e: crate::provider::ProviderError, t: &Texts) -> Self {
        tracing::warn!(error = ?e, "provider call failed");
        AppError::Provider(e.message(t))
    }

    /// The HTTP status this error answers with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::Invalid { .. } => 422,
            AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Provider(_) => 502,
            AppError::Internal => 500,
        }
    }

    /// Logs an internal failure and returns the generic error users see.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<crate::provider::ProviderError> for AppError {
    fn from(e: crate::provider::ProviderError) -> Self {
        tracing::warn!(error = ?e, "provider call failed");
        AppError::Provider(e.to_string())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
            | ServerFnErrorErr::Deserialization(m) => AppError::BadRequest(shorten(&m)),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                AppError::BadRequest(EN.err_unreachable.into())
            }
            ServerFnErrorErr::UnsupportedRequestMethod(m) => AppError::BadRequest(shorten(&m)),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                let _ = other;
                AppError::Internal
            }
        }
    }
}

fn shorten(message: &str) -> String {
    let mut s: String = message.chars().take(200).collect();
    if s.len() < message.len() {
        s.push('…');
    }
    s
}
