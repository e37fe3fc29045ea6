//! The organization's HRIS Integration settings (permission: Manage integrations).

use leptos::prelude::*;

use crate::{error::AppError, model::HrisSettings};

#[server(endpoint = "hris/settings")]
pub async fn load_hris_settings() -> Result<HrisSettings, AppError> {
    let caller = crate::auth::require(crate::model::Permission::ManageIntegrations)?;
    crate::domain::organization::hris_settings(&caller.state.db, &caller.identity).await
}

#[server(endpoint = "hris/set_enabled")]
pub async fn set_hris_enabled(enabled: bool) -> Result<HrisSettings, AppError> {
    let caller = crate::auth::require(crate::model::Permission::ManageIntegrations)?;
    crate::domain::organization::set_hris_enabled(&caller.state.db, &caller.identity, enabled).await
}
