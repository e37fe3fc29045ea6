//! The employee sync in the admin's hands (permission: Manage integrations). Thin: check, then
//! `domain::sync`.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{
        Activation, ConnectionId, ConnectionView, DirectoryPage, HeldRemovals, PreviewId,
        SyncHistoryPage, SyncOverview, SyncRunId, SyncRunView,
    },
};

#[cfg(feature = "ssr")]
fn admin() -> Result<crate::auth::Caller, AppError> {
    crate::auth::require(crate::model::Permission::ManageIntegrations)
}

/// The active connection's sync card; `None` when no connection is active.
#[server(endpoint = "sync/status")]
pub async fn sync_status() -> Result<Option<SyncOverview>, AppError> {
    let c = admin()?;
    crate::domain::sync::status::overview(&c.state, &c.identity).await
}

/// Sync now: queues a run of the active connection; refused while one is queued or running.
#[server(endpoint = "sync/now")]
pub async fn sync_now() -> Result<SyncRunView, AppError> {
    let c = admin()?;
    let run =
        crate::domain::sync::triggers::sync_now(&c.state, &c.identity, c.identity.texts()).await?;
    Ok(crate::domain::sync::status::run_view(&run))
}

/// The organization's sync runs, newest first, a page at a time (pages count from 1).
#[server(endpoint = "sync/history")]
pub async fn sync_history(page: u32) -> Result<SyncHistoryPage, AppError> {
    let c = admin()?;
    crate::domain::sync::status::history(&c.state, &c.identity, page).await
}

/// The removals the safety brake holds for a decision, if any.
#[server(endpoint = "sync/held")]
pub async fn load_held_removals() -> Result<Option<HeldRemovals>, AppError> {
    let c = admin()?;
    crate::domain::sync::status::held(&c.state, &c.identity).await
}

/// Apply removals (`apply` true) or Keep everyone (false) for run `id`'s held removals; audited.
/// Returns how many people left the directory.
#[server(endpoint = "sync/decide")]
pub async fn decide_removals(id: SyncRunId, apply: bool) -> Result<i64, AppError> {
    let c = admin()?;
    let decision = if apply {
        crate::storage::HoldState::Applied
    } else {
        crate::storage::HoldState::Kept
    };
    crate::domain::sync::removals::decide(&c.state, &c.identity, c.identity.texts(), &id, decision)
        .await
}

/// A page of the synced directory: `search` (start of a name or e-mail), `filter` (`active`,
/// `inactive`, `all`; empty: active), `after` (the previous page's `next`; empty: the first page).
#[server(endpoint = "sync/directory")]
pub async fn sync_directory(
    search: String,
    filter: String,
    after: String,
) -> Result<DirectoryPage, AppError> {
    let c = admin()?;
    crate::domain::sync::status::directory(&c.state, &c.identity, &search, &filter, &after).await
}

/// Activate, with a preview first when another connection feeds a directory with people.
#[server(endpoint = "sync/switch")]
pub async fn switch_source(id: ConnectionId) -> Result<Activation, AppError> {
    let c = admin()?;
    crate::domain::sync::status::switch(&c.state, &c.identity, &id).await
}

/// Confirm on the preview: the switch happens; returns the connection now active.
#[server(endpoint = "sync/confirm_switch")]
pub async fn confirm_switch(id: PreviewId) -> Result<ConnectionView, AppError> {
    let c = admin()?;
    crate::domain::sync::status::confirm_switch(&c.state, &c.identity, &id).await
}

/// Cancel on the preview: nothing changes.
#[server(endpoint = "sync/cancel_switch")]
pub async fn cancel_switch(id: PreviewId) -> Result<PreviewId, AppError> {
    let c = admin()?;
    crate::domain::sync::status::cancel_switch(&c.state, &c.identity, &id).await
}
