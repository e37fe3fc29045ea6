//! The organization's HRIS Integration switch.

use crate::{
    auth::Identity,
    error::AppError,
    model::HrisSettings,
    storage::{AuditAction, AuditEvent, AuditSubject, Db},
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
        let mut tx = db.begin().await?;
        tx.set_hris_enabled(&who.org_id, enabled).await?;
        tx.record_audit(&AuditEvent::new(
            &who.org_id,
            super::actor(who),
            if enabled {
                AuditAction::HrisEnabled
            } else {
                AuditAction::HrisDisabled
            },
            AuditSubject::Organization(who.org_id.clone()),
            format!(
                "HRIS Integration turned {}",
                if enabled { "on" } else { "off" }
            ),
        ))
        .await?;
        tx.commit().await?;
    }
    hris_settings(db, who).await
}
