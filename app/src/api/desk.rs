//! The service-desk console (permission: Service desk). Works across organizations by role.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{
        ConnectionId, ConnectionView, MagicLinkId, MagicLinkView, OrganizationId,
        OrganizationOption,
    },
};

#[cfg(feature = "ssr")]
fn desk() -> Result<crate::auth::Caller, AppError> {
    crate::auth::require(crate::model::Permission::ServiceDesk)
}

#[server(endpoint = "desk/organizations")]
pub async fn desk_organizations() -> Result<Vec<OrganizationOption>, AppError> {
    let c = desk()?;
    crate::domain::magic_links::organizations(&c.state).await
}

#[server(endpoint = "desk/magic_links")]
pub async fn desk_magic_links(org_id: OrganizationId) -> Result<Vec<MagicLinkView>, AppError> {
    let c = desk()?;
    crate::domain::magic_links::list(&c.state, &c.identity, &org_id).await
}

/// Creates a 7-day magic link for the organization, optionally for one HR system (`slug` empty: any).
#[server(endpoint = "desk/issue_magic_link")]
pub async fn issue_magic_link(
    org_id: OrganizationId,
    slug: String,
) -> Result<MagicLinkView, AppError> {
    let c = desk()?;
    let slug = Some(slug.trim()).filter(|s| !s.is_empty());
    crate::domain::magic_links::issue(&c.state, &c.identity, &org_id, slug).await
}

#[server(endpoint = "desk/revoke_magic_link")]
pub async fn revoke_magic_link(
    org_id: OrganizationId,
    id: MagicLinkId,
) -> Result<MagicLinkView, AppError> {
    let c = desk()?;
    crate::domain::magic_links::revoke(&c.state, &c.identity, &org_id, &id).await
}

/// Reveals a used link's account token for handover; audited.
#[server(endpoint = "desk/reveal_token")]
pub async fn reveal_magic_link_token(
    org_id: OrganizationId,
    id: MagicLinkId,
) -> Result<String, AppError> {
    let c = desk()?;
    crate::domain::magic_links::reveal_token(&c.state, &c.identity, &org_id, &id).await
}

/// The organization's manually set-up connections, whose tokens the desk may replace.
#[server(endpoint = "desk/connections")]
pub async fn desk_connections(org_id: OrganizationId) -> Result<Vec<ConnectionView>, AppError> {
    let c = desk()?;
    let list = crate::domain::connections::list_for(&c.state, &c.identity, &org_id).await?;
    Ok(list
        .into_iter()
        .filter(|v| v.kind == crate::model::ConnectionKind::Manual)
        .collect())
}

#[server(endpoint = "desk/replace_token")]
pub async fn replace_connection_token(
    org_id: OrganizationId,
    id: ConnectionId,
    token: String,
) -> Result<ConnectionView, AppError> {
    let c = desk()?;
    crate::domain::connections::replace_token(&c.state, &c.identity, &org_id, &id, &token).await
}

/// The HR systems a magic link can be made for.
#[server(endpoint = "desk/directory")]
pub async fn desk_directory() -> Result<Vec<crate::model::DirectoryEntry>, AppError> {
    let c = desk()?;
    c.state
        .directory
        .get(c.state.provider.as_ref(), c.identity.texts())
        .await
}

/// The timeline of the organization the desk picked, a page at a time (pages count from 1).
#[server(endpoint = "desk/timeline")]
pub async fn desk_timeline(
    org_id: OrganizationId,
    page: u32,
) -> Result<crate::model::TimelinePage, AppError> {
    let c = desk()?;
    crate::domain::timeline::of(&c.state, c.identity.texts(), &org_id, page).await
}

/// Every webhook delivery received, newest first, a page at a time (pages count from 1).
#[server(endpoint = "desk/webhook_log")]
pub async fn desk_webhook_log(page: u32) -> Result<crate::model::WebhookLogPage, AppError> {
    let c = desk()?;
    crate::domain::webhooks::page(&c.state, c.identity.texts(), page).await
}

/// Replays a failed or ignored delivery from its stored body; audited.
#[server(endpoint = "desk/replay_webhook")]
pub async fn replay_webhook(
    id: crate::model::WebhookLogId,
) -> Result<crate::model::WebhookLogView, AppError> {
    let c = desk()?;
    crate::domain::webhooks::replay(&c.state, &c.identity, &id).await
}
