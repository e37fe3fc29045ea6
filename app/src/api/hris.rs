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

/// The organization's timeline, a page at a time (pages count from 1).
#[server(endpoint = "hris/timeline")]
pub async fn hris_timeline(page: u32) -> Result<crate::model::TimelinePage, AppError> {
    let caller = crate::auth::require(crate::model::Permission::ManageIntegrations)?;
    crate::domain::timeline::own(&caller.state, &caller.identity, page).await
}

/// The banners of the organization's active connections that stopped working, in the page's
/// language (`locale`: the page's, which `?locale=` may have set apart from the user's).
#[server(endpoint = "hris/health_alerts")]
pub async fn load_health_alerts(locale: String) -> Result<crate::model::HealthAlerts, AppError> {
    let caller = crate::auth::require(crate::model::Permission::ManageIntegrations)?;
    let t = crate::i18n::Locale::parse(&locale).texts();
    crate::domain::health_watch::alerts(&caller.state, &caller.identity, t).await
}
