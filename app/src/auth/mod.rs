//! Who is calling, and what they may do. Every server function starts here.

pub mod dev;
pub mod host;
pub mod session;

use crate::{
    error::AppError,
    model::{OrganizationId, Permission, UserId, Viewer},
    state::{app_state, AppState, AuthMode},
};

/// The signed-in user, as the server knows them (from the session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub org_id: OrganizationId,
    pub org_name: String,
    pub user_id: UserId,
    pub user_name: String,
    pub locale: String,
    pub permissions: Vec<Permission>,
}

impl Identity {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn viewer(&self, mode: AuthMode) -> Viewer {
        Viewer {
            user_name: self.user_name.clone(),
            organization_name: self.org_name.clone(),
            permissions: self.permissions.clone(),
            dev_mode: mode == AuthMode::DevSignIn,
            locale: self.locale(),
        }
    }

    /// The user's language, from the session.
    pub fn locale(&self) -> crate::i18n::Locale {
        crate::i18n::Locale::parse(&self.locale)
    }

    /// The texts of the user's language, for messages the server composes.
    pub fn texts(&self) -> &'static crate::i18n::Texts {
        self.locale().texts()
    }
}

/// A caller that passed the checks, with the state to do the work.
pub struct Caller {
    pub state: AppState,
    pub identity: Identity,
}

/// Who is calling, resolved once per request by the server's identity layer (one session lookup)
/// and handed to the request's extensions and to Leptos' context. `None`: no live session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestIdentity(pub Option<Identity>);

impl RequestIdentity {
    /// Resolves the session cookie in `headers`; the identity layer calls this once per request.
    pub async fn resolve(state: &AppState, headers: &http::HeaderMap) -> Result<Self, AppError> {
        session::identity_from_headers(state, headers)
            .await
            .map(RequestIdentity)
    }
}

/// The identity the layer resolved for this request (server functions and server-rendered pages).
pub fn request_identity() -> Result<Option<Identity>, AppError> {
    leptos::prelude::use_context::<RequestIdentity>()
        .map(|r| r.0)
        .ok_or_else(|| AppError::internal("context", "RequestIdentity missing (identity layer)"))
}

/// The current identity, if the request carries a live session.
pub fn current() -> Result<(AppState, Option<Identity>), AppError> {
    Ok((app_state()?, request_identity()?))
}

/// The caller, who must be signed in and hold `permission`; 401 or 403 otherwise.
pub fn require(permission: Permission) -> Result<Caller, AppError> {
    let (state, identity) = current()?;
    let identity = identity.ok_or(AppError::Unauthenticated)?;
    if !identity.can(permission) {
        tracing::info!(user = %identity.user_id, org = %identity.org_id, ?permission, "permission refused");
        return Err(AppError::Forbidden(permission));
    }
    Ok(Caller { state, identity })
}
