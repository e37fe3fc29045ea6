//! The organization's HRIS Integration switch.

use crate::{
    auth::Identity,
    error::AppError,
    model::HrisSettings,
    storage::{AuditEvent, Db},
};

pub async fn hris_settings(db: &Db, who: &Identity) -> Result<HrisSettings, AppError> {
    let org = db.upsert_organization(&who.org_id, &who.org_name).await?;
    Ok(HrisSettings {
        organization_name: org.name,
        enabled: org.hris_enabled,
    })
}

/// Turns the feature on or off for the caller's organization and records who did it.
pub async fn set_hris_enabled(
    db: &Db,
    who: &Identity,
    enabled: bool,
) -> Result<HrisSettings, AppError> {
    let before = hris_settings(db, who).await?;
    if before.enabled != enabled {
        db.set_hris_enabled(&who.org_id, enabled).await?;
        db.record_audit(&AuditEvent::new(
            &who.org_id,
            &who.user_id,
            &who.user_name,
            if enabled {
                "hris.enabled"
            } else {
                "hris.disabled"
            },
            ("organization", &who.org_id),
            format!(
                "HRIS Integration turned {}",
                if enabled { "on" } else { "off" }
            ),
        ))
        .await?;
    }
    hris_settings(db, who).await
}
