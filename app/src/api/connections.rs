//! Connections to HR systems (permission: Manage integrations). Thin: check, then `domain::connections`.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{ConnectionId, ConnectionView, Deletion, DirectoryEntry, LinkSession, TestOutcome},
};

#[cfg(feature = "ssr")]
fn admin() -> Result<crate::auth::Caller, AppError> {
    crate::auth::require(crate::model::Permission::ManageIntegrations)
}

#[server(endpoint = "connections/list")]
pub async fn list_connections() -> Result<Vec<ConnectionView>, AppError> {
    let c = admin()?;
    crate::domain::connections::list(&c.state, &c.identity).await
}

#[server(endpoint = "connections/directory")]
pub async fn hris_directory() -> Result<Vec<DirectoryEntry>, AppError> {
    let c = admin()?;
    c.state
        .directory
        .get(c.state.provider.as_ref(), c.identity.texts())
        .await
}

/// Connect → Create name.
#[server(endpoint = "connections/start")]
pub async fn start_connection(slug: String, name: String) -> Result<LinkSession, AppError> {
    let c = admin()?;
    crate::domain::connections::start_direct(&c.state, &c.identity, &slug, &name).await
}

/// Continue setup / Relink Flow.
#[server(endpoint = "connections/link_again")]
pub async fn link_again(id: ConnectionId) -> Result<LinkSession, AppError> {
    let c = admin()?;
    crate::domain::connections::link_again(&c.state, &c.identity, &id).await
}

/// Merge Link's onSuccess.
#[server(endpoint = "connections/finish_link")]
pub async fn finish_link(
    id: ConnectionId,
    public_token: String,
) -> Result<ConnectionView, AppError> {
    let c = admin()?;
    crate::domain::connections::finish_link(&c.state, &c.identity, &id, &public_token).await
}

#[server(endpoint = "connections/test")]
pub async fn test_connection(id: ConnectionId) -> Result<TestOutcome, AppError> {
    let c = admin()?;
    crate::domain::connections::test(&c.state, &c.identity, &id).await
}

#[server(endpoint = "connections/activate")]
pub async fn activate_connection(id: ConnectionId) -> Result<ConnectionView, AppError> {
    let c = admin()?;
    crate::domain::connections::activate(&c.state, &c.identity, &id).await
}

#[server(endpoint = "connections/deactivate")]
pub async fn deactivate_connection(id: ConnectionId) -> Result<ConnectionView, AppError> {
    let c = admin()?;
    crate::domain::connections::deactivate(&c.state, &c.identity, &id).await
}

#[server(endpoint = "connections/delete")]
pub async fn delete_connection(id: ConnectionId) -> Result<Deletion, AppError> {
    let c = admin()?;
    crate::domain::connections::delete(&c.state, &c.identity, &id).await
}

/// Other HR systems → Add connection (Name, ID, Token from the service desk).
#[server(endpoint = "connections/add_manual")]
pub async fn add_manual_connection(
    name: String,
    account_id: String,
    token: String,
) -> Result<ConnectionView, AppError> {
    let c = admin()?;
    crate::domain::connections::add_manual(&c.state, &c.identity, &name, &account_id, &token).await
}
